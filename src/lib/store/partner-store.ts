/**
 * A partner's data on the device: the partner's Yjs document (the source of truth), its update
 * log in IndexedDB, and the projected rows that the screens read.
 *
 * Every change, local or remote (from the sync connection), takes one path: one Y transaction →
 * the document emits its update and the ids of the records whose derived value changed → the
 * update is stored (a local change's in the write-ahead journal and the log: then it is safe) →
 * the new rows and KPI buckets are stored, with a projection marker that holds the document's
 * state vector. The rows are never ahead of the log; they can be behind it only if the app
 * stopped between the two commits, and the marker tells: at start-up it is compared with the log
 * and the rows rebuilt if they differ (that, an older app version, a failed write).
 *
 * The update log, its batching and storage errors and the sync connection's ledger (`syncLedger`,
 * sync SPEC.md C1–C3) are the room log's (room-log.ts); this store gives it the rows and buckets to
 * store after each of its updates.
 *
 * Writes are validated by the domain schema first: invalid input never reaches the document.
 */
import type { Deal, Lead } from '../domain/schema';
import { problem, validate, type Problem } from '../domain/validate';
import type { PartnerDoc } from '../sync/partner-doc';
import type { SyncLedger } from '../sync/pending-changes';
import { SEED_FROM_ROWS, type DealRow, type LeadRow, type PartnerKpiDb } from './db';
import type { Stage } from '../domain/schema';
import { ListSummary } from './list-summary';
import { firstDealsOfStage, firstLeads, overdueDeals } from './list-query';
import { RollupIndex, emptyRollup, markChanged, takeChangedSeries, type Rollup } from '../kpi/buckets';
import {
  PackedRollupError,
  packRollupChunks,
  packSeriesChunks,
  storeChunk,
  unpackStoredChunks,
} from '../kpi/packed';
import { countable } from '../kpi/countable';
import type { FlushPart, RoomLog } from './room-log';
import { openFileJournal, type OpenJournal } from './journal';
import type { StorageError, WriteResult } from './write-result';

export { describeStorageError, type StorageError, type WriteResult } from './write-result';

type PartnerDocModule = typeof import('../sync/partner-doc');

/**
 * The document engine (Yjs, the partner document's rules, the update log), loaded while the KPIs
 * show from the stored buckets rather than before them: the Today screen needs none of it to show.
 */
const loadEngine = () => Promise.all([import('../sync/partner-doc'), import('./room-log')]);

/**
 * Name of the user-timing measure of each write, from the change to when its update was safe: the
 * first of its journal write and its IndexedDB commit (room-log.ts `storedAt`).
 */
export const STORE_WRITE = 'partner-kpi:store-write';

/** How the log is compacted: past this many updates, open() merges them into one. */
const COMPACT_AFTER_UPDATES = 500;
const PROJECTION_MARKER = 'projection';
const ROLLUP_MARKER = 'rollup';
/** Settings key of the lists' counts (list-summary.ts), stored with every change of the rows. */
const LIST_SUMMARY = 'listSummary';

/**
 * How long loading the document waits, at most, for the frame that paints a list's first screen
 * (read by index meanwhile): the document's load then holds the page's main thread for a while. A
 * hidden page paints no frame; it waits no longer than this.
 */
const FIRST_SCREEN_PAINT_WAIT_MS = 100;
/**
 * Bump when the buckets' shape, their derivation or how they are stored changes: the stored rollup
 * is then rebuilt. 2: stored in chunks of days (kpi/packed.ts), no longer one row per series.
 * 3: each chunk in the packed binary form (StoredChunk): a fifth of the bytes to read on open.
 */
const ROLLUP_VERSION = 3;

interface RollupMarker {
  room: string;
  tz: string;
  version: number;
}
/**
 * Bump when the projection's shape or derivation changes: rows are then rebuilt on open.
 * 2: the marker holds the document's state vector, written with every projection write: the rows
 * are stored in a transaction after the update's (room-log.ts), and a mismatch means they are behind.
 * Version-1 rows are kept (checkProjection): only the marker changed.
 * 3: rows carry `alsoSet`, the values that lost a concurrent edit (sync SPEC S13); the rows of
 * records with edit entries (an older version kept them and left them out) are written again.
 */
const PROJECTION_VERSION = 3;

interface ProjectionMarker {
  room: string;
  version: number;
  /** The document's state vector as the rows project it. */
  stateVector: Uint8Array;
}

/** The stored KPI buckets; undefined if a chunk cannot be read (they are then rebuilt from the rows). */
async function readStoredRollup(db: PartnerKpiDb, tz: string): Promise<Rollup | undefined> {
  const rows = await db.rollup.toArray();
  try {
    return unpackStoredChunks(tz, rows);
  } catch (error) {
    if (error instanceof PackedRollupError) return undefined;
    throw error;
  }
}

