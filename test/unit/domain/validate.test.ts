import { describe, expect, it } from 'vitest';
import {
  validateDeal,
  validateLead,
  validateProgram,
  DEFAULT_STAGE_PROBABILITY,
  type Deal,
  type Problem,
} from '../../../src/lib/domain';

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

describe('domain validation', () => {
  it('accepts a valid deal and trims its text', () => {
    const result = validateDeal({ ...deal, title: '  Licence  ' });
    expect(result.ok && result.value.title).toBe('Licence');
  });

  it('reports every problem at once, each with its field and a sentence', () => {
    const result = validateDeal({
      ...deal,
      amount: -1,
      probability: 120,
      currency: 'rupees',
      channel: 'tv',
      title: '',
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toMatchObject([
      { field: 'title', message: 'Title is required.' },
      { field: 'channel', message: 'Channel must be one of: paid, earned, owned, referral.' },
      { field: 'amount', message: 'Amount cannot be negative.' },
      { field: 'currency', message: 'Currency must be an ISO 4217 code such as INR or USD.' },
      { field: 'probability', message: 'Probability must be between 0 and 100.' },
    ]);
  });

  it('keeps amounts in whole minor units', () => {
    expect(validateDeal({ ...deal, amount: 10.5 })).toMatchObject({
      ok: false,
      problems: [{ field: 'amount' }],
    });
  });

  it('sets closedAt exactly when won or lost, and lostReason only when lost', () => {
    expect(validateDeal({ ...deal, stage: 'won', probability: 100 })).toMatchObject({
      ok: false,
      problems: [{ field: 'closedAt' }],
    });
    expect(validateDeal({ ...deal, closedAt: deal.createdAt })).toMatchObject({
      ok: false,
      problems: [{ field: 'closedAt' }],
    });
    expect(
      validateDeal({ ...deal, stage: 'lost', probability: 0, closedAt: deal.createdAt, lostReason: 'price' })
        .ok,
    ).toBe(true);
    expect(
      validateDeal({
        ...deal,
        stage: 'won',
        probability: 100,
        closedAt: deal.createdAt,
        lostReason: 'price',
      }),
    ).toMatchObject({
      ok: false,
      problems: [{ field: 'lostReason', message: 'Lost reason is only given for a lost deal.' }],
    });
  });

  it('checks ids, instants, emails and phones of a lead', () => {
    const result = validateLead({
      id: 'has space',
      partnerId: 'p1',
      repId: 'r1',
      createdAt: 1.5,
      channel: 'paid',
      status: 'new',
      company: 'A',
      contactName: 'B',
      email: 'nobody',
      phone: 'call me',
    });
    expect(!result.ok && result.problems.map((p) => p.field)).toEqual(['id', 'createdAt', 'phone', 'email']);
  });

  it('checks a program: currency, time zone and a probability for every stage', () => {
    const program = {
      id: 'demo',
      name: 'Demo',
      currency: 'INR',
      timeZone: 'Asia/Kolkata',
      stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
    };
    expect(validateProgram(program).ok).toBe(true);
    const bad = validateProgram({
      ...program,
      timeZone: 'India/Delhi',
      stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY, won: 101 },
    });
    expect(!bad.ok && bad.problems.map((p) => p.field)).toEqual(['timeZone', 'stageProbabilities.won']);
  });
});

describe('missing fields', () => {
  it('names a required field that is absent altogether', () => {
    const { channel: _channel, ...withoutChannel } = deal;
    expect(validateDeal(withoutChannel)).toEqual({
      ok: false,
      problems: [{ field: 'channel', message: 'Channel is required.', code: 'required' }],
    });
  });
});

describe('problem codes', () => {
  const coded = (problems: Problem[]) => problems.map(({ field, code, params }) => ({ field, code, params }));

  it('gives every problem a code and the params its sentence names, keeping the English message', () => {
    const result = validateDeal({
      ...deal,
      amount: -1,
      probability: 120,
      currency: 'rupees',
      channel: 'tv',
      title: '',
    });
    expect(!result.ok && coded(result.problems)).toEqual([
      { field: 'title', code: 'required', params: undefined },
      { field: 'channel', code: 'notOneOf', params: { values: 'paid, earned, owned, referral' } },
      { field: 'amount', code: 'negative', params: undefined },
      { field: 'currency', code: 'notCurrency', params: undefined },
      { field: 'probability', code: 'percentRange', params: undefined },
    ]);
    expect(!result.ok && result.problems[1]?.message).toBe(
      'Channel must be one of: paid, earned, owned, referral.',
    );
  });

  it('codes the checks of each kind of field', () => {
    const lead = {
      id: 'L1',
      partnerId: 'p1',
      repId: 'r1',
      createdAt: Date.UTC(2026, 0, 1),
      channel: 'paid',
      status: 'new',
      company: 'A',
      contactName: 'B',
    };
    const bad = validateLead({
      ...lead,
      id: 'has space',
      createdAt: 1.5,
      company: 'x'.repeat(201),
      contactName: 7,
      email: 'nobody',
      phone: 'call me',
      qualifiedAt: Date.UTC(2101, 0, 1),
    });
    expect(!bad.ok && coded(bad.problems)).toEqual([
      { field: 'id', code: 'idFormat', params: undefined },
      { field: 'createdAt', code: 'notInstant', params: undefined },
      { field: 'company', code: 'tooLong', params: { max: 200 } },
      { field: 'contactName', code: 'notText', params: undefined },
      { field: 'phone', code: 'notPhone', params: undefined },
      { field: 'email', code: 'notEmail', params: undefined },
      { field: 'qualifiedAt', code: 'tooLate', params: { year: 2100 } },
    ]);
    expect(!bad.ok && bad.problems[2]?.message).toBe('Company is longer than 200 characters.');
    const early = validateLead({ ...lead, createdAt: -1 });
    expect(!early.ok && coded(early.problems)).toEqual([
      { field: 'createdAt', code: 'tooEarly', params: { year: 1970 } },
    ]);
  });

  it('codes money, percentages and absent fields', () => {
    expect(codesOf(validateDeal({ ...deal, amount: 10.5 }))).toEqual(['notWholeMinor']);
    expect(codesOf(validateDeal({ ...deal, amount: 'ten' }))).toEqual(['notNumber']);
    expect(codesOf(validateDeal({ ...deal, amount: Number.MAX_SAFE_INTEGER + 2 }))).toEqual(['tooLarge']);
    expect(codesOf(validateDeal({ ...deal, probability: 12.5 }))).toEqual(['notWholePercent']);
    const { channel: _channel, ...withoutChannel } = deal;
    const missing = validateDeal(withoutChannel);
    expect(!missing.ok && missing.problems[0]).toMatchObject({
      field: 'channel',
      message: 'Channel is required.',
      code: 'required',
    });
  });

  it('codes the rules that tie fields together', () => {
    expect(codesOf(validateDeal({ ...deal, closedAt: deal.createdAt }))).toEqual(['closedAtIffClosed']);
    // Closed before it was created: a negative sales cycle in every figure.
    const won = { ...deal, stage: 'won', probability: 100 };
    expect(codesOf(validateDeal({ ...won, closedAt: deal.createdAt - 1 }))).toEqual(['closedBeforeCreated']);
    expect(validateDeal({ ...won, closedAt: deal.createdAt }).ok).toBe(true);
    const wonWithReason = validateDeal({
      ...deal,
      stage: 'won',
      probability: 100,
      closedAt: deal.createdAt,
      lostReason: 'price',
    });
    expect(!wonWithReason.ok && wonWithReason.problems[0]).toMatchObject({
      field: 'lostReason',
      message: 'Lost reason is only given for a lost deal.',
      code: 'lostReasonOnlyLost',
    });
  });

  it('codes a program: currency, time zone, stage probabilities (naming the stage) and a stage history', () => {
    const program = {
      id: 'demo',
      name: 'Demo',
      currency: 'INR',
      timeZone: 'Asia/Kolkata',
      stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
    };
    const bad = validateProgram({
      ...program,
      timeZone: 'India/Delhi',
      stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY, won: 101, lost: 0.5 },
    });
    expect(!bad.ok && coded(bad.problems)).toEqual([
      { field: 'timeZone', code: 'notTimeZone', params: undefined },
      { field: 'stageProbabilities.won', code: 'percentRange', params: { stage: 'won' } },
      { field: 'stageProbabilities.lost', code: 'notWholePercent', params: { stage: 'lost' } },
    ]);
    expect(codesOf(validateProgram({ ...program, stageProbabilities: 'all 50' }))).toEqual(['everyStage']);
    expect(codesOf(validateDeal({ ...deal, stageLog: 'moved' }))).toEqual(['notStageLog']);
    // A check with valibot's own message has no code of its own.
    expect(codesOf(validateDeal({ ...deal, stageLog: [{ stage: 'won', at: -1, by: 'r1' }] }))).toEqual([
      'invalid',
    ]);
  });

  it('keeps code and params as plain data, so they survive copies and storage', () => {
    const result = validateDeal({ ...deal, title: 'x'.repeat(201) });
    const [first] = result.ok ? [] : result.problems;
    expect(structuredClone(first)).toEqual({
      field: 'title',
      message: 'Title is longer than 200 characters.',
      code: 'tooLong',
      params: { max: 200 },
    });
  });
});

function codesOf(result: ReturnType<typeof validateDeal> | ReturnType<typeof validateProgram>) {
  return result.ok ? [] : result.problems.map((p) => p.code);
}
