import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIST_SUMMARY_VERSION, ListSummary } from '../../../src/lib/store/list-summary';
import type { DealRow, LeadRow } from '../../../src/lib/store/db';
import { CHANNELS, LEAD_STATUSES, STAGES } from '../../../src/lib/domain';
import { deal, lead } from '../../factories/records';

const ROOM = 'program/demo/partner/p1';

describe('list summary', () => {
  it('counts live leads by rep, status and channel, and live deals by rep and stage with their amounts', () => {
    const summary = ListSummary.build(
      [
        lead({ id: 'L1', repId: 'r1', status: 'new', channel: 'paid' }),
        lead({ id: 'L2', repId: 'r2', status: 'new', channel: 'referral' }),
        lead({ id: 'L3', repId: 'r1', deletedAt: 5 }),
      ],
      [
        deal({ id: 'D1', repId: 'r1', stage: 'proposal', amount: 400 }),
        deal({ id: 'D2', repId: 'r2', stage: 'proposal', amount: 100 }),
        deal({ id: 'D3', repId: 'r1', stage: 'won', amount: 7 }),
        deal({ id: 'D4', stage: 'proposal', deletedAt: 9 }),
      ],
    );
    expect(summary.leadCount({})).toBe(2);
    expect(summary.leadCount({ repId: 'r1' })).toBe(1);
    expect(summary.leadCount({ status: 'new', channel: 'referral' })).toBe(1);
    expect(summary.leadCount({ status: 'qualified' })).toBe(0);
    expect(summary.stageTotal('proposal')).toEqual({ count: 2, value: 500 });
    expect(summary.stageTotal('proposal', 'r2')).toEqual({ count: 1, value: 100 });
    expect(summary.stageTotal('won', 'r1')).toEqual({ count: 1, value: 7 });
    expect(summary.stageTotal('lost')).toEqual({ count: 0, value: 0 });
  });

  it('follows a record that changes: its old part is taken out, its new one counted', () => {
    const summary = ListSummary.build(
      [lead({ id: 'L1', repId: 'r1', status: 'new' })],
      [deal({ id: 'D1', repId: 'r1', stage: 'proposal', amount: 400 })],
    );
    summary.upsertLead(lead({ id: 'L1', repId: 'r1', status: 'qualified' }));
    summary.upsertDeal(deal({ id: 'D1', repId: 'r1', stage: 'negotiation', amount: 500 }));
    expect(summary.leadCount({ status: 'new' })).toBe(0);
    expect(summary.leadCount({ status: 'qualified' })).toBe(1);
    expect(summary.stageTotal('proposal')).toEqual({ count: 0, value: 0 });
    expect(summary.stageTotal('negotiation')).toEqual({ count: 1, value: 500 });
    summary.upsertDeal(deal({ id: 'D1', repId: 'r1', stage: 'negotiation', amount: 500, deletedAt: 1 }));
    summary.upsertLead(lead({ id: 'L1', repId: 'r1', status: 'qualified', deletedAt: 1 }));
    expect(summary.stageTotal('negotiation')).toEqual({ count: 0, value: 0 });
    expect(summary.leadCount({})).toBe(0);
    expect(summary.toStored(ROOM)).toEqual({
      room: ROOM,
      version: LIST_SUMMARY_VERSION,
      leads: [],
      deals: [],
    });
  });

  it('counts a quarantined record as listed, with an amount that is not a number as nothing', () => {
    const broken = {
      ...deal({ id: 'D1', stage: 'proposal' }),
      amount: 'lots',
      problems: [{ field: 'amount', message: 'not a number' }],
    } as unknown as DealRow;
    const summary = ListSummary.build([], [broken, deal({ id: 'D2', stage: 'proposal', amount: 30 })]);
    expect(summary.stageTotal('proposal')).toEqual({ count: 2, value: 30 });
  });

  it('is stored as plain arrays and read back with the same counts, for its own room and version only', () => {
    const summary = ListSummary.build(
      [lead({ id: 'L1', repId: 'r1' }), lead({ id: 'L2', repId: 'r2', status: 'converted' })],
      [deal({ id: 'D1', stage: 'lost', amount: 3 })],
    );
    const stored = structuredClone(summary.toStored(ROOM));
    const read = ListSummary.fromStored(stored, ROOM)!;
    expect(read.leadCount({})).toBe(2);
    expect(read.leadCount({ status: 'converted' })).toBe(1);
    expect(read.stageTotal('lost')).toEqual({ count: 1, value: 3 });
    expect(read.toStored(ROOM)).toEqual(stored);
    expect(ListSummary.fromStored(stored, 'program/demo/partner/p2')).toBeUndefined();
    expect(ListSummary.fromStored({ ...stored, version: LIST_SUMMARY_VERSION + 1 }, ROOM)).toBeUndefined();
    expect(ListSummary.fromStored({ ...stored, leads: [['r1', 'new']] }, ROOM)).toBeUndefined();
    expect(ListSummary.fromStored(undefined, ROOM)).toBeUndefined();
  });

  it('after any sequence of changes, counts what counting the final rows gives', () => {
    const leadArb = fc.record({
      id: fc.constantFrom('L1', 'L2', 'L3', 'L4'),
      repId: fc.constantFrom('r1', 'r2'),
      status: fc.constantFrom(...LEAD_STATUSES),
      channel: fc.constantFrom(...CHANNELS),
      deleted: fc.boolean(),
    });
    const dealArb = fc.record({
      id: fc.constantFrom('D1', 'D2', 'D3'),
      repId: fc.constantFrom('r1', 'r2'),
      stage: fc.constantFrom(...STAGES),
      amount: fc.integer({ min: 0, max: 1_000_000 }),
      deleted: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            leadArb.map((l) => ({ lead: l })),
            dealArb.map((d) => ({ deal: d })),
          ),
          { maxLength: 40 },
        ),
        (changes) => {
          const summary = new ListSummary();
          const leads = new Map<string, LeadRow>();
          const deals = new Map<string, DealRow>();
          for (const change of changes) {
            if ('lead' in change) {
              const { deleted, ...fields } = change.lead;
              const row = lead({ ...fields, ...(deleted ? { deletedAt: 1 } : {}) });
              leads.set(row.id, row);
              summary.upsertLead(row);
            } else {
              const { deleted, ...fields } = change.deal;
              const row = deal({ ...fields, ...(deleted ? { deletedAt: 1 } : {}) });
              deals.set(row.id, row);
              summary.upsertDeal(row);
            }
          }
          const sorted = (stored: ReturnType<ListSummary['toStored']>) => ({
            ...stored,
            leads: [...stored.leads].sort(),
            deals: [...stored.deals].sort(),
          });
          expect(sorted(summary.toStored(ROOM))).toEqual(
            sorted(ListSummary.build([...leads.values()], [...deals.values()]).toStored(ROOM)),
          );
        },
      ),
    );
  });
});