export interface RecordsChange {
  leads: LeadRow[];
  deals: DealRow[];
}

/** Who edits through this store, and the clock: what a lead's edit entries say (sync SPEC S13). */
export interface Editor {
  by: string;
  now: () => number;
}

/** `rows` with the changes made since applied in order: changed rows replaced, new ones added at the end. */
function withChanges(rows: RecordsChange, changes: RecordsChange[]): RecordsChange {
  if (changes.length === 0) return rows;
  const apply = <T extends { id: string }>(list: T[], changed: T[][]): T[] => {
    const latest = new Map<string, T>();
    for (const batch of changed) for (const row of batch) latest.set(row.id, row);
    if (latest.size === 0) return list;
    const next = list.map((row) => {
      const replaced = latest.get(row.id);
      if (replaced === undefined) return row;
      latest.delete(row.id);
      return replaced;
    });
    return [...next, ...latest.values()];
  };
  return {
    leads: apply(
      rows.leads,
      changes.map((change) => change.leads),
    ),
    deals: apply(
      rows.deals,
      changes.map((change) => change.deals),
    ),
  };
}

/**
 * Resolves in a task after the current one (and its microtasks: a screen's first render): a
 * message to itself, which a hidden page does not throttle as it does timers.
 */
function nextTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

/** Resolves after the next frame is painted, or after `ms` if none is (a hidden page, no browser). */
function afterNextPaint(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (typeof requestAnimationFrame === 'function') {
      requestAnimationFrame(() =>
        setTimeout(() => {
          clearTimeout(timer);
          resolve();
        }, 0),
      );
    }
  });
}

export class PartnerStore {
  private readonly listeners = new Set<(change: RecordsChange) => void>();
  /** The update log, once the engine is loaded (`ready`). */
  private log: RoomLog | undefined;
  /** The partner document's module (sync/partner-doc.ts), once the engine is loaded. */
  private partnerDocModule!: PartnerDocModule;
  /** The ids of the records changed since the last flush. */
  private pending: PendingBatch = emptyBatch();
  private stopChanges: () => void = () => {};
  private loadedDoc: PartnerDoc | undefined;
  /** The KPI buckets of every projected record, kept current with every change (once loaded). */
  private rollupIndex: RollupIndex | undefined;
  /** The stored buckets, shown until the records are loaded. */
  private storedRollup: Rollup | undefined;
  /** The lists' counts of every projected record, kept current with every change (once loaded). */
  private summary: ListSummary | undefined;
  /** The stored counts, when the stored rows are this room's: the lists' first screens use them until the records are loaded. */
  private storedSummary: ListSummary | undefined;
  /** The rows read while loading, with the changes stored since, until `follow` hands them over. */
  private loadedRows: RecordsChange | undefined;
  private changesSinceLoad: RecordsChange[] = [];
  private collectingChanges = false;
  /** First-screen reads in progress: loading the document waits for them (see `firstScreenShown`). */
  private readonly firstScreenReads = new Set<Promise<unknown>>();
  /** Resolves when the document, the rows and the rollup index are loaded; commands wait for it. */
  readonly ready: Promise<void>;

  private constructor(
    private readonly db: PartnerKpiDb,
    readonly room: string,
    readonly tz: string,
    private readonly openJournal: OpenJournal,
    private readonly editor: Editor | undefined,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.finishLoading = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Whoever needs the store awaits `ready` and sees a failure; no one waiting is not an error.
    this.ready.catch(() => {});
  }

  private finishLoading: (error?: unknown) => void = () => {};

  /**
   * Opens the partner's data. When the stored KPI buckets are current, it returns at once with
   * them (`rollup()`), and loads the document, the update log and the rows in the background
   * (`ready`): the KPIs are on screen before 60,000 records have been read. Otherwise it returns
   * once everything is loaded and the buckets rebuilt. Saves go to the write-ahead journal that
   * `openJournal` opens (journal.ts; by default the Origin Private File System's, where the browser
   * has one). `editor` names who edits leads here and when, for their edit entries (deals say it
   * with each change).
   */
  static async open(
    db: PartnerKpiDb,
    room: string,
    tz: string,
    openJournal: OpenJournal = openFileJournal,
    editor?: Editor,
  ): Promise<PartnerStore> {
    const store = await PartnerStore.openBeforeKpis(db, room, tz, openJournal, editor);
    await store.kpisLoaded;
    return store;
  }

