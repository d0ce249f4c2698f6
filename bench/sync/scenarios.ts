/**
 * What the sync bench runs: its scenarios, the budgets of those that have one, and the fixed
 * parameters of every load.
 */

/** A scenario's budget, judged on the medians of its rounds: our p99, and ours against the relay's. */
export interface SyncBudget {
  p99Ms: number;
  /** Our median p99 at most this many times the relay's (#12). */
  p99RatioToRelay?: number;
  /** Our median server CPU at most this many times the relay's. */
  cpuRatio?: number;
}

export interface Scenario {
  name: string;
  rooms: number;
  clientsPerRoom: number;
  /** Updates per second, all clients together. */
  rate: number;
  budget?: SyncBudget;
  /**
   * Also run the relay with its rooms on a second thread ('threaded relay'), as our engine is: what
   * crossing between two threads costs on this machine, before any of our server's own work.
   */
  threadedRelay?: boolean;
}

export const SYNC_SCENARIOS: readonly Scenario[] = [
  { name: 'A', rooms: 1, clientsPerRoom: 100, rate: 1_000, budget: { p99Ms: 20, cpuRatio: 1.5 } },
  { name: 'A', rooms: 1, clientsPerRoom: 100, rate: 200 },
  {
    name: 'B',
    rooms: 50,
    clientsPerRoom: 20,
    rate: 1_000,
    budget: { p99Ms: 20, p99RatioToRelay: 2 },
    threadedRelay: true,
  },
];

/** BENCH_SCENARIO=B: only the scenarios whose name starts so (a profile of one of them). */
export const chosenScenarios = (prefix = process.env['BENCH_SCENARIO'] ?? ''): Scenario[] =>
  SYNC_SCENARIOS.filter((one) => one.name.startsWith(prefix));

export const PROGRAM_ID = 'bench';
/** Deals in each partner room besides the clients' own: about one demo partner's (3,300 deals over 6 partners). */
export const FILLER_DEALS = 500;
/**
 * Every client connects from 127.0.0.1: the bench sets how many one address may open, whatever the
 * shipped default (limits.ts). The only limit it sets: the per-connection message rate is far above
 * what one client sends here (10 edits/s at most, in A at 1,000/s).
 */
export const CONNECTIONS_PER_ADDRESS = 2_000;
/** Connections opened at once while setting up (the server verifies a token and sends the room for each). */
export const CONNECT_BATCH = 50;
/**
 * The warm-up before each measured load: this long at the scenario's rate (and at least one edit
 * per client). Its purpose is a steady state, and a server with more code than the relay reaches
 * one later: ours, in-process at 1,000 edits/s in 50 rooms, took 519–596 µs of CPU per edit in the
 * 5 s after a 1 s warm-up and 414–438 µs in the 5 s after that (the optimizing compiler still at
 * work).
 */
export const WARM_UP_SECONDS = 5;
/** How long to wait after the last edit for every copy to arrive before counting the rest as lost. */
export const DRAIN_TIMEOUT_MS = 15_000;
/** After the last delivery: longer than the rollup worker's delay (1 s), so its folds of the load are counted. */
export const SETTLE_MS = 1_500;
/** The relay has no delayed work: a short pause after setting up is enough. */
export const RELAY_SETTLE_MS = 200;
