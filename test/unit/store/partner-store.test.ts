import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { PartnerKpiDb, SCHEMA_VERSIONS } from '../../../src/lib/store/db';
import { PartnerStore, describeStorageError, type RecordsChange } from '../../../src/lib/store/partner-store';
import { ListSummary } from '../../../src/lib/store/list-summary';
import { deal, lead } from '../../factories/records';
import { computeKpis, parsePeriod } from '../../../src/lib/kpi';
import { memoryJournals, type MemoryJournals } from '../../factories/memory-journal';
import { JournalFile } from '../../../src/lib/store/journal-file';
import * as Y from 'yjs';
import { openPartnerDoc, updateDeal, updateLead } from '../../../src/lib/sync/partner-doc';

const ROOM = 'program/demo/partner/p1';
const TZ = 'Asia/Kolkata';
let names = 0;
const databases: Dexie[] = [];
function freshDb(): PartnerKpiDb {
  const db = new PartnerKpiDb(`partner-store-test-${++names}`);
  databases.push(db);
  return db;
}
/** Opens the store (with the journals given, else none can be opened here) and waits until the document and rows are loaded too. */
async function openStore(db: PartnerKpiDb, journals?: MemoryJournals): Promise<PartnerStore> {
  const store = await PartnerStore.open(db, ROOM, TZ, journals?.open);
  await store.ready;
  return store;
}

afterEach(async () => {
  for (const db of databases.splice(0)) {
    db.close();
    await Dexie.delete(db.name);
  }
});

/** When the tests' imports run (after every record's own times). */
const IMPORT_AT = Date.UTC(2026, 0, 20);

const newLead = lead({
  id: 'L1',
  partnerId: 'p1',
  repId: 'r1',
  channel: 'referral',
  createdAt: Date.UTC(2026, 0, 5),
});
const openDeal = deal({
  id: 'D1',
  partnerId: 'p1',
  repId: 'r1',
  stage: 'proposal',
  probability: 50,
  amount: 40_000,
  createdAt: Date.UTC(2026, 0, 6),
  updatedAt: Date.UTC(2026, 0, 6),
});

/** Dexie's transactions of `db` (the rows' and buckets', not the log's) fail as on a full disk, until the returned function is called. */
function failDexieTransactions(db: PartnerKpiDb): () => void {
  const original = db.transaction;
  (db as unknown as { transaction: unknown }).transaction = () =>
    Promise.reject(new DOMException('disk full', 'QuotaExceededError'));
  return () => {
    db.transaction = original;
  };
}

/** The next row added to the update log fails as a full disk would; the returned function undoes it if no row was added. */
function failNextLogRow(): () => void {
  const add = IDBObjectStore.prototype.add;
  IDBObjectStore.prototype.add = function () {
    IDBObjectStore.prototype.add = add;
    throw new DOMException('disk full', 'QuotaExceededError');
  };
  return () => {
    IDBObjectStore.prototype.add = add;
  };
}