  /**
   * Opens the partner's data as `open` does, but returns before the KPI buckets are read: as soon
   * as a list's first screen can be read (`firstLeads`, `firstDealsOfStage`), which needs none of
   * them. `kpisLoaded` resolves once `rollup()` has them (when `open` would have returned).
   */
  static async openBeforeKpis(
    db: PartnerKpiDb,
    room: string,
    tz: string,
    openJournal: OpenJournal = openFileJournal,
    editor?: Editor,
  ): Promise<PartnerStore> {
    const store = new PartnerStore(db, room, tz, openJournal, editor);
    const [rollupSetting, projectionSetting, summarySetting] = await db.settings.bulkGet([
      ROLLUP_MARKER,
      PROJECTION_MARKER,
      LIST_SUMMARY,
    ]);
    const marker = rollupSetting?.value as RollupMarker | undefined;
    const current = marker?.room === room && marker.tz === tz && marker.version === ROLLUP_VERSION;
    // The stored rows are this room's (perhaps behind the log by a change: the loaded records follow).
    if ((projectionSetting?.value as Partial<ProjectionMarker> | undefined)?.room === room)
      store.storedSummary = ListSummary.fromStored(summarySetting?.value, room);
    store.kpisLoaded = (async () => {
      // A list's first screen, asked for as soon as this returns, is read and painted first: reading
      // and unpacking the buckets would hold the main thread its reads need.
      await nextTask();
      await store.firstScreenShown();
      if (current) store.storedRollup = await readStoredRollup(db, tz);
      const stored = store.storedRollup !== undefined;
      const loading = store.load().then(
        () => store.finishLoading(),
        (error: unknown) => store.finishLoading(error),
      );
      if (!stored) {
        await loading;
        await store.ready;
      }
    })();
    // Whoever needs the KPIs awaits them and sees a failure.
    store.kpisLoaded.catch(() => {});
    return store;
  }

  /** Resolves once `rollup()` has the stored buckets, or (none current) everything is loaded. */
  kpisLoaded: Promise<void> = Promise.resolve();

  /** The partner's document; only after `ready`. */
  get partnerDoc(): PartnerDoc {
    if (!this.loadedDoc) throw new Error('The partner document is still loading: await store.ready first.');
    return this.loadedDoc;
  }

  /** The KPI buckets of the partner's records, as current as the store knows them. */
  rollup(): Rollup {
    return this.rollupIndex?.rollup ?? this.storedRollup ?? emptyRollup(this.tz);
  }

  private async load(): Promise<void> {
    const engine = loadEngine();
    // A list's first screen asked for meanwhile is painted before the document's load holds the main thread.
    await this.firstScreenShown();
    const [partnerDocModule, logs] = await engine;
    this.partnerDocModule = partnerDocModule;
    const db = this.db;
    this.log = new logs.RoomLog(
      db,
      this.room,
      COMPACT_AFTER_UPDATES,
      {
        tables: [db.leads, db.deals, db.settings, db.rollup],
        hasPending: () => this.pending.leads.size > 0 || this.pending.deals.size > 0,
        take: () => this.takeRecords(),
      },
      this.openJournal,
    );
    const { doc, storedUpdates } = await this.log.load();
    this.loadedDoc = this.partnerDocModule.openPartnerDoc(doc);
    this.stopChanges = this.partnerDocModule.onRecordsChanged(this.loadedDoc, (changed) => {
      for (const id of changed.leads) this.pending.leads.add(id);
      for (const id of changed.deals) this.pending.deals.add(id);
      this.engineLog.scheduleFlush();
    });
    if (await this.db.settings.get(SEED_FROM_ROWS)) await this.seedFromRows();
    await this.checkProjection(storedUpdates);
    // Changes stored from now on go to `follow` with the rows (one stored while they are read may be in them already: harmless).
    this.changesSinceLoad = [];
    this.collectingChanges = true;
    const { leads, deals } = await this.loadRows();
    this.rollupIndex = RollupIndex.build(this.tz, leads.map(countable), deals.map(countable));
    this.summary = ListSummary.build(leads, deals);
    // Kept for `follow`, the screens' copy: read once, not once here and again for them.
    this.loadedRows = { leads, deals };
    await this.db.settings.put({ key: LIST_SUMMARY, value: this.summary.toStored(this.room) });
    if (!this.storedRollup) await this.storeWholeRollup();
    // Saves a stopped tab left in its journal only: their rows and buckets follow like any change's.
    await this.log.recoverJournal();
  }

