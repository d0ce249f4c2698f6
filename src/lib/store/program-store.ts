/**
 * The program's document on the device: the Y.Doc of room `program/<programId>` (the program, its
 * partners and reps, vendor staff, quarterly targets and every partner's KPI rollup), its update
 * log in IndexedDB, and what the screens read of it.
 *
 * Its log is a room log like the partner store's (room-log.ts): the shared `updates` table, by room,
 * the same marks of local changes (sync SPEC.md C3) and the same `sync:<room>` settings key, so the
 * sync connection treats both rooms alike and the program's directory, targets and rollups are there
 * offline from the last synced state. Every change, local (a vendor manager's target) or remote,
 * takes one path: the document's update → one IndexedDB transaction → the listeners, told which
 * keys changed.
 *
 * The screens do not read the Y.Doc: they read plain values (`directory`, `targets`, `rollups`)
 * that this store derives and keeps until the part of the document they come from changes. No
 * projection is stored: the whole program document is small (about 300 KB for the demo program)
 * and opens from the log in a few milliseconds, while a stored copy of it would have to be kept in
 * step with the log.
 */
import type { ProgramDirectory, StaffMember, Target, TargetEntry } from '../domain/schema';
import type { Benchmark } from '../kpi/benchmark';
import type { Rollup } from '../kpi/buckets';
import type { Period } from '../kpi/calendar';
import type { PartnerRollup, ProgramChanged, ProgramDoc, RollupReadCache } from '../sync/program-doc';
import type { SyncLedger } from '../sync/pending-changes';
import type { PartnerKpiDb } from './db';
import type { RoomLog } from './room-log';
import type { StorageError, WriteResult } from './write-result';

type ProgramDocs = typeof import('../sync/program-doc');

/** The document engine (Yjs, the program document's rules, the update log), loaded when the store opens. */
const loadEngine = () => Promise.all([import('../sync/program-doc'), import('./room-log')]);

/**
 * Past this many stored updates, opening merges them into one. Each of the server's rollup writes
 * replaces a partner's whole entry (tens of KB): the document's state stays the same size, since
 * Yjs drops the replaced bytes, but the log keeps every write. Fifty writes is a few MB on a vendor
 * manager's laptop and still a fast open; merging costs one encoding of a few hundred KB.
 */
const COMPACT_AFTER_UPDATES = 50;

/** Every partner's KPI buckets by month as the server folded them, and the partners whose entry could not be read (why). */
export interface ProgramRollups {
  rollups: Map<string, PartnerRollup>;
  problems: Map<string, string>;
}

/** The whole program's KPI buckets by day as the server folded them, or why they cannot be read. */
export type ProgramTotals = { rollup: Rollup } | { problem: string };

function addChanges(into: ProgramChanged, changed: ProgramChanged): void {
  into.meta ||= changed.meta;
  for (const name of [
    'partners',
    'reps',
    'staff',
    'targets',
    'rollups',
    'rollupChunks',
    'totals',
    'benchmark',
  ] as const)
    for (const key of changed[name]) into[name].add(key);
}

export class ProgramStore {
  private readonly listeners = new Set<(changed: ProgramChanged) => void>();
  private readonly log: RoomLog;
  private readonly docs: ProgramDocs;
  /** The keys changed by the updates not yet stored: the listeners hear of them once they are. */
  private pendingChanged: ProgramChanged;
  private stopChanges: () => void = () => {};
  private loadedDoc!: ProgramDoc;
  /** What the screens read, derived once per change of the part it comes from. */
  /** Each partner's entry as last decoded, by the stored value it was decoded from (readRollups). */
  private readonly decoded: RollupReadCache = { entries: new Map() };
  private cached: {
    totals?: ProgramTotals;
    directory?: ProgramDirectory | null;
    staff?: StaffMember[];
    targets?: TargetEntry[];
    rollups?: ProgramRollups;
  } = {};

  private constructor(
    db: PartnerKpiDb,
    readonly room: string,
    [docs, logs]: Awaited<ReturnType<typeof loadEngine>>,
  ) {
    this.docs = docs;
    this.pendingChanged = docs.noProgramChange();
    this.log = new logs.RoomLog(db, room, COMPACT_AFTER_UPDATES, {
      take: () => {
        const changed = this.pendingChanged;
        this.pendingChanged = this.docs.noProgramChange();
        return {
          stored: () => {
            for (const listener of [...this.listeners]) listener(changed);
          },
          failed: () => addChanges(this.pendingChanged, changed),
        };
      },
    });
  }