describe('partner store', () => {
  it('stores a valid lead in the document, the update log and the projection together', async () => {
    const db = freshDb();
    const store = await openStore(db);
    const result = await store.createLead(newLead);
    expect(result.ok).toBe(true);
    expect(await db.leads.get('L1')).toMatchObject({ id: 'L1', company: newLead.company });
    expect(await db.updates.where('room').equals(ROOM).count()).toBe(1);
    store.close();

    // Reopened from the log alone, the document has the lead.
    const reopened = await openStore(db);
    expect((await reopened.loadRows()).leads.map((row) => row.id)).toEqual(['L1']);
    reopened.close();
  });

  it('never lets invalid input reach storage, and says what is wrong by field', async () => {
    const db = freshDb();
    const store = await openStore(db);
    const result = await store.createDeal({ ...openDeal, amount: -5, title: '' }, 'r1');
    expect(result.ok).toBe(false);
    expect(!result.ok && 'problems' in result && result.problems.map((p) => p.field)).toEqual([
      'title',
      'amount',
    ]);
    expect(await db.deals.count()).toBe(0);
    expect(await db.updates.count()).toBe(0);
    store.close();
  });

  it('converts a lead into a deal with the lead’s channel, in one transaction, and records stage changes', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    const before = await db.updates.count();
    const {
      channel: _channel,
      leadId: _leadId,
      partnerId: _partnerId,
      ...dealInput
    } = { ...openDeal, id: 'D2' };
    const converted = await store.convertLead('L1', dealInput, 'r1', 'D-other');
    expect(converted.ok && converted.value).toMatchObject({ id: 'D2', leadId: 'L1', channel: 'referral' });
    expect(await db.updates.count()).toBe(before + 1);
    expect(await db.leads.get('L1')).toMatchObject({ status: 'converted' });

    const won = await store.updateDeal(
      'D2',
      { stage: 'won', probability: 100, closedAt: Date.UTC(2026, 0, 20), updatedAt: Date.UTC(2026, 0, 20) },
      'r2',
    );
    expect(won.ok).toBe(true);
    const row = await db.deals.get('D2');
    expect(row).toMatchObject({ stage: 'won', closedAt: Date.UTC(2026, 0, 20) });
    expect(row?.stageLog?.map((change) => [change.stage, change.by])).toEqual([
      ['proposal', 'r1'],
      ['won', 'r2'],
    ]);
    store.close();
  });

  it('refuses a change that would break an invariant (won without a close date) and keeps the deal as it was', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createDeal(openDeal, 'r1');
    const result = await store.updateDeal('D1', { stage: 'won', updatedAt: Date.UTC(2026, 0, 9) }, 'r1');
    expect(!result.ok && 'problems' in result && result.problems[0]?.field).toBe('closedAt');
    expect(await db.deals.get('D1')).toMatchObject({ stage: 'proposal' });
    store.close();
  });

  it('reports a change the document refuses (an id that exists) as a problem, writing nothing', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    const updates = await db.updates.count();
    const again = await store.createLead({ ...newLead, company: 'Another' });
    expect(again.ok).toBe(false);
    expect(!again.ok && 'problems' in again && again.problems.length).toBeGreaterThan(0);
    expect(await db.updates.count()).toBe(updates);
    expect(await db.leads.get('L1')).toMatchObject({ company: newLead.company });
    store.close();
  });

  it('deletes by setting deletedAt, never by removing the record', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createDeal(openDeal, 'r1');
    await store.deleteDeal('D1', Date.UTC(2026, 0, 10));
    expect(await db.deals.get('D1')).toMatchObject({ id: 'D1', deletedAt: Date.UTC(2026, 0, 10) });
    store.close();
  });

  it('imports many records at once; importing the same records again changes nothing', async () => {
    const db = freshDb();
    const store = await openStore(db);
    expect(await store.importRecords([newLead], [openDeal], 'r1', IMPORT_AT)).toMatchObject({ ok: true });
    const updates = await db.updates.count();
    expect(await store.importRecords([newLead], [openDeal], 'r1', IMPORT_AT)).toMatchObject({ ok: true });
    expect(await db.updates.count()).toBe(updates);
    expect(
      await store.importRecords([{ ...newLead, id: 'L9', company: '' }], [], 'r1', IMPORT_AT),
    ).toMatchObject({
      ok: false,
    });
    expect(await db.leads.count()).toBe(1);
    store.close();
  });

  it('an import of a file made before the device changed a record keeps the device’s change', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    await store.createDeal(openDeal, 'r1');
    await store.createDeal({ ...openDeal, id: 'D2' }, 'r1');
    // The file is exported now; then the device moves on: D1 gets a new amount, D2 and L1 are deleted.
    const [fileLead, fileDeal, fileDeal2] = [newLead, openDeal, { ...openDeal, id: 'D2' }];
    expect((await store.updateDeal('D1', { amount: 70_000, updatedAt: Date.UTC(2026, 0, 8) }, 'r1')).ok).toBe(
      true,
    );
    await store.deleteDeal('D2', Date.UTC(2026, 0, 9));
    await store.deleteLead('L1', Date.UTC(2026, 0, 9));

    // The old file, with an edit of its own in a spreadsheet (a title), imported again.
    const result = await store.importRecords(
      [fileLead],
      [{ ...fileDeal, title: 'Renamed' }, fileDeal2],
      'r1',
      IMPORT_AT,
    );
    expect(result).toEqual({ ok: true, value: { leads: 0, deals: 0, kept: 3 } });
    expect(await db.deals.get('D1')).toMatchObject({ amount: 70_000, title: openDeal.title });
    expect(await db.deals.get('D2')).toMatchObject({ deletedAt: Date.UTC(2026, 0, 9) });
    expect(await db.leads.get('L1')).toMatchObject({ deletedAt: Date.UTC(2026, 0, 9) });

    // A row as new as the device's copy (a fresh export, edited in a spreadsheet) is imported,
    // and the import is a change made here and now…
    const edited = { ...openDeal, title: 'Renamed', amount: 70_000, updatedAt: Date.UTC(2026, 0, 8) };
    expect(await store.importRecords([], [edited], 'r1', IMPORT_AT)).toEqual({
      ok: true,
      value: { leads: 0, deals: 1, kept: 0 },
    });
    expect(await db.deals.get('D1')).toMatchObject({
      amount: 70_000,
      title: 'Renamed',
      updatedAt: IMPORT_AT,
    });
    // …so the export as it was before the spreadsheet no longer undoes it…
    const fresh = { ...openDeal, amount: 70_000, updatedAt: Date.UTC(2026, 0, 8) };
    expect(await store.importRecords([], [fresh], 'r1', IMPORT_AT + 1)).toEqual({
      ok: true,
      value: { leads: 0, deals: 0, kept: 1 },
    });
    expect(await db.deals.get('D1')).toMatchObject({ title: 'Renamed' });
    // …and the edited file again changes nothing: as the device has it.
    const updates = await db.updates.count();
    expect(await store.importRecords([], [edited], 'r1', IMPORT_AT + 2)).toEqual({
      ok: true,
      value: { leads: 0, deals: 1, kept: 0 },
    });
    expect(await db.updates.count()).toBe(updates);
    store.close();
  });

  it('an import undoes no deletion and no conversion of the device, whatever the times say', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    await store.createDeal(openDeal, 'r1');
    // Another device edited D1 an hour later; this device's clock is behind: its deletion comes
    // "before" that edit, so it leaves updatedAt as it was.
    const edited = Date.UTC(2026, 0, 6, 1);
    expect((await store.updateDeal('D1', { amount: 50_000, updatedAt: edited }, 'r2')).ok).toBe(true);
    const fileDeal = (await db.deals.get('D1'))!;
    await store.deleteDeal('D1', Date.UTC(2026, 0, 6, 0, 30));
    expect(await db.deals.get('D1')).toMatchObject({
      updatedAt: edited,
      deletedAt: Date.UTC(2026, 0, 6, 0, 30),
    });
    // The lead is converted after the file was made.
    const {
      channel: _channel,
      leadId: _leadId,
      partnerId: _partnerId,
      ...dealInput
    } = { ...openDeal, id: 'D2' };
    expect(await store.convertLead('L1', dealInput, 'r1', 'D-other')).toMatchObject({ ok: true });

    // The row as a file has it: no deletedAt (files never carry it), no stage log, no row extras.
    const { stageLog: _log, deletedAt: _deleted, problems: _problems, alsoSet: _also, ...fileRow } = fileDeal;
    const result = await store.importRecords([newLead], [fileRow], 'r1', IMPORT_AT);
    expect(result).toEqual({ ok: true, value: { leads: 0, deals: 0, kept: 2 } });
    expect(await db.deals.get('D1')).toMatchObject({ deletedAt: Date.UTC(2026, 0, 6, 0, 30) });
    expect(await db.leads.get('L1')).toMatchObject({ status: 'converted' });
    store.close();
  });

  it('rebuilds the projection when it does not match the log', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    store.close();
    await db.leads.clear();
    await db.settings.delete('projection');
    const reopened = await openStore(db);
    expect(await db.leads.get('L1')).toMatchObject({ id: 'L1' });
    reopened.close();
  });

  it('takes rows marked by the previous app version as they are, without rebuilding them', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    store.close();
    await db.settings.put({ key: 'projection', value: { room: ROOM, version: 1 } });
    const row = await db.leads.get('L1');
    await db.leads.put({ ...row!, company: 'kept as stored' });
    const reopened = await openStore(db);
    expect((await db.leads.get('L1'))?.company).toBe('kept as stored');
    expect((await db.settings.get('projection'))?.value).toMatchObject({
      room: ROOM,
      version: 3,
      stateVector: expect.any(Uint8Array),
    });
    reopened.close();
  });

  it('upgrades a version-1 database: its rows are kept and written into the document once', async () => {
    const name = `partner-store-test-v1-${++names}`;
    const v1 = new Dexie(name);
    v1.version(1).stores(SCHEMA_VERSIONS[1]);
    await v1.table('leads').put(newLead);
    await v1.table('deals').put(openDeal);
    v1.close();

    const db = new PartnerKpiDb(name);
    databases.push(db);
    const store = await openStore(db);
    expect(db.verno).toBe(4);
    const rows = await store.loadRows();
    expect(rows.leads.map((row) => row.id)).toEqual(['L1']);
    expect(rows.deals.map((row) => row.id)).toEqual(['D1']);
    expect(await db.updates.where('room').equals(ROOM).count()).toBeGreaterThan(0);
    store.close();
    // Seeded once: reopening does not write the rows again.
    const updates = await db.updates.count();
    (await openStore(db)).close();
    expect(await db.updates.count()).toBe(updates);
  });

  it('keeps a change whose update could not be stored and stores it with the next write that can', async () => {
    const db = freshDb();
    const store = await openStore(db);
    const restore = failNextLogRow();
    try {
      const failed = await store.createLead(newLead);
      expect(!failed.ok && 'storageError' in failed && failed.storageError.kind).toBe('quota');
    } finally {
      restore();
    }
    // Neither the update nor the rows: the rows never get ahead of the log.
    expect(await db.updates.count()).toBe(0);
    expect(await db.leads.count()).toBe(0);
    const next = await store.createDeal(openDeal, 'r1');
    expect(next.ok).toBe(true);
    expect(store.storageError).toBeUndefined();
    expect((await db.leads.toArray()).map((row) => row.id)).toEqual(['L1']);
    store.close();
    const reopened = await openStore(db);
    expect((await reopened.loadRows()).leads).toHaveLength(1);
    reopened.close();
  });

  it('keeps rows that could not be stored and stores them with the next write that can', async () => {
    const db = freshDb();
    const store = await openStore(db);
    const release = failDexieTransactions(db);
    const failed = await store.createLead(newLead);
    expect(!failed.ok && 'storageError' in failed && failed.storageError.kind).toBe('quota');
    // The update is stored (the change is safe); its rows wait for the next write.
    expect(await db.updates.where('room').equals(ROOM).count()).toBe(1);
    expect(await db.leads.count()).toBe(0);
    release();
    expect((await store.createDeal(openDeal, 'r1')).ok).toBe(true);
    expect(store.storageError).toBeUndefined();
    expect((await db.leads.toArray()).map((row) => row.id)).toEqual(['L1']);
    store.close();
  });

  it('rebuilds rows left behind the log when the app stopped between the two commits', async () => {
    const db = freshDb();
    const store = await openStore(db);
    expect((await store.createLead(newLead)).ok).toBe(true);
    const release = failDexieTransactions(db);
    await store.createDeal(openDeal, 'r1');
    // As if the app stopped here: the deal's update is stored, its row and buckets are not.
    store.close();
    release();
    expect(await db.deals.count()).toBe(0);
    const reopened = await openStore(db);
    expect((await reopened.loadRows()).deals.map((row) => row.id)).toEqual(['D1']);
    const period = parsePeriod({ from: '2026-01-01', to: '2026-02-01', tz: TZ });
    if (!period.ok) throw new Error('bad period');
    expect(
      computeKpis(reopened.rollup(), { range: period.range, scope: { kind: 'all' } }).pipeline,
    ).toMatchObject({ count: 1, value: 40_000 });
    reopened.close();
    // Rows that match the log are not rebuilt: a reopen finds the marker current.
    const rows = await db.deals.get('D1');
    await db.deals.put({ ...rows!, title: 'kept as stored' });
    const again = await openStore(db);
    expect((await db.deals.get('D1'))?.title).toBe('kept as stored');
    again.close();
  });

  it('keeps the KPI buckets with the rows, and opens with them before the records are read', async () => {
    const db = freshDb();
    const store = await openStore(db);
    const won = { ...openDeal, stage: 'won' as const, probability: 100, closedAt: Date.UTC(2026, 0, 20) };
    await store.createDeal(won, 'r1');
    const period = parsePeriod({ from: '2026-01-01', to: '2026-02-01', tz: TZ });
    if (!period.ok) throw new Error('bad period');
    const query = { range: period.range, scope: { kind: 'all' } as const };
    expect(computeKpis(store.rollup(), query)).toMatchObject({ dealCount: 1, revenue: 40_000 });
    await store.deleteDeal('D1', Date.UTC(2026, 0, 21));
    expect(computeKpis(store.rollup(), query).dealCount).toBe(0);
    await store.updateDeal('D1', { deletedAt: undefined, updatedAt: Date.UTC(2026, 0, 22) }, 'r1');
    store.close();

    const reopened = await PartnerStore.open(db, ROOM, TZ);
    // Before the document and the rows are loaded, the stored buckets already answer.
    expect(computeKpis(reopened.rollup(), query)).toMatchObject({ dealCount: 1, revenue: 40_000 });
    await reopened.ready;
    expect(computeKpis(reopened.rollup(), query)).toMatchObject({ dealCount: 1, revenue: 40_000 });
    reopened.close();
  });

  it('rebuilds stored KPI buckets it cannot read, and shows the KPIs all the same', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createDeal(openDeal, 'r1');
    await store.close();
    const [chunk] = await db.rollup.toArray();
    await db.rollup.put({ key: chunk!.key, bytes: chunk!.bytes.slice(0, 7) });
    const reopened = await PartnerStore.open(db, ROOM, TZ);
    const period = parsePeriod({ from: '2026-01-01', to: '2026-02-01', tz: TZ });
    if (!period.ok) throw new Error('bad period');
    expect(
      computeKpis(reopened.rollup(), { range: period.range, scope: { kind: 'all' } }).pipeline,
    ).toMatchObject({ count: 1, value: 40_000 });
    expect((await db.rollup.get(chunk!.key))?.bytes.length).toBeGreaterThan(7);
    await reopened.close();
  });

  it('names storage problems in words a person understands', () => {
    expect(describeStorageError(new DOMException('x', 'QuotaExceededError')).kind).toBe('quota');
    expect(describeStorageError({ name: 'VersionError' }).message).toMatch(/another tab/);
    expect(describeStorageError(new Error('boom')).kind).toBe('unknown');
  });
});

