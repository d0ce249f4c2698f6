/**
 * Publishes the program benchmark (sync SPEC P7) in the benchmark room (`program/<p>/benchmark`),
 * which the server alone writes and every partner of the program reads: for each period the app
 * offers (this month, last month, this quarter, the last 12 months, as of now in the program's
 * zone), the median and quartiles of the partners' figures, computed from the rollups
 * (src/lib/kpi/benchmark.ts), never any one partner's figure. Written again after the rollups
 * change (after a short delay, so a burst of folds is one write) and every hour (the periods move
 * with the calendar); a write that would change nothing writes nothing.
 */
import { computeBenchmark } from '../../src/lib/kpi/benchmark';
import { formatDay, PERIOD_PRESETS, presetRange } from '../../src/lib/kpi/calendar';
import { openProgramDoc, readProgram, readRollups, writeBenchmarks } from '../../src/lib/sync/program-doc';
import { benchmarkRoom, parseRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import type { SyncServer } from '../sync/sync-server';

/** The periods move with the calendar: a program whose partners are quiet still gets next month's. */
const REPUBLISH_EVERY_MS = 60 * 60 * 1000;

export interface BenchmarkWorkerOptions {
  now: () => number;
  /** Wait this long after the rollups change before publishing. */
  delayMs: number;
  log: (line: string) => void;
}

export class BenchmarkWorker {
  private readonly due = new Map<string, NodeJS.Timeout>();
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
    this.due.set(
      programId,
      setTimeout(() => this.run(programId), this.options.delayMs),
    );
  }

  private run(programId: string): void {
    if (!this.due.delete(programId)) return;
    this.running = this.running.then(() => this.publish(programId).catch((error: unknown) => this.options.log(`benchmark: could not publish ${programId}: ${(error as Error).message}`)));
  }

  private async publish(programId: string): Promise<void> {
    const rollups = this.sync.room(parseRoom(rollupsRoom(programId))!);
    const benchmark = this.sync.room(parseRoom(benchmarkRoom(programId))!);
    const releases = [rollups.hold(), benchmark.hold()];
    const rollupsDoc = openProgramDoc(rollups.doc);
    const benchmarkDoc = openProgramDoc(benchmark.doc);
    try {
      await Promise.all([rollups.loaded, benchmark.loaded]);
      const tz = readProgram(rollupsDoc)?.timeZone;
      if (!tz) return;
      const byPartner = new Map([...readRollups(rollupsDoc)].map(([partnerId, entry]) => [partnerId, entry.rollup]));
      const now = this.options.now();
      const benchmarks = PERIOD_PRESETS.map((preset) => {
        const range = presetRange(preset, now, tz);
        return computeBenchmark(byPartner, { period: { from: formatDay(range.fromDay), to: formatDay(range.toDay), tz } });
      });
      if (writeBenchmarks(benchmarkDoc, benchmarks)) await benchmark.whenStored();
    } finally {
      rollupsDoc.close();
      benchmarkDoc.close();
      for (const release of releases) release();
      this.sync.unloadIfIdle(rollups);
      this.sync.unloadIfIdle(benchmark);
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
