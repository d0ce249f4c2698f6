/**
 * Keeps each partner's KPI buckets in the program's rollups room (`program/<p>/rollups`, written by
 * the server alone, read by vendor staff) current: when a partner room stores a change, the
 * partner's document is folded into buckets (after a short delay, so a burst of edits is folded
 * once) and written into the rollups document's `rollups` with the time of that sync, beside a copy
 * of the program's settings (their zone is the buckets'). The write takes the room's ordinary
 * path: stored, then sent to the vendor's devices there.
 *
 * Due folds live in memory, so each written fold is recorded in storage with the partner room's
 * stored seq it covers (`markFolded`); on start the server folds every partner room stored beyond
 * its last fold (`foldBehind`): a fold the process did not live to write is not lost.
 */
import { PartnerFold } from './fold';
import { copyProgramSettings, openProgramDoc, readProgram, writeRollup, ROLLUP_ORIGIN } from '../../src/lib/sync/program-doc';
import { programRoom, parseRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import type { Room } from '../sync/room';
import type { SyncServer } from '../sync/sync-server';

export interface RollupWorkerOptions {
  now: () => number;
  /** Records that a partner room's rollup covers its stored updates up to `seq` (FoldStore). */
  markFolded?: (room: string, seq: number) => Promise<void>;
  /** Wait this long after a partner's change before folding (edits arriving meanwhile join in). */
  delayMs: number;
  log: (line: string) => void;
}

export class RollupWorker {
  private readonly due = new Map<string, { timer: NodeJS.Timeout; room: Room; release: () => void; syncedAt: number }>();
  /** The kept-current buckets of each partner room folded so far (or being built), while that room stays loaded. */
  private readonly folds = new Map<Room, { tz: string; fold: Promise<PartnerFold> }>();
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

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
    const timer = setTimeout(() => this.runFold(room.name.name), this.options.delayMs);
    this.due.set(room.name.name, { timer, room, release, syncedAt });
  }

  private runFold(name: string): void {
    const job = this.due.get(name);
    if (!job) return;
    this.due.delete(name);
    this.running = this.running.then(async () => {
      // Folds that fall due together (rooms loaded at once) must not hold the event loop between
      // them: SQLite appends resolve without yielding, so without this no socket is read until
      // the last fold is written.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        await this.write(job.room, job.syncedAt);
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
      this.running = this.running.then(async () => {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.stopped) return;
        const room = this.sync.room(parsed);
        const release = room.hold();
        try {
          await room.loaded;
          await this.write(room, this.options.now());
        } catch (error) {
          this.options.log(`rollup: could not fold ${name} on start: ${(error as Error).message}`);
        } finally {
          release();
          this.sync.unloadIfIdle(room);
        }
      });
    }
  }

  private async write(partner: Room, syncedAt: number): Promise<void> {
    // A room dropped meanwhile (reloaded from storage) is folded when its next change is stored.
    if (partner.name.kind !== 'partner' || partner.doc.isDestroyed) return;
    // Everything stored up to here is in the doc the fold reads (it may hold more, not less).
    const foldedSeq = partner.storedSeq;
    const program = this.sync.room(parseRoom(programRoom(partner.name.programId))!);
    const rollups = this.sync.room(parseRoom(rollupsRoom(partner.name.programId))!);
    const releases = [program.hold(), rollups.hold()];
    const programDoc = openProgramDoc(program.doc);
    const rollupsDoc = openProgramDoc(rollups.doc);
    try {
      await Promise.all([program.loaded, rollups.loaded]);
      const tz = readProgram(programDoc)?.timeZone;
      if (!tz) {
        this.options.log(`rollup: program ${partner.name.programId} has no time zone yet; ${partner.name.name} not folded`);
        return;
      }
      const fold = await this.fold(partner, tz);
      copyProgramSettings(programDoc, rollupsDoc);
      writeRollup(rollupsDoc, partner.name.partnerId, { lastSyncAt: syncedAt, series: fold.series() });
      await rollups.whenStored();
      await this.options.markFolded?.(partner.name.name, foldedSeq);
    } finally {
      programDoc.close();
      rollupsDoc.close();
      for (const release of releases) release();
      this.sync.unloadIfIdle(program);
      this.sync.unloadIfIdle(rollups);
    }
  }

  private fold(partner: Room, tz: string): Promise<PartnerFold> {
    const kept = this.folds.get(partner);
    if (kept?.tz === tz) return kept.fold;
    void kept?.fold.then((fold) => fold.close(), () => {});
    const partnerId = partner.name.kind === 'partner' ? partner.name.partnerId : undefined;
    const made = PartnerFold.build(partner.doc, tz, { partnerId });
    const entry = { tz, fold: made };
    this.folds.set(partner, entry);
    // A fold that could not be built is tried afresh next time (the write logs why).
    made.catch(() => this.folds.get(partner) === entry && this.folds.delete(partner));
    // An unloaded room takes its buckets with it.
    partner.doc.once('destroy', () => {
      void made.then((fold) => fold.close(), () => {});
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