  /** Writes every series of the rollup, replacing what is stored (first open, after a rebuild). */
  private async storeWholeRollup(): Promise<void> {
    const rollup = this.rollupIndex!.rollup;
    takeChangedSeries(rollup);
    await this.db.transaction('rw', [this.db.rollup, this.db.settings], async () => {
      await this.db.rollup.clear();
      await this.db.rollup.bulkPut(packRollupChunks(rollup).map(storeChunk));
      await this.db.settings.put({
        key: ROLLUP_MARKER,
        value: { room: this.room, tz: this.tz, version: ROLLUP_VERSION } satisfies RollupMarker,
      });
    });
  }

  /** Waits for the first-screen reads in progress, then for the frame that paints them. */
  private async firstScreenShown(): Promise<void> {
    if (this.firstScreenReads.size === 0) return;
    await Promise.allSettled([...this.firstScreenReads]);
    await afterNextPaint(FIRST_SCREEN_PAINT_WAIT_MS);
  }

  /** Stops following the document; resolves once its journal is closed. */
  close(): Promise<void> {
    this.stopChanges();
    this.loadedRows = undefined;
    this.collectingChanges = false;
    this.changesSinceLoad = [];
    return this.log?.close() ?? Promise.resolve();
  }

  /** The update log; only after `ready`. */
  private get engineLog(): RoomLog {
    if (!this.log) throw new Error('The partner document is still loading: await store.ready first.');
    return this.log;
  }

  /** The sync connection's ledger (C1–C3, room-log.ts); only after `ready`. */
  get syncLedger(): SyncLedger {
    return this.engineLog.syncLedger;
  }

