import { afterEach, describe, expect, it } from 'vitest';
import { getLocale, overwriteGetLocale, type Locale } from '$lib/paraglide/runtime';
import { m } from '$lib/paraglide/messages';
import { formFieldLabel, problemText, problemsText } from '$lib/app/problem-text';
import { errorsByField } from '$lib/app/forms';
import { saveDeal, type DealForm } from '$lib/deals/deal.service';
import type { ReadySession } from '$lib/app/session';
import {
  DEFAULT_STAGE_PROBABILITY,
  problem,
  validateDeal,
  validateLead,
  type Deal,
  type Program,
} from '$lib/domain';

// Under Node, setLocale cannot switch the language: the strategies (localStorage, preferred
// language, base locale) all need a browser. The app's language is what getLocale answers.
const appLocale = getLocale;
const speak = (locale: Locale) => overwriteGetLocale(() => locale);
afterEach(() => overwriteGetLocale(appLocale));

const deal: Deal = {
  id: 'D1',
  partnerId: 'p1',
  repId: 'r1',
  title: 'Licence',
  channel: 'paid',
  amount: 20_000,
  currency: 'INR',
  stage: 'proposal',
  probability: 50,
  createdAt: Date.UTC(2026, 0, 1),
  updatedAt: Date.UTC(2026, 0, 1),
};