  /** Opens the program's document from its stored updates (an empty document before the first sync). */
  static async open(db: PartnerKpiDb, room: string): Promise<ProgramStore> {
    const store = new ProgramStore(db, room, await loadEngine());
    store.loadedDoc = store.docs.openProgramDoc((await store.log.load()).doc);
    store.listen();
    return store;
  }

  private listen(): void {
    // Runs before the update event of the same transaction (SPEC P9): the values read after it are current.
    this.stopChanges = this.docs.onProgramChanged(this.programDoc, (changed) => {
      if (changed.meta || changed.partners.size || changed.reps.size) this.cached.directory = undefined;
      if (changed.staff.size) this.cached.staff = undefined;
      if (changed.targets.size) this.cached.targets = undefined;
      // The zone of every rollup is checked against the program's (P6): a new program reads them again.
      if (changed.rollups.size || changed.meta) this.cached.rollups = undefined;
      if (changed.totals.size || changed.meta) this.cached.totals = undefined;
      addChanges(this.pendingChanged, changed);
      this.log.scheduleFlush();
    });
  }

  get programDoc(): ProgramDoc {
    return this.loadedDoc;
  }

  /** The program, its partners and reps (deleted ones included, with `deletedAt`); undefined until the document has a program. */
  directory(): ProgramDirectory | undefined {
    if (this.cached.directory === undefined) {
      const program = this.docs.readProgram(this.programDoc);
      this.cached.directory = program
        ? {
            program,
            partners: this.docs.readPartners(this.programDoc),
            reps: this.docs.readReps(this.programDoc),
          }
        : null;
    }
    return this.cached.directory ?? undefined;
  }

  staff(): StaffMember[] {
    return (this.cached.staff ??= this.docs.readStaff(this.programDoc));
  }

  /** Every partner's quarterly targets, by partner then quarter. */
  targets(): TargetEntry[] {
    return (this.cached.targets ??= this.docs.readTargets(this.programDoc));
  }

  /** Every partner's rollup by month, read again after a change; a partner's entry is decoded again only when the server rewrote it. */
  rollups(): ProgramRollups {
    if (!this.cached.rollups) {
      const problems = new Map<string, string>();
      const rollups = this.docs.readRollups(
        this.programDoc,
        (partnerId, reason) => problems.set(partnerId, reason),
        this.decoded,
      );
      this.cached.rollups = { rollups, problems };
    }
    return this.cached.rollups;
  }

  /** The program's buckets by day, read again after a change of them. */
  totals(): ProgramTotals {
    return (this.cached.totals ??= this.docs.readTotals(this.programDoc));
  }

  /** The program benchmark published for exactly this period, if any (a partner's channel, V1). */
  benchmark(period: Period): Benchmark | undefined {
    return this.docs.readBenchmark(this.programDoc, period);
  }

  /** Called with the changed keys after every change is stored, local or remote. */
  subscribe(listener: (changed: ProgramChanged) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sets a partner's target for a quarter (`YYYY-Qn`) and waits until it is stored on the device.
   * The document refuses what its rules forbid (SPEC P4): the problems by field, nothing written.
   * Only a vendor manager's connection may write the program room; anyone else's write would be
   * dropped by the server, so the screens offer the form to vendor managers alone.
   */
  async setTarget(partnerId: string, quarter: string, target: Target): Promise<WriteResult<TargetEntry>> {
    return this.log.write(
      () => this.docs.setTarget(this.programDoc, partnerId, quarter, target),
      () => ({ partnerId, quarter, ...target }),
      this.docs.ProgramDocError,
    );
  }

  /** The sync connection's ledger (C1–C3), kept in IndexedDB like the partner store's. */
  get syncLedger(): SyncLedger {
    return this.log.syncLedger;
  }

  /** The storage problem of the last write that could not be stored, while it is unsolved. */
  get storageError(): StorageError | undefined {
    return this.log.storageError;
  }

  /** Waits until every change so far is stored (or failed to be). */
  settled(): Promise<void> {
    return this.log.settled();
  }

  close(): void {
    this.stopChanges();
    this.listeners.clear();
    this.programDoc.close();
    void this.log.close();
  }
}
