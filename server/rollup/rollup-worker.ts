/**
 * Keeps the program's KPI buckets current: when a partner room stores a change, the partner's
 * document is folded into buckets (after a short delay, so a burst of edits is folded once, and at
 * most every few such delays while edits keep coming) and
 * written, with the time of that sync, into the server's room of days (`program/<p>/rollups/days`:
 * every partner's buckets by day and the program's totals, of which only the changed chunks are
 * written), and what changed of it is copied into the vendor's rollups room (`program/<p>/rollups`:
 * the program's buckets by day, every partner's by month), beside a copy of the program's settings
 * (their zone is the buckets'). The writes take the rooms' ordinary path: stored, then sent to the
 * vendor's devices.
 *
 * Due folds live in memory, so each written fold is recorded in storage with the partner room's
 * stored seq it covers (`markFolded`); on start the server folds every partner room stored beyond
 * its last fold (`foldBehind`): a fold the process did not live to write is not lost.
 */
import type * as Y from 'yjs';
import { PartnerFold } from './fold';
import {
  copyProgramSettings,
  projectFigures,
  readProgram,
  writeRollup,
  ROLLUP_ORIGIN,
} from '../../src/lib/sync/program-doc';
import { programRoom, parseRoom, rollupDaysRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import { withProgramDocs } from '../channels/server-view';
import type { Room } from '../sync/room';
import type { SyncServer } from '../sync/sync-server';

/** A fold queued behind another waits twice as long as that one took, from its end (yieldToEdits). */
export const FOLD_SHARE_WAIT = 2;

/**
 * How long a fold queued at `queuedAt` waits at `now`, the fold before it having taken `last.ms`
 * and ended at `last.endedAt` (all in performance.now() ms): see RollupWorker.yieldToEdits.
 */
export function waitBeforeFold(queuedAt: number, last: { ms: number; endedAt: number }, now: number): number {
  if (queuedAt >= last.endedAt) return 0;
  return Math.max(0, last.ms * FOLD_SHARE_WAIT - (now - last.endedAt));
}

export interface RollupWorkerOptions {
  now: () => number;
  /** Records that a partner room's rollup covers its stored updates up to `seq` (FoldStore). */
  markFolded?: (room: string, seq: number) => Promise<void>;
  /** Wait this long after a partner's change before folding (edits arriving meanwhile join in). */
  delayMs: number;
  /**
   * A partner is folded at most this often (default: delayMs): under a stream of edits its fold
   * waits, the edits join in, and the server folds and publishes each partner every few seconds
   * instead of every second. A change after a quiet spell is still folded after delayMs.
   */
  minIntervalMs?: number;
  log: (line: string) => void;
}

export class RollupWorker {
  private readonly due = new Map<
    string,
    { timer: NodeJS.Timeout; room: Room; release: () => void; syncedAt: number }
  >();
  /** The kept-current buckets of each partner room folded so far (or being built), while that room stays loaded. */
  private readonly folds = new Map<Room, { tz: string; fold: Promise<PartnerFold> }>();
  /** The room-of-days document each fold was last written into. */
  private readonly writtenTo = new WeakMap<PartnerFold, Y.Doc>();
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** When each partner room's last fold was started (performance.now()). */
  private readonly foldedAt = new Map<string, number>();
  /** How long the last fold took, and when it ended (performance.now()): see yieldToEdits. */
  private lastFold = { ms: 0, endedAt: -Infinity };

  constructor(
    private readonly sync: SyncServer,
    private readonly options: RollupWorkerOptions,
  ) {}

  /** Called for every stored update. */
  stored(room: Room, origin: unknown): void {
    if (this.stopped || room.name.kind !== 'partner' || origin === ROLLUP_ORIGIN) return;
    const syncedAt = this.options.now();
    const pending = this.due.get(room.name.name);
    if (pending) {
      pending.syncedAt = syncedAt;
      return;
    }
    // Holding the room keeps it loaded until it is folded, even if its last device leaves.
    const release = room.hold();
    const { delayMs, minIntervalMs = delayMs } = this.options;
    const sinceFold = performance.now() - (this.foldedAt.get(room.name.name) ?? -Infinity);
    const timer = setTimeout(
      () => this.runFold(room.name.name),
      Math.max(delayMs, minIntervalMs - sinceFold),
    );
    this.due.set(room.name.name, { timer, room, release, syncedAt });
  }

  private runFold(name: string): void {
    const job = this.due.get(name);
    if (!job) return;
    this.due.delete(name);
    this.foldedAt.set(name, performance.now());
    const queuedAt = performance.now();
    this.running = this.running.then(async () => {
      await this.yieldToEdits(queuedAt);
      try {
        await this.timed(() => this.write(job.room, job.syncedAt));
      } catch (error) {
        this.options.log(`rollup: could not fold ${name}: ${(error as Error).message}`);
      } finally {
        job.release();
        this.sync.unloadIfIdle(job.room);
      }
    });
  }

  /**
   * Folds these rooms, one at a time (each is loaded for its fold and unloaded after): the partner
   * rooms whose stored updates are ahead of their last written fold. Their partners' last sync is
   * not known any more; the time of this fold stands for it.
   */
  foldBehind(names: readonly string[]): void {
    for (const name of names) {
      const parsed = parseRoom(name);
      if (parsed?.kind !== 'partner') continue;
      const queuedAt = performance.now();
      this.running = this.running.then(async () => {
        await this.yieldToEdits(queuedAt);
        if (this.stopped) return;
        const room = this.sync.room(parsed);
        const release = room.hold();
        try {
          await room.loaded;
          await this.timed(() => this.write(room, this.options.now()));
        } catch (error) {
          this.options.log(`rollup: could not fold ${name} on start: ${(error as Error).message}`);
        } finally {
          release();
          this.sync.unloadIfIdle(room);
        }
      });
    }
  }

  /**
   * Folds share the thread with the rooms. Folds that fall due together — every partner of a busy
   * program edited since the last interval, rooms loaded at once — would otherwise run back to
   * back and hold every edit behind them (SQLite appends resolve without yielding): a fold that
   * was queued behind another (`queuedAt` before that one ended), which took d ms, waits until
   * FOLD_SHARE_WAIT × d ms have passed since it ended, so a burst takes at most a third of the
   * thread. A fold queued behind none starts at once.
   */
  private async yieldToEdits(queuedAt: number): Promise<void> {
    const wait = waitBeforeFold(queuedAt, this.lastFold, performance.now());
    await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
  }

  private async timed(fold: () => Promise<void>): Promise<void> {
    const start = performance.now();
    try {
      await fold();
    } finally {
      const endedAt = performance.now();
      this.lastFold = { ms: endedAt - start, endedAt };
    }
  }

  private async write(partner: Room, syncedAt: number): Promise<void> {
    // A room dropped meanwhile (reloaded from storage) is folded when its next change is stored.
    if (partner.name.kind !== 'partner' || partner.doc.isDestroyed) return;
    const { programId, partnerId } = partner.name;
    // Everything stored up to here is in the doc the fold reads (it may hold more, not less).
    const foldedSeq = partner.storedSeq;
    const rooms = [programRoom(programId), rollupDaysRoom(programId), rollupsRoom(programId)].map((name) =>
      parseRoom(name)!,
    );
    const written = await withProgramDocs(
      this.sync,
      rooms,
      async ([program, days, figures], [, daysRoom]) => {
        const tz = readProgram(program!)?.timeZone;
        if (!tz) {
          this.options.log(
            `rollup: program ${programId} has no time zone yet; ${partner.name.name} not folded`,
          );
          return false;
        }
        const fold = await this.fold(partner, tz);
        copyProgramSettings(program!, days!);
        // Only the days changed since the fold was last written into this very document (a room
        // reloaded since, from storage, may lack that write: then every day).
        const changedDays = fold.takeChangedDays();
        let chunks: Set<number>;
        try {
          const since = this.writtenTo.get(fold) === daysRoom!.doc ? { days: changedDays } : {};
          chunks = writeRollup(days!, partnerId, { lastSyncAt: syncedAt, rollup: fold.rollup(), ...since });
        } catch (error) {
          fold.unwritten(changedDays);
          throw error;
        }
        this.writtenTo.set(fold, daysRoom!.doc);
        projectFigures(days!, figures!, { partnerIds: [partnerId], chunks });
        return true;
      },
    );
    if (written) await this.options.markFolded?.(partner.name.name, foldedSeq);
  }

  private fold(partner: Room, tz: string): Promise<PartnerFold> {
    const kept = this.folds.get(partner);
    if (kept?.tz === tz) return kept.fold;
    void kept?.fold.then(
      (fold) => fold.close(),
      () => {},
    );
    const partnerId = partner.name.kind === 'partner' ? partner.name.partnerId : undefined;
    const made = PartnerFold.build(partner.doc, tz, { partnerId });
    const entry = { tz, fold: made };
    this.folds.set(partner, entry);
    // A fold that could not be built is tried afresh next time (the write logs why).
    made.catch(() => this.folds.get(partner) === entry && this.folds.delete(partner));
    // An unloaded room takes its buckets with it.
    partner.doc.once('destroy', () => {
      void made.then(
        (fold) => fold.close(),
        () => {},
      );
      if (this.folds.get(partner) === entry) this.folds.delete(partner);
    });
    return made;
  }

  /** Folds everything that is due now (shutdown, tests). */
  flush(): void {
    for (const [name, job] of this.due) {
      clearTimeout(job.timer);
      this.runFold(name);
    }
  }

  /** Resolves when every fold started so far is written. */
  settled(): Promise<void> {
    return this.running;
  }

  stop(): void {
    this.flush();
    this.stopped = true;
  }
}
