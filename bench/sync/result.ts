/**
 * The figures of one sync load (what bench/sync/report.ts prints), computed from what the load
 * recorded: its tallies, the server's statistics at each step, the CPU of this process and of the
 * machine.
 */
import type { ThreadSchedule } from '../../server/thread-schedule';
import type { ChildStats, ServerKind } from './protocol';
import type { Tally } from './tally';

/** One round of a scenario: each server's run, by turns. */
export interface Round {
  ours: SyncRunResult;
  relay: SyncRunResult;
  /** The relay with its rooms on a second thread (Scenario.threadedRelay). */
  threadedRelay?: SyncRunResult;
}

export interface SyncRunResult {
  kind: ServerKind;
  clients: number;
  sentPerSecond: number;
  deliveredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 of the time until the whole room had an edit. */
  roomP99Ms: number;
  ackP50Ms: number | undefined;
  ackP99Ms: number | undefined;
  /** p99 latency of the warm-up's edits (from a cold server). */
  warmUpP99Ms: number;
  lostCopies: number;
  expectedCopies: number;
  /** Server CPU seconds from the first edit until the server's delayed work is done (ours: SETTLE_MS after the last delivery). */
  cpuSeconds: number;
  /** Share of one core the server used while the load ran (first edit to last delivery). */
  cpuCoresBusy: number;
  clientCpuCoresBusy: number;
  /** The server's main thread while loaded: seconds on a CPU, waiting for one, and neither (idle, or blocked on the disk). */
  mainThread: ThreadTimes | undefined;
  /** The same of our engine's thread (the relay has none). */
  engineThread: ThreadTimes | undefined;
  /** Everything else this machine ran while loaded (other people's builds and tests on a shared machine). */
  otherCpuCoresBusy: number;
  rssPerConnection: number;
  heapPerConnection: number;
  rssLoaded: number;
  editBytes: number;
  /** One room's content as first sent: what each client's first sync receives. */
  roomBytes: number;
  converged: boolean;
  closedByServer: Map<number, number>;
  echoes: number;
  unreadable: number;
  storedUpdates: number | undefined;
  /** The slowest edit (to the whole room) among those made in each second of the load, ms. */
  worstBySecond: number[];
  rollupsSeen: number | undefined;
  serverLog: string[];
  serverLogLines: number;
}

/** Seconds a thread spent on a CPU, waiting for one, and neither, over a span of time. */
export interface ThreadTimes {
  cpu: number;
  waiting: number;
  neither: number;
}

/** What the measured part of a load recorded (bench/sync/load.ts). */
export interface MeasuredLoad {
  /** When the first and the last edit were sent (performance.now(), ms). */
  sent: { first: number; last: number };
  /** When the last copy arrived, or the last edit was sent if later. */
  busyEnd: number;
  /** The server at the first edit, at `busyEnd`, and after its delayed work. */
  start: ChildStats;
  busy: ChildStats;
  end: ChildStats;
  /** This process's CPU (the clients') from the first edit to `busyEnd`. */
  clientCpu: NodeJS.CpuUsage;
  /** CPU seconds every process of the machine used meanwhile. */
  machineBusy: number;
  rollupsSeen: number | undefined;
}

export interface LoadRecord extends MeasuredLoad {
  kind: ServerKind;
  updates: number;
  clients: number;
  /** The close code of each client the server closed. */
  closeCodes: number[];
  tally: Tally;
  warmUp: Tally;
  /** The server (after a GC) before the clients other than the checkers connected, and once they had. */
  before: ChildStats;
  connected: ChildStats;
  connections: number;
  roomBytes: number;
  converged: boolean;
  editBytes: number;
}

/** Nearest rank of sorted samples, q in 0..1; NaN when there are none. */
export const percentile = (sorted: Float64Array | number[], q: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]! : NaN;

export function summarize(load: LoadRecord): SyncRunResult {
  const { tally, warmUp, sent, busyEnd, start, busy, end, clientCpu, before, connected, connections } = load;
  const latencies = tally.latencies.subarray(0, tally.count).sort();
  const warmUpLatencies = warmUp.latencies.subarray(0, warmUp.count).sort();
  const slowest = tally.slowest.filter((_, seq) => tally.received[seq] === tally.expected[seq]).sort();
  const acks = tally.acks.sort((a, b) => a - b);
  const closedByServer = new Map<number, number>();
  for (const code of load.closeCodes) closedByServer.set(code, (closedByServer.get(code) ?? 0) + 1);
  return {
    kind: load.kind,
    clients: load.clients,
    sentPerSecond: load.updates > 1 ? ((load.updates - 1) * 1000) / (sent.last - sent.first) : NaN,
    deliveredPerSecond: (tally.complete * 1000) / (busyEnd - sent.first),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    roomP99Ms: percentile(slowest, 0.99),
    ackP50Ms: acks.length ? percentile(acks, 0.5) : undefined,
    ackP99Ms: acks.length ? percentile(acks, 0.99) : undefined,
    warmUpP99Ms: percentile(warmUpLatencies, 0.99),
    lostCopies: tally.expectedCopies - tally.count,
    expectedCopies: tally.expectedCopies,
    cpuSeconds: (end.cpuMicros - start.cpuMicros) / 1e6,
    cpuCoresBusy: (busy.cpuMicros - start.cpuMicros) / 1000 / (busyEnd - sent.first),
    clientCpuCoresBusy: (clientCpu.user + clientCpu.system) / 1000 / (busyEnd - sent.first),
    mainThread: threadTimes(start.mainThread, busy.mainThread, (busyEnd - sent.first) / 1000),
    engineThread: threadTimes(start.engineThread, busy.engineThread, (busyEnd - sent.first) / 1000),
    otherCpuCoresBusy:
      Math.max(
        0,
        load.machineBusy -
          (busy.cpuMicros - start.cpuMicros) / 1e6 -
          (clientCpu.user + clientCpu.system) / 1e6,
      ) /
      ((busyEnd - sent.first) / 1000),
    rssPerConnection: (connected.rss - before.rss) / connections,
    heapPerConnection:
      (connected.heapUsed + connected.external - before.heapUsed - before.external) / connections,
    rssLoaded: end.rss,
    editBytes: load.editBytes,
    roomBytes: load.roomBytes,
    converged: load.converged,
    closedByServer,
    echoes: tally.echoes,
    unreadable: tally.unreadable,
    storedUpdates:
      start.updatesStored !== undefined && end.updatesStored !== undefined
        ? end.updatesStored - start.updatesStored
        : undefined,
    worstBySecond: worstBySecond(tally, sent.first),
    rollupsSeen: load.rollupsSeen,
    serverLog: end.log,
    serverLogLines: end.logLines,
  };
}

function threadTimes(
  from: ThreadSchedule | undefined,
  to: ThreadSchedule | undefined,
  seconds: number,
): ThreadTimes | undefined {
  if (!from || !to) return undefined;
  const cpu = (to.cpuNs - from.cpuNs) / 1e9;
  const waiting = (to.runQueueNs - from.runQueueNs) / 1e9;
  return { cpu, waiting, neither: Math.max(0, seconds - cpu - waiting) };
}

/** The slowest edit made in each second of the load: regular spikes point at periodic work. */
function worstBySecond(tally: Tally, first: number): number[] {
  const worst: number[] = [];
  for (let seq = 0; seq < tally.updates; seq++) {
    const second = Math.floor((tally.sentAt[seq]! - first) / 1000);
    worst[second] = Math.max(worst[second] ?? 0, tally.slowest[seq]!);
  }
  return worst;
}
