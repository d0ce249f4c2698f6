/**
 * The sync part of `npm run bench`: many devices editing deals at once, through the real server
 * (tokens checked, every update stored in SQLite, rollups folded for the vendor) and, in the same
 * run, through a minimal relay that only speaks the sync protocol (bench/sync/relay.ts).
 *
 *   A  100 clients in one partner room, at 1,000 updates/s (with a budget) and at 200 updates/s
 *   B  1,000 clients in 50 partner rooms (20 each), at 1,000 updates/s (with a budget, #12)
 *
 * Each server runs in a child process of its own (bench/sync/server-child.ts, driven through
 * server-process.ts), so its CPU time and memory are its own and not the clients': the child
 * reports `process.cpuUsage()` and `process.memoryUsage()` over IPC (the same figures as /metrics'
 * process_cpu_seconds_total and process_resident_memory_bytes). The clients all live in this
 * process, so one clock times both ends of every delivery.
 *
 * Clients are small (bench/sync/client.ts), so that 1,000 fit here. Each holds a Y.Doc with only its
 * own deal and writes each edit's number into its title (bench/sync/tally.ts); it makes its edits
 * before the load and sends each at its time, as what the clients do shares the server's cores. One
 * client per room (the "checker") applies everything it received to a full copy of the room after
 * the load and must then hold every client's last edit — the check that the updates were real and
 * arrived whole.
 *
 * Edits are paced by one timer for all clients (each tick sends what is due by then, round robin
 * over the clients, room by room in turn). Each load (bench/sync/load.ts) is a fixed number of edits
 * after a warm-up (WARM_UP_SECONDS at the scenario's rate, at least one edit per client); the run
 * waits for every copy (at most DRAIN_TIMEOUT_MS, then counts the rest lost).
 *
 * The figures (bench/sync/result.ts, printed by report.ts): propagation latency from an edit to its
 * arrival at each other client of the room (p50, p99), the rates sent and delivered, server CPU
 * (from the first edit until every copy is delivered, plus a pause that lets the server's delayed
 * work — rollup folds — land), and server memory per connection (RSS with the clients connected
 * minus before, after a GC, per client). This machine may be shared: the CPU that other processes
 * used meanwhile, and how long the server's main thread waited for a CPU (Linux schedstat), say how
 * far to trust the latencies.
 *
 * A scenario is run BENCH_SYNC_ROUNDS times (default 3), ours and the relay by turns (B also through
 * the relay with its rooms on a second thread, the cost of the thread crossing alone): the table is
 * the first round's, and a line after it gives every round's p99 and their median; a scenario's
 * budget (Scenario.budget) is judged on the medians (this machine's neighbours move single runs by
 * several times).
 *
 * Environment: BENCH_SCENARIO=B runs only the scenarios whose name starts so;
 * BENCH_SYNC_ROUNDS=<n> the rounds; BENCH_SERVER_CPU_PROFILE=<dir> makes each server's process
 * write a V8 CPU profile there.
 */
import { runLoad } from './load';
import { printBudget, printIntro, printNotMeasured, printRounds, printScenario } from './report';
import type { Round } from './result';
import { chosenScenarios } from './scenarios';

const ROUNDS = Math.max(1, Number(process.env['BENCH_SYNC_ROUNDS'] ?? 3));

export interface SyncBenchOptions {
  updates: number;
}

/** Runs every scenario against our server and the relay, prints the figures; false when an edit got lost or a room did not converge. */
export async function benchSync({ updates }: SyncBenchOptions): Promise<boolean> {
  printIntro();
  let ok = true;
  for (const scenario of chosenScenarios()) {
    const rounds: Round[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++)
        rounds.push({
          ours: await runLoad(scenario, 'ours', updates),
          relay: await runLoad(scenario, 'relay', updates),
          threadedRelay: scenario.threadedRelay
            ? await runLoad(scenario, 'threaded relay', updates)
            : undefined,
        });
    } catch (error) {
      printNotMeasured(scenario, error as Error);
      ok = false;
      continue;
    }
    const { ours, relay } = rounds[0]!;
    printScenario(scenario, updates, ours, relay);
    printRounds(rounds, updates);
    if (scenario.budget) printBudget(scenario, scenario.budget, rounds);
    for (const round of rounds)
      for (const run of [round.ours, round.relay, round.threadedRelay])
        if (run) ok &&= run.lostCopies === 0 && run.converged;
  }
  return ok;
}
