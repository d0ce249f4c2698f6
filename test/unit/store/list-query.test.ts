/**
 * A list's first screen read by index (store/list-query.ts) is exactly the start of the list the
 * screens derive from every row (lead.service filterLeads, deal-board dealBoard): same rows, same
 * order, ties included, so the screen does not change when the loaded records replace it.
 */
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { PartnerKpiDb, type DealRow, type LeadRow } from '../../../src/lib/store/db';
import { firstDealsOfStage, firstLeads, overdueDeals } from '../../../src/lib/store/list-query';
import { filterLeads, leadMatcher, type LeadFilter } from '../../../src/lib/leads/lead.service';
import { dealBoard, dealMatcher } from '../../../src/lib/deals/deal-board.svelte';
import { overdueDeals as overdueOfRows } from '../../../src/lib/deals/overdue-deals.svelte';
import { CHANNELS, LEAD_STATUSES, STAGES, isOpenStage } from '../../../src/lib/domain';
import { deal, lead } from '../../factories/records';

let names = 0;
const databases: PartnerKpiDb[] = [];
function freshDb(): PartnerKpiDb {
  const db = new PartnerKpiDb(`list-query-test-${++names}`);
  databases.push(db);
  return db;
}
afterEach(async () => {
  for (const db of databases.splice(0)) {
    db.close();
    await Dexie.delete(db.name);
  }
});

// Few distinct instants and ids of mixed length, so that ties and string order are exercised.
const idArb = fc.stringMatching(/^[A-Za-z0-9]{1,3}$/);
const instantArb = fc.constantFrom(1_000, 2_000, 3_000, 4_000);
const repArb = fc.constantFrom('r1', 'r2');

const leadRowsArb = fc
  .uniqueArray(
    fc.record({
      id: idArb,
      repId: repArb,
      createdAt: instantArb,
      status: fc.constantFrom(...LEAD_STATUSES),
      channel: fc.constantFrom(...CHANNELS),
      company: fc.constantFrom('Ganga', 'Yamuna'),
      deleted: fc.boolean(),
    }),
    { selector: (row) => row.id, minLength: 5, maxLength: 40 },
  )
  .map((rows) =>
    rows.map(({ deleted, ...fields }): LeadRow =>
      lead({ ...fields, ...(deleted ? { deletedAt: 9_000 } : {}) }),
    ),
  );

const dealRowsArb = fc
  .uniqueArray(
    fc.record({
      id: idArb,
      repId: repArb,
      stage: fc.constantFrom(...STAGES),
      amount: fc.integer({ min: 0, max: 10_000 }),
      date: fc.option(instantArb, { nil: undefined }),
      deleted: fc.boolean(),
      quarantined: fc.boolean(),
    }),
    { selector: (row) => row.id, minLength: 5, maxLength: 40 },
  )
  .map((rows) =>
    rows.map(({ deleted, date, stage, quarantined, ...fields }): DealRow => {
      // An open deal may have no expected close; a closed one without a close date is quarantined (as the document keeps it).
      const row = deal({
        ...fields,
        stage,
        createdAt: 500,
        ...(isOpenStage(stage) ? (date === undefined ? {} : { expectedCloseAt: date }) : { closedAt: date }),
        ...(deleted ? { deletedAt: 9_000 } : {}),
      });
      return quarantined || (!isOpenStage(stage) && date === undefined)
        ? { ...row, problems: [{ field: 'closedAt', message: 'missing' }] }
        : row;
    }),
  );

describe('a list’s first screen read by index', () => {
  it('gives the first leads of the list, for every filter and scope', async () => {
    await fc.assert(
      fc.asyncProperty(
        leadRowsArb,
        // Mostly no filter (the first screen), so that many rows match and ties are common.
        fc.record({
          search: fc.constantFrom('', '', '', 'gan', 'zzz'),
          status: fc.constantFrom('' as const, '' as const, '' as const, ...LEAD_STATUSES),
          channel: fc.constantFrom('' as const, '' as const, '' as const, ...CHANNELS),
        }),
        fc.option(repArb, { nil: undefined }),
        fc.integer({ min: 1, max: 12 }),
        async (rows, filter: LeadFilter, repId, limit) => {
          const db = freshDb();
          await db.leads.bulkPut(rows);
          expect(await firstLeads(db, leadMatcher(filter, repId), limit)).toEqual(
            filterLeads(rows, filter, repId).slice(0, limit),
          );
          db.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives the first deals of each stage in the board’s order, those without the date last', async () => {
    await fc.assert(
      fc.asyncProperty(
        dealRowsArb,
        fc.option(repArb, { nil: undefined }),
        fc.integer({ min: 1, max: 8 }),
        async (rows, repId, limit) => {
          const db = freshDb();
          await db.deals.bulkPut(rows);
          const board = dealBoard(rows, repId, () => limit);
          for (const column of board)
            expect(await firstDealsOfStage(db, column.stage, dealMatcher(repId), limit)).toEqual(
              column.deals,
            );
          db.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives Today’s overdue deals, longest overdue first, as the loaded records do', async () => {
    await fc.assert(
      fc.asyncProperty(
        dealRowsArb,
        fc.option(repArb, { nil: undefined }),
        fc.constantFrom(1_000, 2_500, 3_000, 5_000),
        async (rows, repId, now) => {
          const db = freshDb();
          await db.deals.bulkPut(rows);
          expect(await overdueDeals(db, now, dealMatcher(repId))).toEqual(overdueOfRows(rows, now, repId));
          db.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('finds a few matching rows among hundreds (read a batch at a time, then by cursor), as the loaded list does', async () => {
    const db = freshDb();
    // 600 leads and deals of rep r1, every 100th of rep r2: with batches of at most 128 rows, a rep's
    // first screen reads past several batches, then by cursor.
    const mostAtOnce = 128;
    const leads = Array.from({ length: 600 }, (_, i) =>
      lead({ id: `L${i}`, repId: i % 100 === 7 ? 'r2' : 'r1', createdAt: 1_000 + (i % 97) }),
    );
    const deals = Array.from({ length: 600 }, (_, i) =>
      deal({
        id: `D${i}`,
        repId: i % 100 === 7 ? 'r2' : 'r1',
        stage: 'proposal',
        expectedCloseAt: 5_000 + (i % 89),
      }),
    );
    await db.leads.bulkPut(leads);
    await db.deals.bulkPut(deals);
    const filter: LeadFilter = { search: '', status: '', channel: '' };
    for (const [repId, limit] of [
      ['r2', 3],
      ['r2', 10],
      ['r1', 51],
      [undefined, 51],
    ] as const) {
      expect(await firstLeads(db, leadMatcher(filter, repId), limit, mostAtOnce)).toEqual(
        filterLeads(leads, filter, repId).slice(0, limit),
      );
      const column = dealBoard(deals, repId, () => limit).find(
        (candidate) => candidate.stage === 'proposal',
      )!;
      expect(await firstDealsOfStage(db, 'proposal', dealMatcher(repId), limit, mostAtOnce)).toEqual(
        column.deals,
      );
    }
    // A search that matches nothing reads everything and finds nothing.
    expect(
      await firstLeads(db, leadMatcher({ ...filter, search: 'nothing like it' }), 51, mostAtOnce),
    ).toEqual([]);
  });
});