/** Saves the open deal while the log's next row fails: the deal reaches the journal only. */
async function saveToJournalOnly(store: PartnerStore): Promise<void> {
  const restore = failNextLogRow();
  try {
    await store.createDeal(openDeal, 'r1');
  } finally {
    restore();
  }
}

describe('a list’s first screen, before the document is loaded', () => {
  const everyLead = () => true;
  const liveLead = (row: { deletedAt?: number }) => row.deletedAt === undefined;
  const everyDeal = () => true;
  /** The counts the lists show, from every stored row. */
  async function countsOfRows(db: PartnerKpiDb) {
    const summary = ListSummary.build(await db.leads.toArray(), await db.deals.toArray());
    return {
      leads: summary.leadCount({}),
      proposal: summary.stageTotal('proposal'),
      won: summary.stageTotal('won'),
    };
  }

  it('reads the first rows by index and the counts stored with them, without the document, and they match the loaded records', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.importRecords(
      [
        lead({ id: 'L1', createdAt: 1_000 }),
        lead({ id: 'L2', createdAt: 3_000 }),
        lead({ id: 'L3', createdAt: 2_000 }),
      ],
      [
        deal({ id: 'D1', stage: 'proposal', amount: 300, expectedCloseAt: Date.UTC(2026, 2, 2) }),
        deal({ id: 'D2', stage: 'proposal', amount: 200, expectedCloseAt: Date.UTC(2026, 2, 1) }),
      ],
      'r1',
      IMPORT_AT,
    );
    // Edits after the import: the stored counts follow every change of the rows.
    await store.updateLead('L3', { status: 'qualified' });
    await store.deleteLead('L1', 4_000);
    expect(
      (
        await store.updateDeal(
          'D1',
          { stage: 'won', probability: 100, closedAt: Date.UTC(2026, 1, 1), updatedAt: Date.UTC(2026, 1, 1) },
          'r1',
        )
      ).ok,
    ).toBe(true);
    await store.close();

    // As the session opens it: the lists ask for their first screen as soon as the store is open.
    const reopened = await PartnerStore.openBeforeKpis(db, ROOM, TZ);
    const [leads, proposal] = await Promise.all([
      reopened.firstLeads(liveLead, 10),
      reopened.firstDealsOfStage('proposal', everyDeal, 10),
    ]);
    // Read before the document and the KPI buckets: loading them waits for the first screen.
    expect(() => reopened.partnerDoc).toThrow(/still loading/);
    expect(
      computeKpis(reopened.rollup(), { range: { fromDay: 0, toDay: 100_000 }, scope: { kind: 'all' } })
        .dealCount,
    ).toBe(0);
    await reopened.kpisLoaded;
    expect(
      computeKpis(reopened.rollup(), { range: { fromDay: 0, toDay: 100_000 }, scope: { kind: 'all' } })
        .dealCount,
    ).toBe(1);
    expect(leads?.map((row) => row.id)).toEqual(['L2', 'L3']);
    expect(proposal?.map((row) => row.id)).toEqual(['D2']);
    const summary = reopened.listSummary()!;
    expect({
      leads: summary.leadCount({}),
      proposal: summary.stageTotal('proposal'),
      won: summary.stageTotal('won'),
    }).toEqual({ leads: 2, proposal: { count: 1, value: 200 }, won: { count: 1, value: 300 } });
    expect(summary.leadCount({ status: 'qualified' })).toBe(1);

    await reopened.ready;
    const rows = await reopened.loadRows();
    expect(leads).toEqual(rows.leads.filter(liveLead).sort((a, b) => b.createdAt - a.createdAt));
    expect(await countsOfRows(db)).toEqual({
      leads: summary.leadCount({}),
      proposal: summary.stageTotal('proposal'),
      won: summary.stageTotal('won'),
    });
    await reopened.close();
  });

  it('never shows another partner’s rows: the lists wait for the records of the partner opened', async () => {
    const db = freshDb();
    const first = await openStore(db);
    await first.createLead(newLead);
    await first.close();

    // Another partner opened (a vendor manager's switch): its first screen has none of the first one's rows.
    const other = await PartnerStore.open(db, 'program/demo/partner/p2', TZ);
    expect(await other.firstLeads(everyLead, 10)).toEqual([]);
    expect(other.listSummary()?.leadCount({})).toBe(0);
    await other.ready;
    expect((await db.settings.get('listSummary'))?.value).toMatchObject({
      room: 'program/demo/partner/p2',
      leads: [],
    });
    await other.close();

    // Stored rows of another room beside buckets of this one (however that came about): not read before the records are loaded.
    const back = await openStore(db);
    await back.close();
    await db.settings.put({ key: 'projection', value: { room: 'program/demo/partner/p2', version: 2 } });
    const reopened = await PartnerStore.open(db, ROOM, TZ);
    expect(reopened.listSummary()).toBeUndefined();
    expect(await reopened.firstLeads(everyLead, 10)).toBeUndefined();
    await reopened.ready;
    expect((await reopened.firstLeads(everyLead, 10))?.map((row) => row.id)).toEqual(['L1']);
    await reopened.close();
  });

  it('waits for the records when the rows have no counts stored with them (an earlier version wrote them), and stores them then', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    await store.close();
    await db.settings.delete('listSummary');
    const reopened = await PartnerStore.open(db, ROOM, TZ);
    expect(reopened.listSummary()).toBeUndefined();
    expect(await reopened.firstLeads(everyLead, 10)).toBeUndefined();
    await reopened.ready;
    expect((await db.settings.get('listSummary'))?.value).toMatchObject({
      room: ROOM,
      leads: [[newLead.repId, 'new', newLead.channel, 1]],
    });
    await reopened.close();
  });

  it('hands the rows read while loading to the screens once, with the changes stored since; none missed, none twice', async () => {
    const db = freshDb();
    const store = await openStore(db);
    await store.createLead(newLead);
    await store.close();

    const reopened = await openStore(db);
    // A change stored after loading read the rows, before the screens take them.
    await reopened.updateLead('L1', { company: 'Changed before follow' });
    await reopened.createDeal(openDeal, 'r1');
    const changes: string[] = [];
    let rows: RecordsChange | undefined;
    const stop = await reopened.follow(
      (loaded) => (rows = loaded),
      (change) =>
        changes.push(...change.leads.map((row) => row.company), ...change.deals.map((row) => row.title)),
    );
    expect(rows?.leads.map((row) => row.company)).toEqual(['Changed before follow']);
    expect(rows?.deals.map((row) => row.id)).toEqual(['D1']);
    expect(changes).toEqual([]);
    await reopened.updateLead('L1', { company: 'Changed after follow' });
    expect(changes).toEqual(['Changed after follow']);
    stop();

    // A second follower reads the rows again.
    const again = await new Promise<RecordsChange>((resolve) => void reopened.follow(resolve, () => {}));
    expect(again.leads.map((row) => row.company)).toEqual(['Changed after follow']);
    await reopened.close();
  });
});

