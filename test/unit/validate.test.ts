import { describe, expect, it } from 'vitest';
import { validateDeal, validateLead, validateProgram, DEFAULT_STAGE_PROBABILITY, type Deal } from '../../src/lib/domain';

const deal: Deal = {
  id: 'D1', partnerId: 'p1', repId: 'r1', title: 'Licence', channel: 'paid', amount: 20_000, currency: 'INR', stage: 'proposal',
  probability: 50, createdAt: Date.UTC(2026, 0, 1), updatedAt: Date.UTC(2026, 0, 1),
};

describe('domain validation', () => {
  it('accepts a valid deal and trims its text', () => {
    const result = validateDeal({ ...deal, title: '  Licence  ' });
    expect(result.ok && result.value.title).toBe('Licence');
  });

  it('reports every problem at once, each with its field and a sentence', () => {
    const result = validateDeal({ ...deal, amount: -1, probability: 120, currency: 'rupees', channel: 'tv', title: '' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      { field: 'title', message: 'Title is required.' },
      { field: 'channel', message: 'Channel must be one of: paid, earned, owned, referral.' },
      { field: 'amount', message: 'Amount cannot be negative.' },
      { field: 'currency', message: 'Currency must be an ISO 4217 code such as INR or USD.' },
      { field: 'probability', message: 'Probability must be between 0 and 100.' },
    ]);
  });

  it('keeps amounts in whole minor units', () => {
    expect(validateDeal({ ...deal, amount: 10.5 })).toMatchObject({ ok: false, problems: [{ field: 'amount' }] });
  });

  it('sets closedAt exactly when won or lost, and lostReason only when lost', () => {
    expect(validateDeal({ ...deal, stage: 'won', probability: 100 })).toMatchObject({ ok: false, problems: [{ field: 'closedAt' }] });
    expect(validateDeal({ ...deal, closedAt: deal.createdAt })).toMatchObject({ ok: false, problems: [{ field: 'closedAt' }] });
    expect(validateDeal({ ...deal, stage: 'lost', probability: 0, closedAt: deal.createdAt, lostReason: 'price' }).ok).toBe(true);
    expect(validateDeal({ ...deal, stage: 'won', probability: 100, closedAt: deal.createdAt, lostReason: 'price' })).toMatchObject({
      ok: false,
      problems: [{ field: 'lostReason', message: 'Lost reason is only given for a lost deal.' }],
    });
  });

  it('checks ids, instants, emails and phones of a lead', () => {
    const result = validateLead({
      id: 'has space', partnerId: 'p1', repId: 'r1', createdAt: 1.5, channel: 'paid', status: 'new', company: 'A', contactName: 'B',
      email: 'nobody', phone: 'call me',
    });
    expect(!result.ok && result.problems.map((p) => p.field)).toEqual(['id', 'createdAt', 'phone', 'email']);
  });

  it('checks a program: currency, time zone and a probability for every stage', () => {
    const program = { id: 'demo', name: 'Demo', currency: 'INR', timeZone: 'Asia/Kolkata', stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY } };
    expect(validateProgram(program).ok).toBe(true);
    const bad = validateProgram({ ...program, timeZone: 'India/Delhi', stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY, won: 101 } });
    expect(!bad.ok && bad.problems.map((p) => p.field)).toEqual(['timeZone', 'stageProbabilities.won']);
  });
});

describe('missing fields', () => {
  it('names a required field that is absent altogether', () => {
    const { channel: _channel, ...withoutChannel } = deal;
    expect(validateDeal(withoutChannel)).toEqual({ ok: false, problems: [{ field: 'channel', message: 'Channel is required.' }] });
  });
});
