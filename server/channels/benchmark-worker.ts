/**
 * Publishes the program benchmark (sync SPEC P7, V1) into each partner's channel, which the server
 * alone writes and that partner alone reads: for each period the app offers (this month, last
 * month, this quarter, the last 12 months, as of now in the program's zone), the median and
 * quartiles of the *other* partners' figures, computed from the rollups (src/lib/kpi/benchmark.ts).
 * A partner's own figure never enters what it sees, so it cannot slide the aggregates over its
 * competitors' figures. Written again after the rollups change (after a short delay, so a burst of
 * folds is one write, and at most once every `minIntervalMs`: a program of a thousand partners
 * folds all day, and a month's quartiles do not move by the minute) and every hour (the periods
 * move with the calendar); a channel whose benchmark would not change is not written.
 */
import { computeBenchmarksForEach, type Benchmark } from '../../src/lib/kpi/benchmark';
import { formatDay, PERIOD_PRESETS, presetRange } from '../../src/lib/kpi/calendar';
import {
  openProgramDoc,
  readPartners,
  readProgram,
  readRollups,
  writeBenchmarks,
} from '../../src/lib/sync/program-doc';
import { channelRoom, parseRoom, programRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import type { SyncServer } from '../sync/sync-server';
import { writeServerView } from './server-view';

/** The periods move with the calendar: a program whose partners are quiet still gets next month's. */
const REPUBLISH_EVERY_MS = 60 * 60 * 1000;

export interface BenchmarkWorkerOptions {
  now: () => number;
  /** Wait this long after the rollups change before publishing. */
  delayMs: number;
  /** Publish a program at most this often (0: after every change, as tests want). */
  minIntervalMs?: number;
  log: (line: string) => void;
}

export class BenchmarkWorker {
  private readonly due = new Map<string, NodeJS.Timeout>();
  /** When each program was last published. */
  private readonly publishedAt = new Map<string, number>();
  private readonly programs = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly republisher: NodeJS.Timeout;

  constructor(
    private readonly sync: SyncServer,
    private readonly options: BenchmarkWorkerOptions,
  ) {
    this.republisher = setInterval(() => {
      for (const programId of this.programs) this.schedule(programId);
    }, REPUBLISH_EVERY_MS);
    this.republisher.unref();
  }

  /** Publishes the program's benchmark once the delay has passed (a burst of calls is one write). */
  schedule(programId: string): void {
    if (this.stopped || this.due.has(programId)) return;
    this.programs.add(programId);
    const last = this.publishedAt.get(programId);
    const wait = last === undefined ? 0 : last + (this.options.minIntervalMs ?? 0) - this.options.now();
    this.due.set(
      programId,
      setTimeout(() => this.run(programId), Math.max(this.options.delayMs, wait)),
    );
  }

  private run(programId: string): void {
    if (!this.due.delete(programId)) return;
    this.publishedAt.set(programId, this.options.now());
    this.running = this.running.then(() =>
      this.publish(programId).catch((error: unknown) =>
        this.options.log(`benchmark: could not publish ${programId}: ${(error as Error).message}`),
      ),
    );
  }

  private async publish(programId: string): Promise<void> {
    const perPartner = await this.compute(programId);
    for (const [partnerId, benchmarks] of perPartner) {
      // One channel at a time, letting sockets be read between them: a program may have a thousand.
      await new Promise((resolve) => setImmediate(resolve));
      const name = parseRoom(channelRoom(programId, partnerId));
      if (!name) continue;
      await writeServerView(this.sync, name, (view) => writeBenchmarks(view, benchmarks)).catch(
        (error: unknown) =>
          this.options.log(`benchmark: could not write ${name.name}: ${(error as Error).message}`),
      );
    }
  }

  /** Every partner's benchmarks of the app's periods, from the rollups (each without its own figure). */
  private async compute(programId: string): Promise<Map<string, Benchmark[]>> {
    const program = this.sync.room(parseRoom(programRoom(programId))!);
    const rollups = this.sync.room(parseRoom(rollupsRoom(programId))!);
    const releases = [program.hold(), rollups.hold()];
    const programDoc = openProgramDoc(program.doc);
    const rollupsDoc = openProgramDoc(rollups.doc);
    try {
      await Promise.all([program.loaded, rollups.loaded]);
      const perPartner = new Map<string, Benchmark[]>();
      const tz = readProgram(rollupsDoc)?.timeZone;
      if (!tz) return perPartner;
      const byPartner = new Map(
        [...readRollups(rollupsDoc)].map(([partnerId, entry]) => [partnerId, entry.rollup]),
      );
      const viewers = readPartners(programDoc).map((partner) => partner.id);
      const now = this.options.now();
      for (const preset of PERIOD_PRESETS) {
        const range = presetRange(preset, now, tz);
        const each = computeBenchmarksForEach(
          byPartner,
          { period: { from: formatDay(range.fromDay), to: formatDay(range.toDay), tz } },
          viewers,
        );
        for (const [partnerId, benchmark] of each)
          perPartner.set(partnerId, [...(perPartner.get(partnerId) ?? []), benchmark]);
      }
      return perPartner;
    } finally {
      programDoc.close();
      rollupsDoc.close();
      for (const release of releases) release();
      this.sync.unloadIfIdle(program);
      this.sync.unloadIfIdle(rollups);
    }
  }

  /** Publishes everything that is due now (shutdown, tests). */
  flush(): void {
    for (const [programId, timer] of this.due) {
      clearTimeout(timer);
      this.run(programId);
    }
  }

  /** Resolves when every publication started so far is written. */
  settled(): Promise<void> {
    return this.running;
  }

  stop(): void {
    this.flush();
    this.stopped = true;
    clearInterval(this.republisher);
  }
}
