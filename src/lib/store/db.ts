/**
 * The device's IndexedDB database (Dexie): the Yjs update log of each document, by room (the
 * partners' documents and the program's, room-log.ts), the projected `leads` and `deals` that the
 * screens read, and settings. The only module that knows the IndexedDB schema; the rest of the app
 * reaches it through the stores of this folder (partner-store.ts, program-store.ts, room-log.ts).
 *
 * Versions:
 * - 1: leads, deals and settings only (records kept as rows; no document).
 * - 2: the Yjs update log (`updates`) becomes the source of truth and the rows its projection;
 *      indexes for the screens' queries. Upgrading keeps the version-1 rows; the partner store then
 *      writes them into the partner document once (see `SEED_FROM_ROWS`).
 * - 3: `rollup`, the KPI buckets of the projected records, kept with the rows; so the KPIs show
 *      before the records are read. Built from the rows on first open. A row is 32 days of one
 *      series (kpi/packed.ts, packSeriesChunks), in the packed binary form (StoredChunk), so that a
 *      save rewrites a few KB and opening reads little; the partner store's rollup marker says which
 *      layout the rows have and rebuilds them when it changes (no schema version needed).
 * - 4: indexes of the Deals board's order within a stage (`[stage+expectedCloseAt]`,
 *      `[stage+closedAt]`), so that a list's first screen is read by index before the document is
 *      loaded (list-query.ts). IndexedDB builds them from the rows on upgrade.
 */
import { Dexie, type EntityTable, type Table } from 'dexie';
import type { Deal, Lead } from '../domain/schema';
import type { Problem } from '../domain/validate';
import type { StoredChunk } from '../kpi/packed';
import type { LocalChange } from '../sync/pending-changes';
import type { AlsoSet } from '../sync/record-layout';

export const DB_NAME = 'partner-kpi';

/** One Yjs update of a room's document, in the order it was applied on this device. */
export interface UpdateRow {
  seq?: number;
  room: string;
  update: Uint8Array;
  /**
   * The marks of the local changes in this update that the sync server may not have yet (sync
   * SPEC.md C3); absent for remote updates. Not indexed, so no schema version was needed.
   */
  localChanges?: LocalChange[];
}

/**
 * A projected record: the record as the document says it is, with its problems if it is
 * quarantined, and the values that lost a concurrent edit of one of its fields (sync SPEC S13).
 */
export type LeadRow = Lead & { problems?: Problem[]; alsoSet?: AlsoSet[] };
export type DealRow = Deal & { problems?: Problem[]; alsoSet?: AlsoSet[] };

export interface SettingRow {
  key: string;
  value: unknown;
}

export const SCHEMA_VERSIONS = {
  1: {
    leads: 'id, repId, createdAt',
    deals: 'id, repId, stage, createdAt',
    settings: 'key',
  },
  2: {
    updates: '++seq, room',
    leads: 'id, partnerId, repId, status, channel, createdAt',
    deals: 'id, partnerId, repId, leadId, stage, createdAt, expectedCloseAt',
    settings: 'key',
  },
  3: {
    updates: '++seq, room',
    leads: 'id, partnerId, repId, status, channel, createdAt',
    deals: 'id, partnerId, repId, leadId, stage, createdAt, expectedCloseAt',
    settings: 'key',
    rollup: 'key',
  },
  4: {
    updates: '++seq, room',
    leads: 'id, partnerId, repId, status, channel, createdAt',
    deals:
      'id, partnerId, repId, leadId, stage, createdAt, expectedCloseAt, [stage+expectedCloseAt], [stage+closedAt]',
    settings: 'key',
    rollup: 'key',
  },
} as const;

export class PartnerKpiDb extends Dexie {
  updates!: EntityTable<UpdateRow, 'seq'>;
  leads!: Table<LeadRow, string>;
  deals!: Table<DealRow, string>;
  settings!: Table<SettingRow, string>;
  rollup!: Table<StoredChunk, string>;

  constructor(name = DB_NAME, options?: ConstructorParameters<typeof Dexie>[1]) {
    // 'relaxed': a commit returns once the data is with the operating system, not after it is
    // flushed to the disk. A closed tab, a crashed app or browser loses nothing; only a power cut in
    // the following instant could. Strict durability made saving a deal take ~30 ms here.
    super(name, { chromeTransactionDurability: 'relaxed', ...options });
    this.version(1).stores(SCHEMA_VERSIONS[1]);
    this.version(2)
      .stores(SCHEMA_VERSIONS[2])
      .upgrade(async (tx) => {
        // Version-1 rows predate the document: mark them to be written into it once, on next open.
        const leads = await tx.table('leads').count();
        const deals = await tx.table('deals').count();
        if (leads + deals > 0) await tx.table('settings').put({ key: SEED_FROM_ROWS, value: true });
      });
    this.version(3).stores(SCHEMA_VERSIONS[3]);
    this.version(4).stores(SCHEMA_VERSIONS[4]);
  }
}

/** Setting: rows from before the update log exist and must be written into the document. */
export const SEED_FROM_ROWS = 'seedDocumentFromRows';

/**
 * Adds one row to `updates` in a transaction of its own, straight on IndexedDB (the update log's
 * hot path: room-log.ts). Rejects with the transaction's error, e.g. a QuotaExceededError.
 */
export async function appendRow(db: PartnerKpiDb, row: UpdateRow): Promise<void> {
  // Closed by another tab's upgrade: reopening says why it cannot (Dexie's VersionError).
  if (!db.isOpen()) await db.open();
  return new Promise((resolve, reject) => {
    const transaction = db.backendDB().transaction('updates', 'readwrite', { durability: 'relaxed' });
    transaction.oncomplete = () => resolve();
    transaction.onabort = () =>
      reject(transaction.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
    transaction.objectStore('updates').add(row);
    transaction.commit();
  });
}

/** The settings key of a room's sync ledger: what the server acknowledged (sync SPEC.md C3). */
export const serverStateKey = (room: string) => `sync:${room}`;

/**
 * Forgets everything this device holds of a room: its update log and its sync ledger (an upgrade
 * dropping a document this person may no longer hold: sync SPEC P7). Nothing else is touched.
 */
export async function dropRoom(db: PartnerKpiDb, room: string): Promise<number> {
  return db.transaction('rw', db.updates, db.settings, async () => {
    const removed = await db.updates.where('room').equals(room).delete();
    await db.settings.delete(serverStateKey(room));
    return removed;
  });
}