describe('partner store with a write-ahead journal', () => {
  const january = () => {
    const period = parsePeriod({ from: '2026-01-01', to: '2026-02-01', tz: TZ });
    if (!period.ok) throw new Error('bad period');
    return period.range;
  };

  it('hands each save’s update and its mark to the journal, and lets the journal go once the log has it', async () => {
    const db = freshDb();
    const journals = memoryJournals();
    const store = await openStore(db, journals);
    expect((await store.createLead(newLead)).ok).toBe(true);
    const [file] = journals.records(ROOM);
    expect(file).toHaveLength(1);
    expect(file![0]!.localChanges).toEqual(store.syncLedger.localChanges());
    const [row] = await db.updates.toArray();
    expect(file![0]!.update).toEqual(row!.update);
    expect(journals.opened[0]!.dropped).toEqual([1]);
    await store.close();
    // Closed with everything in the log: its file is gone.
    expect(journals.files(ROOM).size).toBe(0);
  });

  it('recovers a save that reached the journal but not the log when the tab stopped', async () => {
    const db = freshDb();
    const journals = memoryJournals();
    const store = await openStore(db, journals);
    expect((await store.createLead(newLead)).ok).toBe(true);
    await saveToJournalOnly(store);
    const [mark] = store.syncLedger.localChanges().slice(-1);
    // The tab stops here: the deal is in its journal only.
    journals.opened[0]!.crash();
    expect(await db.updates.count()).toBe(1);

    const reopened = await openStore(db, journals);
    expect((await reopened.loadRows()).deals.map((row) => row.id)).toEqual(['D1']);
    expect(
      computeKpis(reopened.rollup(), { range: january(), scope: { kind: 'all' } }).pipeline,
    ).toMatchObject({ count: 1, value: 40_000 });
    // Stored in the log with its mark (the sync status counts it as not on the server yet), and the stopped tab's file removed.
    expect(await db.updates.count()).toBe(2);
    expect(reopened.syncLedger.localChanges()).toContainEqual(mark);
    expect([...journals.files(ROOM).keys()]).toEqual(['tab-2.journal']);
    await reopened.close();

    // The log alone has it now.
    const again = await openStore(db);
    expect((await again.loadRows()).deals.map((row) => row.id)).toEqual(['D1']);
    expect(again.syncLedger.localChanges()).toContainEqual(mark);
    again.close();
  });

  it('replays a stopped tab’s records the log already has without changing anything', async () => {
    const db = freshDb();
    const journals = memoryJournals();
    const store = await openStore(db, journals);
    expect((await store.createLead(newLead)).ok).toBe(true);
    journals.opened[0]!.crash();
    const reopened = await openStore(db, journals);
    expect(await db.updates.count()).toBe(1);
    expect(reopened.syncLedger.localChanges()).toHaveLength(1);
    expect(journals.files(ROOM).size).toBe(1);
    reopened.close();
  });

  it('opens all the same when a stopped tab left a record that is not an update, and keeps that file', async () => {
    const db = freshDb();
    const journals = memoryJournals();
    const store = await openStore(db, journals);
    await saveToJournalOnly(store);
    const handle = [...journals.files(ROOM).values()][0]!;
    new JournalFile(handle).append({ update: new Uint8Array([250, 1, 2, 3]), localChanges: [] });
    journals.opened[0]!.crash();
    const reopened = await openStore(db, journals);
    // The good record is replayed; the file stays for a later app version that can read the other.
    expect((await reopened.loadRows()).deals.map((row) => row.id)).toEqual(['D1']);
    expect(journals.files(ROOM).size).toBe(2);
    reopened.close();
  });

  it('leaves a file another open tab holds alone', async () => {
    const db = freshDb();
    const journals = memoryJournals();
    const first = await openStore(db, journals);
    expect((await first.createLead(newLead)).ok).toBe(true);
    const second = await openStore(db, journals);
    expect(journals.records(ROOM).map((records) => records.length)).toEqual([1, 0]);
    first.close();
    second.close();
  });

  it('looks again for a file that was held at open, as a reloaded page’s is for a moment', async () => {
    const db = freshDb();
    const journals = memoryJournals();
    const first = await openStore(db, journals);
    await saveToJournalOnly(first);
    // The next page opens while the first still holds its file; the first goes a moment later.
    const second = await openStore(db, journals);
    expect(await db.deals.count()).toBe(0);
    journals.opened[0]!.crash();
    await expect
      .poll(async () => (await db.deals.toArray()).map((row) => row.id), { timeout: 3_000 })
      .toEqual(['D1']);
    second.close();
  });

  it.each([
    ['cannot take a record', 'failAppends'],
    ['does not answer', 'hangAppends'],
  ] as const)('saves to IndexedDB alone, without waiting, when the journal %s', async (_, failure) => {
    const db = freshDb();
    const journals = memoryJournals();
    const store = await openStore(db, journals);
    journals.opened[0]![failure] = true;
    expect((await store.createLead(newLead)).ok).toBe(true);
    expect(await db.updates.count()).toBe(1);
    expect(store.storageError).toBeUndefined();
    store.close();
  });

  it('opens without a journal when none can be opened', async () => {
    const db = freshDb();
    const store = await PartnerStore.open(db, ROOM, TZ, () => Promise.reject(new Error('no OPFS here')));
    await store.ready;
    expect((await store.createLead(newLead)).ok).toBe(true);
    expect(await db.leads.count()).toBe(1);
    store.close();
  });
});

