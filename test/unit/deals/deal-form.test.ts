/**
 * The deal form reads what people type as the screens show it (#13 item 13): the amount as
 * "₹5,00,000", "₹ 4.2 L" or in Devanagari digits, the probability in Devanagari digits or with "%".
 */
import { describe, expect, it } from 'vitest';
import { saveDeal, type DealForm } from '$lib/deals/deal.service';
import type { ReadySession } from '$lib/app/session';
import { DEFAULT_STAGE_PROBABILITY, type Program } from '$lib/domain';

const program: Program = {
  id: 'demo',
  name: 'Demo',
  currency: 'INR',
  timeZone: 'Asia/Kolkata',
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};

/** What the form stores for these fields (amount and probability), or its errors. */
async function saved(changes: Partial<DealForm>): Promise<Record<string, unknown>> {
  const created: Record<string, unknown>[] = [];
  const session = {
    program,
    identity: { programId: 'demo', partnerId: 'p1', repId: 'r1' },
    now: () => Date.UTC(2026, 0, 1),
    store: {
      createDeal: async (deal: Record<string, unknown>) => (created.push(deal), { ok: true, value: deal }),
    },
  } as unknown as ReadySession;
  const form: DealForm = {
    title: 'Licence',
    amount: '100',
    channel: 'paid',
    stage: 'proposal',
    probability: '50',
    expectedClose: '',
    closedOn: '',
    startedOn: '',
    lostReason: '',
    ...changes,
  };
  const result = await saveDeal(session, form);
  if ('errors' in result) return result.errors;
  return { amount: created[0]!['amount'], probability: created[0]!['probability'] };
}

describe('the deal form', () => {
  it('takes the amount in any form the screens show it', async () => {
    for (const amount of [
      '500000',
      '5,00,000',
      '₹5,00,000',
      '₹ 5,00,000',
      '500,000',
      '५,००,०००',
      '₹5 L',
      '₹ 5 लाख',
    ]) {
      await expect(saved({ amount }), amount).resolves.toEqual({ amount: 5_00_000_00, probability: 50 });
    }
    await expect(saved({ amount: '१२३४५' })).resolves.toMatchObject({ amount: 12_345_00 });
  });

  it('takes the probability in Devanagari digits or with a percent sign', async () => {
    await expect(saved({ probability: '६०' })).resolves.toMatchObject({ probability: 60 });
    await expect(saved({ probability: '60%' })).resolves.toMatchObject({ probability: 60 });
  });

  it('refuses what is not an amount, quoting it', async () => {
    await expect(saved({ amount: '12,5' })).resolves.toEqual({
      amount: `"12,5" is not an amount (digits, optionally a '.' and decimals; never negative).`,
    });
    await expect(saved({ amount: '₹4.2 X' })).resolves.toEqual({
      amount: `"₹4.2 X" is not an amount (digits, optionally a '.' and decimals; never negative).`,
    });
  });
});