function problemsOf(result: ReturnType<typeof validateDeal> | ReturnType<typeof validateLead>) {
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('problemText', () => {
  it('says a problem in English with the field label it is given', () => {
    const [title, channel, amount, , probability] = problemsOf(
      validateDeal({ ...deal, amount: -1, probability: 120, currency: 'rupees', channel: 'tv', title: '' }),
    );
    expect(problemText(title!, 'Title')).toBe('Title is required.');
    expect(problemText(channel!, 'Channel')).toBe('Channel must be one of: Paid, Earned, Owned, Referral.');
    expect(problemText(amount!, 'Amount')).toBe('Amount cannot be negative.');
    expect(problemText(probability!, 'Probability (%)')).toBe('Probability (%) must be between 0 and 100.');
  });

  it('says the same problems in Hindi, naming the field by its Hindi label', () => {
    speak('hi');
    const [title, channel, amount, , probability] = problemsOf(
      validateDeal({ ...deal, amount: -1, probability: 120, currency: 'rupees', channel: 'tv', title: '' }),
    );
    expect(problemText(title!, m.deal_title())).toBe('शीर्षक आवश्यक है।');
    expect(problemText(channel!, m.channel())).toBe('चैनल के लिए इनमें से एक चुनें: सशुल्क, अर्जित, स्वयं के, रेफ़रल।');
    expect(problemText(amount!, m.field_amount())).toBe('राशि: ऋणात्मक मान स्वीकार्य नहीं है।');
    expect(problemText(probability!, m.probability())).toBe('संभावना (%): 0 से 100 के बीच का मान दर्ज करें।');
  });

  it('names the params of a problem in either language', () => {
    const [company] = problemsOf(
      validateLead({
        id: 'L1',
        partnerId: 'p1',
        repId: 'r1',
        createdAt: 0,
        channel: 'paid',
        status: 'new',
        company: 'x'.repeat(201),
        contactName: 'B',
      }),
    );
    expect(problemText(company!, 'Company')).toBe('Company is longer than 200 characters.');
    expect(problemText(company!, 'कंपनी', { locale: 'hi' })).toBe('कंपनी में 200 से अधिक अक्षर हैं।');
  });

  it('takes the locale from options over the current language', () => {
    speak('hi');
    const required = problem('title', 'Title is required.', 'required');
    expect(problemText(required, 'Title', { locale: 'en' })).toBe('Title is required.');
    expect(problemText(required, m.deal_title())).toBe('शीर्षक आवश्यक है।');
  });

  it('keeps the English sentence of a problem without a code, or without a param its sentence needs', () => {
    speak('hi');
    expect(problemText({ field: 'id', message: 'There is no lead L9.' }, 'Id')).toBe('There is no lead L9.');
    expect(problemText(problem('company', 'Company is too long.', 'tooLong'), 'कंपनी')).toBe(
      'Company is too long.',
    );
  });

  it('has a sentence for the rules that tie fields together', () => {
    const [closedAt] = problemsOf(validateDeal({ ...deal, closedAt: deal.createdAt }));
    expect(problemText(closedAt!, 'Close date')).toBe(
      'Close date is set exactly when the deal is won or lost.',
    );
    expect(problemText(closedAt!, 'समापन तारीख', { locale: 'hi' })).toBe(
      'समापन तारीख केवल जीती या हारी डील के लिए है, और उसके लिए आवश्यक है।',
    );
  });
});

describe('form field labels', () => {
  it('are the labels of the lead and deal forms, in the current language', () => {
    expect(formFieldLabel('contactName')).toBe('Contact name');
    expect(formFieldLabel('amount')).toBe('Amount');
    expect(formFieldLabel('expectedCloseAt', { locale: 'hi' })).toBe('अपेक्षित समापन');
    speak('hi');
    expect(formFieldLabel('lostReason')).toBe('हारने का कारण');
    expect(formFieldLabel('stageLog.0.at')).toBeUndefined();
    expect(formFieldLabel('constructor')).toBeUndefined();
  });
});

describe('errorsByField', () => {
  const problems = () =>
    problemsOf(validateDeal({ ...deal, title: '', closedAt: 7, lostReason: 'price', createdAt: 1.5 }));

  it('shows each problem next to its field in the current language', () => {
    expect(errorsByField(problems())).toEqual({
      title: 'Title is required.',
      createdAt: 'Created must be a whole number of milliseconds.',
      closedAt: 'Close date is set exactly when the deal is won or lost.',
      lostReason: 'Lost reason is only given for a lost deal.',
    });
    speak('hi');
    expect(errorsByField(problems())).toEqual({
      title: 'शीर्षक आवश्यक है।',
      // No form shows when a deal was created: the domain's English sentence.
      createdAt: 'Created must be a whole number of milliseconds.',
      closedAt: 'समापन तारीख केवल जीती या हारी डील के लिए है, और उसके लिए आवश्यक है।',
      lostReason: 'हारने का कारण केवल हारी हुई डील के लिए है।',
    });
  });

  it('joins the problems of one field, and keeps problems of the record as a whole under form', () => {
    speak('hi');
    expect(
      errorsByField([
        problem('title', 'Title is required.', 'required'),
        problem('title', 'Title is longer than 200 characters.', 'tooLong', { max: 200 }),
        { field: '', message: 'The deal D1 was not changed' },
      ]),
    ).toEqual({ title: 'शीर्षक आवश्यक है। शीर्षक में 200 से अधिक अक्षर हैं।', form: 'The deal D1 was not changed' });
  });
});

describe('deal form conversion problems', () => {
  const program: Program = {
    id: 'demo',
    name: 'Demo',
    currency: 'INR',
    timeZone: 'Asia/Kolkata',
    stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
  };
  // Text that cannot be read is reported before anything is stored: no store is needed.
  const sessionIn = (currency: string) =>
    ({
      program: { ...program, currency },
      identity: { programId: 'demo', partnerId: 'p1', repId: 'r1' },
      now: () => Date.UTC(2026, 0, 1),
    }) as unknown as ReadySession;
  const form = (changes: Partial<DealForm>): DealForm => ({
    title: 'Licence',
    amount: '100',
    channel: 'paid',
    stage: 'proposal',
    probability: '50',
    expectedClose: '',
    closedOn: '',
    lostReason: '',
    startedOn: '',
    ...changes,
  });
  const errors = async (changes: Partial<DealForm>, currency = 'INR') => {
    const saved = await saveDeal(sessionIn(currency), form(changes));
    if (!('errors' in saved)) throw new Error('expected errors');
    return saved.errors;
  };

  it('are in English in English', async () => {
    await expect(errors({ amount: '-500', title: '' })).resolves.toEqual({
      title: 'Title is required.',
      amount: `"-500" is not an amount (digits, optionally a '.' and decimals; never negative).`,
    });
    await expect(errors({ amount: '' })).resolves.toEqual({ amount: 'Amount is required.' });
    await expect(errors({ amount: '1.234' })).resolves.toEqual({
      amount: '"1.234" has more than 2 decimals.',
    });
    await expect(errors({ amount: '1.5' }, 'JPY')).resolves.toEqual({
      amount: '"1.5" has decimals, but JPY has no minor unit.',
    });
    await expect(errors({ amount: '1'.repeat(20) })).resolves.toEqual({
      amount: `"${'1'.repeat(20)}" is too large.`,
    });
    await expect(errors({ probability: '12.5', expectedClose: '2026-02-30' })).resolves.toEqual({
      probability: 'Probability (%) must be a whole percentage.',
      expectedCloseAt: 'Expected close is not a date.',
    });
  });

  it('ask why a deal was lost before marking it lost', async () => {
    await expect(errors({ stage: 'lost', closedOn: '2025-12-20' })).resolves.toEqual({
      lostReason: 'Lost reason is required.',
    });
  });

  it('log a deal already won with its close date: it began that day, never after it closed (#13 item 1)', async () => {
    const created: Record<string, unknown>[] = [];
    const session = {
      ...sessionIn('INR'),
      store: {
        createDeal: async (deal: Record<string, unknown>) => (created.push(deal), { ok: true, value: deal }),
      },
    } as unknown as ReadySession;
    const saved = await saveDeal(session, form({ stage: 'won', closedOn: '2025-12-20' }));
    expect('id' in saved).toBe(true);
    expect(created[0]!['closedAt']).toBe(Date.parse('2025-12-20T12:00:00+05:30'));
    expect(created[0]!['createdAt']).toBe(created[0]!['closedAt']);
  });

  it('are in Hindi in Hindi', async () => {
    speak('hi');
    await expect(errors({ amount: '-500', title: '' })).resolves.toEqual({
      title: 'शीर्षक आवश्यक है।',
      amount: `"-500" मान्य राशि नहीं है (केवल अंक, चाहें तो '.' और दशमलव अंक; ऋणात्मक नहीं)।`,
    });
    await expect(errors({ amount: '' })).resolves.toEqual({ amount: 'राशि आवश्यक है।' });
    await expect(errors({ amount: '1.234' })).resolves.toEqual({ amount: '"1.234" में 2 से अधिक दशमलव अंक हैं।' });
    await expect(errors({ stage: 'won', closedOn: 'yesterday' })).resolves.toEqual({
      closedAt: 'समापन तारीख मान्य तारीख नहीं है।',
    });
    await expect(errors({ amount: '1.5' }, 'JPY')).resolves.toEqual({
      amount: '"1.5" में दशमलव हैं, पर JPY में कोई छोटी इकाई नहीं होती।',
    });
  });
});

describe('problemsText: a quarantined record’s problems on its page', () => {
  it('says them in the language, naming values as the form does (#13 item 13)', () => {
    speak('hi');
    const problems = problemsOf(validateDeal({ ...deal, channel: 'tv', title: '' }));
    expect(problemsText(problems)).toBe('शीर्षक आवश्यक है। चैनल के लिए इनमें से एक चुनें: सशुल्क, अर्जित, स्वयं के, रेफ़रल।');
    expect(problemsText(problems, { locale: 'en' })).toBe(
      'Title is required. Channel must be one of: Paid, Earned, Owned, Referral.',
    );
  });
});