  /** Called with the new rows after every change is stored. */
  subscribe(listener: (change: RecordsChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All projected rows, as stored. */
  async loadRows(): Promise<RecordsChange> {
    const [leads, deals] = await Promise.all([this.db.leads.toArray(), this.db.deals.toArray()]);
    return { leads, deals };
  }

  /**
   * Once loaded, hands every projected row to `onRows`, then every change stored after them to
   * `onChange`, in order: none missed, none before the rows. The first call gets the rows loading
   * read (60,000 records are read once, not twice); a later one reads them again. Returns the
   * function that stops the changes.
   */
  async follow(
    onRows: (rows: RecordsChange) => void,
    onChange: (change: RecordsChange) => void,
  ): Promise<() => void> {
    await this.ready;
    const loaded = this.loadedRows;
    if (loaded) {
      // All at once, with nothing awaited in between: no change can fall between the rows and the subscription.
      this.loadedRows = undefined;
      this.collectingChanges = false;
      const rows = withChanges(loaded, this.changesSinceLoad);
      this.changesSinceLoad = [];
      onRows(rows);
      return this.subscribe(onChange);
    }
    let buffered: RecordsChange[] | undefined = [];
    const stop = this.subscribe((change) => (buffered ? buffered.push(change) : onChange(change)));
    try {
      const rows = await this.loadRows();
      // A change stored after the read began may be in the rows already: applying it again gives the same row.
      onRows(withChanges(rows, buffered));
      buffered = undefined;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  // --- a list's first screen, before the records are loaded (list-query.ts) ---------------------

  /**
   * The lists' counts (live leads by rep × status × channel, live deals by rep × stage); undefined
   * while the stored rows may be another partner's or have no counts stored with them (the lists
   * then wait for the records).
   */
  listSummary(): ListSummary | undefined {
    return this.summary ?? this.storedSummary;
  }

  /** The first `limit` leads, newest first, that `matches` accepts; undefined when the rows cannot be used yet (listSummary). */
  firstLeads(matches: (lead: LeadRow) => boolean, limit: number): Promise<LeadRow[] | undefined> {
    if (!this.listSummary()) return Promise.resolve(undefined);
    return this.firstScreenRead(firstLeads(this.db, matches, limit));
  }

  /** The first `limit` deals of a stage in the board's order (list-query.ts dealOrder) that `matches` accepts; undefined as firstLeads. */
  firstDealsOfStage(
    stage: Stage,
    matches: (deal: DealRow) => boolean,
    limit: number,
  ): Promise<DealRow[] | undefined> {
    if (!this.listSummary()) return Promise.resolve(undefined);
    return this.firstScreenRead(firstDealsOfStage(this.db, stage, matches, limit));
  }

  /** Every deal of an open stage expected to close before `before` that `matches` accepts, longest overdue first; undefined as firstLeads. */
  overdueDeals(before: number, matches: (deal: DealRow) => boolean): Promise<DealRow[] | undefined> {
    if (!this.listSummary()) return Promise.resolve(undefined);
    return this.firstScreenRead(overdueDeals(this.db, before, matches));
  }

  /** A deal's row by id (a deal's page before the records are loaded); undefined as firstLeads, or null if there is no such deal. */
  async dealById(id: string): Promise<DealRow | null | undefined> {
    if (!this.listSummary()) return undefined;
    return (await this.firstScreenRead(this.db.deals.get(id))) ?? null;
  }

  /** A lead's row by id; as dealById. */
  async leadById(id: string): Promise<LeadRow | null | undefined> {
    if (!this.listSummary()) return undefined;
    return (await this.firstScreenRead(this.db.leads.get(id))) ?? null;
  }

  private firstScreenRead<T>(read: Promise<T>): Promise<T> {
    this.firstScreenReads.add(read);
    const done = () => this.firstScreenReads.delete(read);
    read.then(done, done);
    return read;
  }

  // --- commands -------------------------------------------------------------------------------

  async createLead(input: unknown): Promise<WriteResult<Lead>> {
    await this.ready;
    const checked = validate('lead', input);
    if (!checked.ok) return checked;
    return this.write(
      () => this.partnerDocModule.createLead(this.partnerDoc, checked.value),
      () => checked.value,
    );
  }

  async createDeal(input: unknown, by: string): Promise<WriteResult<Deal>> {
    await this.ready;
    const checked = validate('deal', input);
    if (!checked.ok) return checked;
    return this.write(
      () => this.partnerDocModule.createDeal(this.partnerDoc, checked.value, by),
      () => this.partnerDocModule.readDeal(this.partnerDoc, checked.value.id) ?? checked.value,
    );
  }

  /** Applies `changes` to a lead if the result is valid; only the changed fields are written. */
  async updateLead(id: string, changes: Partial<Lead>): Promise<WriteResult<Lead>> {
    await this.ready;
    const current = this.partnerDocModule.readLead(this.partnerDoc, id);
    if (!current) return { ok: false, problems: [{ field: 'id', message: `There is no lead ${id}.` }] };
    const checked = validate('lead', { ...current, ...changes });
    if (!checked.ok) return checked;
    return this.write(
      () =>
        this.partnerDocModule.updateLead(
          this.partnerDoc,
          id,
          changedFields(current, checked.value),
          this.leadEdit(),
        ),
      () => checked.value,
    );
  }

  async updateDeal(id: string, changes: Partial<Deal>, by: string): Promise<WriteResult<Deal>> {
    await this.ready;
    const current = this.partnerDocModule.readDeal(this.partnerDoc, id);
    if (!current) return { ok: false, problems: [{ field: 'id', message: `There is no deal ${id}.` }] };
    const merged = { ...current, ...changes };
    for (const key of Object.keys(changes) as (keyof Deal)[])
      if (changes[key] === undefined) delete merged[key];
    const checked = validate('deal', merged);
    if (!checked.ok) return checked;
    return this.write(
      () =>
        this.partnerDocModule.updateDeal(
          this.partnerDoc,
          id,
          { ...changedFields(current, checked.value), updatedAt: checked.value.updatedAt },
          by,
        ),
      () => this.partnerDocModule.readDeal(this.partnerDoc, id) ?? checked.value,
    );
  }

  /**
   * Converts a lead into a deal in one transaction: the deal takes the lead's channel and
   * partner, and the lead's status becomes converted. A lead converts once: a converted lead is
   * refused (a form submitted again, Back to a saved form, a double tap), or the pipeline would
   * count one sale twice. The check reads the document in the same task as the write, so two
   * conversions started together give one deal.
   *
   * `dealInput.id` is the lead's own deal id (`dealIdFromLead`), the same on every device so that
   * two devices converting one lead offline make one deal (sync SPEC S11). A deal of that id from
   * this lead means the lead is converted whatever its status says (another device set it back
   * meanwhile); a deal of that id from elsewhere (an imported one) leaves it to `otherwiseId`.
   */
  async convertLead(
    leadId: string,
    dealInput: Omit<Deal, 'channel' | 'leadId' | 'partnerId'>,
    by: string,
    otherwiseId: string,
  ): Promise<WriteResult<Deal>> {
    await this.ready;
    const doc = this.partnerDoc;
    const lead = this.partnerDocModule.readLead(doc, leadId);
    if (!lead) return { ok: false, problems: [{ field: 'leadId', message: `There is no lead ${leadId}.` }] };
    const taken = this.partnerDocModule.hasRecord(doc, 'deal', dealInput.id);
    if (
      lead.status === 'converted' ||
      (taken && this.partnerDocModule.readDeal(doc, dealInput.id)?.leadId === leadId)
    )
      return {
        ok: false,
        problems: [problem('', 'This lead has already been converted into a deal.', 'leadConverted')],
      };
    const checked = validate('deal', {
      ...dealInput,
      id: taken ? otherwiseId : dealInput.id,
      leadId,
      channel: lead.channel,
      partnerId: lead.partnerId,
    });
    if (!checked.ok) return checked;
    return this.write(
      () =>
        this.partnerDocModule.writeTogether(this.partnerDoc, () => {
          this.partnerDocModule.createDeal(this.partnerDoc, checked.value, by);
          this.partnerDocModule.updateLead(
            this.partnerDoc,
            leadId,
            {
              status: 'converted',
              ...(lead.qualifiedAt === undefined ? { qualifiedAt: checked.value.createdAt } : {}),
            },
            this.leadEdit(),
          );
        }),
      () => this.partnerDocModule.readDeal(this.partnerDoc, checked.value.id) ?? checked.value,
    );
  }

  /**
   * Writes many records in one transaction (a CSV import): new ids are created, known ids updated
   * field by field, so importing the same file twice changes nothing. All are validated first; if
   * any is invalid nothing is written.
   *
   * A file made before the device's last change of a record does not undo that change: such a
   * record is left as the device has it and counted in `kept`. That is a deal that differs from
   * the file and was changed here after the file's `updatedAt` (an import that changes a deal
   * stamps it `now`: it is a change made here); and, whatever the times say (a device's clock may
   * be behind), a record deleted on the device that the file has without `deletedAt`, and a lead
   * converted on the device that the file has unconverted (its deal exists: converting it again
   * would make a second). A lead has no `updatedAt`: its other fields are taken from the file.
   */
  async importRecords(
    leads: Lead[],
    deals: Deal[],
    by: string,
    now: number,
  ): Promise<WriteResult<{ leads: number; deals: number; kept: number }>> {
    await this.ready;
    const problems: Problem[] = [];
    for (const [kind, records] of [
      ['lead', leads],
      ['deal', deals],
    ] as const) {
      for (const record of records) {
        const checked = validate(kind, record);
        if (!checked.ok)
          problems.push(
            ...checked.problems.map((p) => ({
              field: `${kind} ${record.id}: ${p.field}`,
              message: p.message,
            })),
          );
      }
    }
    if (problems.length) return { ok: false, problems };
    const written = { leads: 0, deals: 0, kept: 0 };
    return this.write(
      () =>
        this.partnerDocModule.writeTogether(this.partnerDoc, () => {
          for (const lead of leads) {
            const current = this.partnerDocModule.readLead(this.partnerDoc, lead.id);
            const undoes =
              (current?.deletedAt !== undefined && lead.deletedAt === undefined) ||
              (current?.status === 'converted' && lead.status !== 'converted');
            if (undoes) {
              written.kept++;
              continue;
            }
            written.leads++;
            if (!current) this.partnerDocModule.createLead(this.partnerDoc, lead);
            else
              this.partnerDocModule.updateLead(
                this.partnerDoc,
                lead.id,
                changedFields(current, lead),
                this.leadEdit(),
              );
          }
          for (const deal of deals) {
            const current = this.partnerDocModule.readDeal(this.partnerDoc, deal.id);
            if (!current) {
              written.deals++;
              this.partnerDocModule.createDeal(this.partnerDoc, deal, deal.stageLog?.[0]?.by ?? by);
              continue;
            }
            const { stageLog: _log, updatedAt: _at, ...next } = deal;
            const { stageLog: _currentLog, updatedAt: _currentAt, ...before } = current;
            const changes: Partial<Deal> = changedFields<Partial<Deal>>(before, next);
            const changed = Object.keys(changes).length > 0;
            const undoes =
              current.updatedAt > deal.updatedAt ||
              (current.deletedAt !== undefined && deal.deletedAt === undefined);
            if (changed && undoes) {
              written.kept++;
              continue;
            }
            written.deals++;
            // An import is a change made here and now: a file older than it no longer undoes it.
            if (changed)
              this.partnerDocModule.updateDeal(
                this.partnerDoc,
                deal.id,
                { ...changes, updatedAt: Math.max(deal.updatedAt, now) },
                by,
              );
          }
        }),
      () => written,
    );
  }

  /** Who edits a lead now, for its edit entries; none without an editor. */
  private leadEdit(): { by: string; at: number } | undefined {
    return this.editor ? { by: this.editor.by, at: this.editor.now() } : undefined;
  }

  async deleteLead(id: string, at: number): Promise<WriteResult<true>> {
    await this.ready;
    return this.write(
      () => this.partnerDocModule.deleteRecord(this.partnerDoc, 'lead', id, at),
      () => true as const,
    );
  }

  async deleteDeal(id: string, at: number): Promise<WriteResult<true>> {
    await this.ready;
    return this.write(
      () => this.partnerDocModule.deleteRecord(this.partnerDoc, 'deal', id, at),
      () => true as const,
    );
  }

  /** The storage problem of the last write that could not be stored, if it is still unsolved. */
  get storageError(): StorageError | undefined {
    return this.log?.storageError;
  }

  /** Waits until every change made so far is stored (or failed to be); nothing is written before the log is loaded. */
  settled(): Promise<void> {
    return this.log?.settled() ?? Promise.resolve();
  }

  // --- persistence ----------------------------------------------------------------------------

  /**
   * Runs one change of the document, then waits until it is stored (RoomLog.write: a change the
   * document refuses, PartnerDocError, is reported as problems and writes nothing).
   */
  private async write<T>(change: () => void, result: () => T): Promise<WriteResult<T>> {
    const started = performance.now();
    const written = await this.engineLog.write(change, result, this.partnerDocModule.PartnerDocError);
    if ('problems' in written) return written;
    // A user-timing entry per stored write, from the change to when its update was safe, in the
    // journal or the log (the rows and the screens follow; they are rebuilt if lost): benchmarks read them.
    performance.measure(STORE_WRITE, { start: started, end: Math.max(started, this.engineLog.storedAt) });
    return written;
  }

  /**
   * The store's part of one flush of the log: the rows of the changed records and the KPI series
   * they changed, written in the same IndexedDB transaction as the update.
   */
  private takeRecords(): FlushPart {
    const batch = this.pending;
    this.pending = emptyBatch();
    const leads = [...batch.leads]
      .map((id) => this.leadRow(id))
      .filter((row): row is LeadRow => row !== undefined);
    const deals = [...batch.deals]
      .map((id) => this.dealRow(id))
      .filter((row): row is DealRow => row !== undefined);
    // The buckets follow the rows: a quarantined record counts nowhere, as if deleted.
    for (const lead of leads) this.rollupIndex?.upsertLead(countable(lead));
    for (const deal of deals) this.rollupIndex?.upsertDeal(countable(deal));
    for (const lead of leads) this.summary?.upsertLead(lead);
    for (const deal of deals) this.summary?.upsertDeal(deal);
    // Stored whole with the rows it counts; rows written before it is built (an upgrade's) have none.
    const summary = this.summary?.toStored(this.room);
    // Only the chunks of the days that changed: a few KB, not the series' whole history.
    const changedSeries = this.rollupIndex ? takeChangedSeries(this.rollupIndex.rollup) : [];
    const changedChunks = changedSeries.flatMap(({ series, days }) =>
      packSeriesChunks(series, days).map(storeChunk),
    );
    const marker = this.projectionMarker();
    return {
      writes: () => {
        const writes: Promise<unknown>[] = [];
        if (leads.length) writes.push(this.db.leads.bulkPut(leads));
        if (deals.length) writes.push(this.db.deals.bulkPut(deals));
        if (changedChunks.length) writes.push(this.db.rollup.bulkPut(changedChunks));
        writes.push(this.db.settings.put({ key: PROJECTION_MARKER, value: marker }));
        writes.push(
          summary
            ? this.db.settings.put({ key: LIST_SUMMARY, value: summary })
            : this.db.settings.delete(LIST_SUMMARY),
        );
        return writes;
      },
      stored: () => {
        if (this.collectingChanges) this.changesSinceLoad.push({ leads, deals });
        for (const listener of this.listeners) listener({ leads, deals });
      },
      failed: () => {
        // The buckets in memory already count the change; store those days with the next write.
        for (const { series, days } of changedSeries) markChanged(series, days);
        for (const id of batch.leads) this.pending.leads.add(id);
        for (const id of batch.deals) this.pending.deals.add(id);
      },
    };
  }

  private leadRow(id: string): LeadRow | undefined {
    const lead = this.partnerDocModule.readLead(this.partnerDoc, id);
    if (!lead) return undefined;
    const problems = this.partnerDocModule.recordProblems(this.partnerDoc, 'lead', id);
    const alsoSet = this.partnerDocModule.readAlsoSet(this.partnerDoc, 'lead', id);
    if (problems.length === 0 && alsoSet.length === 0) return lead;
    return { ...lead, ...(problems.length ? { problems } : {}), ...(alsoSet.length ? { alsoSet } : {}) };
  }

  private dealRow(id: string): DealRow | undefined {
    const deal = this.partnerDocModule.readDeal(this.partnerDoc, id);
    if (!deal) return undefined;
    const problems = this.partnerDocModule.recordProblems(this.partnerDoc, 'deal', id);
    const alsoSet = this.partnerDocModule.readAlsoSet(this.partnerDoc, 'deal', id);
    if (problems.length === 0 && alsoSet.length === 0) return deal;
    return { ...deal, ...(problems.length ? { problems } : {}), ...(alsoSet.length ? { alsoSet } : {}) };
  }

  /** Writes rows kept by a version-1 database into the document, once. */
  private async seedFromRows(): Promise<void> {
    // The rows change before their counts are built again: the lists wait for the records.
    this.storedSummary = undefined;
    const { leads, deals } = await this.loadRows();
    this.partnerDocModule.writeTogether(this.partnerDoc, () => {
      for (const lead of leads)
        if (!this.partnerDocModule.readLead(this.partnerDoc, lead.id))
          this.partnerDocModule.createLead(this.partnerDoc, withoutProblems(lead));
      for (const deal of deals)
        if (!this.partnerDocModule.readDeal(this.partnerDoc, deal.id))
          this.partnerDocModule.createDeal(this.partnerDoc, withoutProblems(deal), deal.repId);
    });
    await this.settled();
    await this.db.settings.delete(SEED_FROM_ROWS);
  }

  /** What the projection marker says of rows that project the document as it is now. */
  private projectionMarker(): ProjectionMarker {
    return { room: this.room, version: PROJECTION_VERSION, stateVector: this.engineLog.stateVector() };
  }

  /**
   * Rebuilds the projected rows from the document when they may disagree with it: another room's
   * rows, an older projection, or rows behind the log (the app stopped between the update's commit
   * and the rows').
   */
  private async checkProjection(updateCount: number): Promise<void> {
    const marker = (await this.db.settings.get(PROJECTION_MARKER))?.value as
      Partial<ProjectionMarker> | undefined;
    // Version 1 stored the rows in the same transaction as their update: they match the log; version 2
    // rows do when the marker says so. Both lack only the edit log's lines (version 3), which only
    // records with edit entries have (a newer device's edits): those rows are written again, with the
    // marker, before any write can come between.
    if (
      marker?.room === this.room &&
      (marker.version === 1 || (marker.version === 2 && this.engineLog.isAt(marker.stateVector)))
    ) {
      const edited = this.partnerDocModule.recordsWithEdits(this.partnerDoc);
      const leads = [...edited.leads]
        .map((id) => this.leadRow(id))
        .filter((row): row is LeadRow => row !== undefined);
      const deals = [...edited.deals]
        .map((id) => this.dealRow(id))
        .filter((row): row is DealRow => row !== undefined);
      await this.db.transaction('rw', [this.db.leads, this.db.deals, this.db.settings], async () => {
        await this.db.leads.bulkPut(leads);
        await this.db.deals.bulkPut(deals);
        await this.db.settings.put({ key: PROJECTION_MARKER, value: this.projectionMarker() });
      });
      return;
    }
    const current =
      marker?.room === this.room &&
      marker.version === PROJECTION_VERSION &&
      this.engineLog.isAt(marker.stateVector);
    if (current || (updateCount === 0 && !marker)) return;
    await this.rebuildProjection();
  }

  async rebuildProjection(): Promise<void> {
    const { leads, deals } = this.partnerDocModule.readAll(this.partnerDoc);
    // Not the counts of the rows written now: the lists wait for the records, which count them again.
    this.storedSummary = undefined;
    await this.db.transaction('rw', [this.db.leads, this.db.deals, this.db.settings], async () => {
      await this.db.settings.delete(LIST_SUMMARY);
      await this.db.leads.clear();
      await this.db.deals.clear();
      await this.db.leads.bulkPut(leads.map((lead) => this.leadRow(lead.id) ?? lead));
      await this.db.deals.bulkPut(deals.map((deal) => this.dealRow(deal.id) ?? deal));
      await this.db.settings.put({ key: PROJECTION_MARKER, value: this.projectionMarker() });
    });
    // The stored buckets were made from the old rows: have them rebuilt from the new ones.
    this.storedRollup = undefined;
    await this.db.settings.delete(ROLLUP_MARKER);
  }
}

/** The records one flush stores the rows of (the log keeps the updates). */
interface PendingBatch {
  leads: Set<string>;
  deals: Set<string>;
}

function emptyBatch(): PendingBatch {
  return { leads: new Set(), deals: new Set() };
}

function withoutProblems<T extends { problems?: Problem[] }>(row: T): Omit<T, 'problems'> {
  const { problems: _problems, ...record } = row;
  return record;
}

/** The fields of `next` that differ from `current` (removed optional fields as undefined). */
function changedFields<T extends object>(current: T, next: T): Partial<T> {
  const changes: Partial<T> = {};
  const keys = new Set([...Object.keys(current), ...Object.keys(next)]) as Set<keyof T>;
  for (const key of keys) {
    if (JSON.stringify(current[key]) !== JSON.stringify(next[key])) changes[key] = next[key];
  }
  return changes;
}