describe('a database held by an older tab', () => {
  it('waits, tells the session, and opens once the other tab lets go', async () => {
    const name = `partner-store-test-blocked-${++names}`;
    const older = new Dexie(name);
    older.version(1).stores(SCHEMA_VERSIONS[1]);
    await older.open();
    // An old tab that does not close on a version change (as an old app version might not).
    older.on('versionchange', () => false);

    const { Session } = await import('../../../src/lib/app/session');
    const session = new Session({ db: new PartnerKpiDb(name) });
    databases.push(session.db);
    const started = session.start();
    await expect.poll(() => session.blockedByOtherTab).toBe(true);
    older.close();
    await started;
    expect(session.blockedByOtherTab).toBe(false);
    expect(session.status).toBe('signin');
  });
});

describe('the edit log in the rows (sync SPEC S13)', () => {
  const NOW = Date.UTC(2026, 0, 7, 10, 14);

  /** This device (its store, editing as r1) and another device of the partner that set the company at the same time. */
  async function concurrentCompanies(db: PartnerKpiDb): Promise<PartnerStore> {
    const store = await PartnerStore.open(db, ROOM, TZ, undefined, { by: 'r1', now: () => NOW });
    await store.createLead(newLead);
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(store.partnerDoc.doc));
    const updates: Uint8Array[] = [];
    other.on('update', (update: Uint8Array) => updates.push(update));
    updateLead(openPartnerDoc(other), 'L1', { company: 'Set on the phone' }, { by: 'r2', at: NOW + 60_000 });
    expect((await store.updateLead('L1', { company: 'Set here' })).ok).toBe(true);
    Y.applyUpdate(store.partnerDoc.doc, updates[0]!, 'remote');
    await store.settled();
    return store;
  }

  it('S13: a row carries the value that lost a concurrent edit; the KPIs count the kept value alone', async () => {
    const db = freshDb();
    const store = await PartnerStore.open(db, ROOM, TZ, undefined, { by: 'r1', now: () => NOW });
    await store.createDeal(openDeal, 'r1');
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(store.partnerDoc.doc));
    const updates: Uint8Array[] = [];
    other.on('update', (update: Uint8Array) => updates.push(update));
    updateDeal(openPartnerDoc(other), 'D1', { amount: 90_000, updatedAt: NOW + 60_000 }, 'r2');
    expect((await store.updateDeal('D1', { amount: 60_000, updatedAt: NOW }, 'r1')).ok).toBe(true);
    Y.applyUpdate(store.partnerDoc.doc, updates[0]!, 'remote');
    await store.settled();

    const row = (await db.deals.get('D1'))!;
    const lost =
      row.amount === 60_000
        ? { value: 90_000, by: 'r2', at: NOW + 60_000 }
        : { value: 60_000, by: 'r1', at: NOW };
    expect(row.alsoSet).toEqual([{ field: 'amount', ...lost }]);
    const period = parsePeriod({ from: '2026-01-01', to: '2026-02-01', tz: TZ });
    if (!period.ok) throw new Error('bad period');
    expect(
      computeKpis(store.rollup(), { range: period.range, scope: { kind: 'all' } }).pipeline,
    ).toMatchObject({ count: 1, value: row.amount });
    store.close();

    // A lead's edits are logged as the store's editor (a lead has no updatedAt to say when).
    const leads = await concurrentCompanies(freshDb());
    expect((await leads.loadRows()).leads[0]?.alsoSet?.map((line) => line.field)).toEqual(['company']);
    leads.close();
  });

  it('S13: rows an older version projected get their lines once, without a rebuild of the others', async () => {
    const db = freshDb();
    const store = await concurrentCompanies(db);
    await store.createLead({ ...newLead, id: 'L2' });
    await store.settled();
    await store.close();
    // As version 2 left them: the same rows, no lines, the marker of version 2.
    const marker = (await db.settings.get('projection'))!.value as Record<string, unknown>;
    await db.settings.put({ key: 'projection', value: { ...marker, version: 2 } });
    const { alsoSet: _lines, ...withoutLines } = (await db.leads.get('L1'))!;
    await db.leads.put(withoutLines);
    await db.leads.put({ ...(await db.leads.get('L2'))!, company: 'untouched row' });
    const reopened = await openStore(db);
    expect((await db.leads.get('L1'))?.alsoSet).toHaveLength(1);
    expect((await db.leads.get('L2'))?.company).toBe('untouched row');
    reopened.close();
  });
});
