/**
 * What the sync bench prints: how it measures, each scenario's figures for our server beside the
 * relay's, and the verdict on the budgets of the scenarios that have one.
 */
import { cpus } from 'node:os';
import { DEFAULT_LIMITS } from '../../server/sync/limits';
import { median } from '../stats';
import type { Round, SyncRunResult } from './result';
import {
  CONNECTIONS_PER_ADDRESS,
  FILLER_DEALS,
  WARM_UP_SECONDS,
  type Scenario,
  type SyncBudget,
} from './scenarios';

const fixed = (value: number | undefined, digits = 1) =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const int = (value: number) => Math.round(value).toLocaleString('en-US');
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const verdict = (value: number, target: number) => (value <= target ? 'met' : 'MISSED');

export function printScenario(
  scenario: Scenario,
  updates: number,
  ours: SyncRunResult,
  relay: SyncRunResult,
): void {
  const clients = scenario.rooms * scenario.clientsPerRoom;
  const where =
    scenario.rooms === 1
      ? 'one partner room'
      : `${scenario.rooms} partner rooms (${scenario.clientsPerRoom} each)`;
  console.log(
    `\n${scenario.name}: ${int(clients)} clients in ${where}, ${int(scenario.rate)} updates/s, ${int(updates)} updates`,
  );
  console.log(
    `  (an edit is ${ours.editBytes} bytes on the wire; a room's content, which each client's first sync receives, ${kb(ours.roomBytes)} KB)`,
  );
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
  const rows: [string, string, string, string][] = [
    ['edits sent, per s', int(ours.sentPerSecond), int(relay.sentPerSecond), ''],
    [
      'edits delivered to the whole room, per s',
      int(ours.deliveredPerSecond),
      int(relay.deliveredPerSecond),
      '',
    ],
    [
      'latency to each other client, p50 ms',
      fixed(ours.p50Ms, 2),
      fixed(relay.p50Ms, 2),
      ratio(ours.p50Ms, relay.p50Ms),
    ],
    [
      'latency to each other client, p99 ms',
      fixed(ours.p99Ms, 2),
      fixed(relay.p99Ms, 2),
      ratio(ours.p99Ms, relay.p99Ms),
    ],
    [
      'latency to the whole room, p99 ms',
      fixed(ours.roomP99Ms, 2),
      fixed(relay.roomP99Ms, 2),
      ratio(ours.roomP99Ms, relay.roomP99Ms),
    ],
    ['stored and acknowledged to the sender, p50 ms', fixed(ours.ackP50Ms, 2), '(none)', ''],
    ['stored and acknowledged to the sender, p99 ms', fixed(ours.ackP99Ms, 2), '(none)', ''],
    [
      'server CPU, s (incl. delayed work)',
      fixed(ours.cpuSeconds, 2),
      fixed(relay.cpuSeconds, 2),
      ratio(ours.cpuSeconds, relay.cpuSeconds),
    ],
    [
      'server CPU per edit, µs',
      int((ours.cpuSeconds * 1e6) / updates),
      int((relay.cpuSeconds * 1e6) / updates),
      '',
    ],
    ['server CPU while loaded, cores', fixed(ours.cpuCoresBusy, 2), fixed(relay.cpuCoresBusy, 2), ''],
    [
      'client process CPU while loaded, cores',
      fixed(ours.clientCpuCoresBusy, 2),
      fixed(relay.clientCpuCoresBusy, 2),
      '',
    ],
    [
      `other processes' CPU while loaded, cores (of ${cpus().length})`,
      fixed(ours.otherCpuCoresBusy, 2),
      fixed(relay.otherCpuCoresBusy, 2),
      '',
    ],
    [
      'server main thread while loaded: on a CPU, s',
      fixed(ours.mainThread?.cpu, 2),
      fixed(relay.mainThread?.cpu, 2),
      '',
    ],
    [
      '  waiting for a CPU (others had it), s',
      fixed(ours.mainThread?.waiting, 2),
      fixed(relay.mainThread?.waiting, 2),
      '',
    ],
    [
      '  neither (idle, or blocked on the disk), s',
      fixed(ours.mainThread?.neither, 2),
      fixed(relay.mainThread?.neither, 2),
      '',
    ],
    ["server engine's thread while loaded: on a CPU, s", fixed(ours.engineThread?.cpu, 2), '(none)', ''],
    ['  waiting for a CPU (others had it), s', fixed(ours.engineThread?.waiting, 2), '(none)', ''],
    [
      'server RSS per connection, KB',
      kb(ours.rssPerConnection),
      kb(relay.rssPerConnection),
      ratio(ours.rssPerConnection, relay.rssPerConnection),
    ],
    [
      'server JS heap + external per connection, KB',
      kb(ours.heapPerConnection),
      kb(relay.heapPerConnection),
      '',
    ],
    ['server RSS after the load, MB', fixed(ours.rssLoaded / 1048576), fixed(relay.rssLoaded / 1048576), ''],
    ['warm-up (not above), p99 ms', fixed(ours.warmUpP99Ms, 2), fixed(relay.warmUpP99Ms, 2), ''],
    [
      'copies lost (not there 15 s after the last edit)',
      `${int(ours.lostCopies)} of ${int(ours.expectedCopies)}`,
      `${int(relay.lostCopies)} of ${int(relay.expectedCopies)}`,
      '',
    ],
  ];
  console.log(`  ${''.padEnd(48)} ${'ours'.padStart(10)} ${'relay'.padStart(10)}  ours ÷ relay`);
  for (const [label, a, b, c] of rows)
    console.log(`  ${label.padEnd(48)} ${a.padStart(10)} ${b.padStart(10)}  ${c}`);
  for (const run of [ours, relay]) {
    const notes: string[] = [];
    notes.push(`every checker holds every client's last edit: ${run.converged ? 'yes' : 'NO'}`);
    if (run.closedByServer.size)
      notes.push(
        `sockets closed by the server: ${[...run.closedByServer].map(([code, count]) => `${count} × ${code}`).join(', ')}`,
      );
    if (run.echoes) notes.push(`edits echoed to their sender: ${run.echoes}`);
    if (run.unreadable) notes.push(`updates without a readable edit id: ${run.unreadable}`);
    if (run.storedUpdates !== undefined)
      notes.push(
        `updates stored during the load: ${int(run.storedUpdates)} (${int(updates)} edits + rollup writes)`,
      );
    if (run.rollupsSeen !== undefined)
      notes.push(`rollups received by the vendor console: ${int(run.rollupsSeen)}`);
    if (run.serverLogLines)
      notes.push(`server log lines: ${run.serverLogLines}, first: ${JSON.stringify(run.serverLog[0])}`);
    console.log(`  ${run.kind}: ${notes.join('; ')}`);
  }
  for (const run of [ours, relay])
    console.log(
      `  ${run.kind}, slowest edit made in each second of the load, ms: ${run.worstBySecond.map((value) => Math.round(value)).join(' ')}`,
    );
}

/** How the sync bench measures, printed before its figures. */
export function printIntro(): void {
  console.log('\n=== sync: the real server against a minimal relay ===');
  console.log(
    [
      'clients: a small y-websocket-protocol client over `ws` (sync step 1/2, updates, the `saved` acknowledgement; no awareness,',
      "  no WebsocketProvider), all in this process; an edit is updateDeal of the client's own deal (its title carries its number),",
      '  made before the warm-up and sent at its time: latency runs from the send to each receipt.',
      `  One client per room keeps a full copy of the room, applied after the load; each room starts with ${FILLER_DEALS} deals + one per client.`,
      "ours: startServer in a child process — sockets on its main thread, rooms, checks, SQLite and rollups on the engine's thread;",
      '  auth on (a signed token per client), SQLite in a temp DATA_DIR, demo off, rollups on',
      `  (a vendor console stays on the program room); limits as shipped except connectionsPerAddress, ${int(CONNECTIONS_PER_ADDRESS)} (shipped: ${int(DEFAULT_LIMITS.connectionsPerAddress)})`,
      '  (every client comes from 127.0.0.1).',
      'relay: bench/sync/relay.ts in a child process — a Y.Doc per room, sync step 1/2, apply, send to the others; nothing else.',
      '  In B also with its rooms on a second thread (relay-thread.ts), as our engine is: the cost of the thread crossing alone.',
      `Edits are paced by one timer for all clients; each load follows a warm-up of ${WARM_UP_SECONDS} s at the same rate (not measured) and waits for every copy.`,
      "CPU and memory are each server process's own, every thread (process.cpuUsage / memoryUsage over IPC). Memory per",
      '  connection: the growth while the clients connect, after a GC, ÷ their number; RSS keeps some of what sending each client',
      '  the room took, so the JS heap + external growth is shown too.',
    ].join('\n'),
  );
}

/** Every round's p99 to each other client, ours and the relay's, and their medians. */
export function printRounds(rounds: readonly Round[], updates: number): void {
  const threaded = threadedRuns(rounds);
  if (threaded)
    console.log(
      `  relay with its rooms on a second thread, round 1: p50 ${fixed(threaded[0]!.p50Ms, 2)} ms, p99 ${fixed(threaded[0]!.p99Ms, 2)} ms, server CPU per edit ${int((threaded[0]!.cpuSeconds * 1e6) / updates)} µs`,
    );
  if (rounds.length < 2) return;
  const line = (runs: SyncRunResult[]) => {
    const p99s = runs.map((run) => run.p99Ms);
    return `${p99s.map((p99) => p99.toFixed(1)).join(', ')} (median ${median(p99s).toFixed(1)})`;
  };
  const ours = rounds.map((round) => round.ours);
  const relay = rounds.map((round) => round.relay);
  const ratio = medianP99(ours) / medianP99(relay);
  console.log(
    `  p99 to each other client over ${rounds.length} rounds, ms: ours ${line(ours)}, relay ${line(relay)}${threaded ? `, relay with its rooms on a second thread ${line(threaded)}` : ''}; medians, ours ÷ relay ${ratio.toFixed(2)}×`,
  );
}

const medianP99 = (runs: readonly SyncRunResult[]) => median(runs.map((run) => run.p99Ms));

/** The threaded relay's runs, if the scenario has them. */
function threadedRuns(rounds: readonly Round[]): SyncRunResult[] | undefined {
  const runs = rounds.flatMap((round) => (round.threadedRelay ? [round.threadedRelay] : []));
  return runs.length > 0 ? runs : undefined;
}

export function printNotMeasured(scenario: Scenario, error: Error): void {
  console.log(`\n${scenario.name} at ${int(scenario.rate)} updates/s: not measured (${error.message})`);
}

/** The verdict on a scenario's budget, from the medians of its rounds (one round's figure is not to be trusted here). */
export function printBudget(scenario: Scenario, budget: SyncBudget, rounds: readonly Round[]): void {
  const p99 = medianP99(rounds.map((round) => round.ours));
  const relayP99 = medianP99(rounds.map((round) => round.relay));
  const of = `median of ${rounds.length} round${rounds.length === 1 ? '' : 's'}`;
  console.log(`  budget at ${int(scenario.rate)} updates/s (${of}):`);
  console.log(
    `    latency p99 ${fixed(p99, 2)} ms   target ≤ ${budget.p99Ms} ms: ${verdict(p99, budget.p99Ms)}   (relay: ${fixed(relayP99, 2)} ms)`,
  );
  if (budget.p99RatioToRelay !== undefined) {
    const ratio = p99 / relayP99;
    console.log(
      `    latency p99 ${ratio.toFixed(2)} × the relay's   target ≤ ${budget.p99RatioToRelay}×: ${verdict(ratio, budget.p99RatioToRelay)}`,
    );
    const threaded = threadedRuns(rounds);
    // The floor of any server that does its rooms' work on a second thread, as ours does.
    if (threaded)
      console.log(
        `    (the relay with its rooms on a second thread: p99 ${fixed(medianP99(threaded), 2)} ms, ${(medianP99(threaded) / relayP99).toFixed(2)} × the relay's)`,
      );
  }
  if (budget.cpuRatio !== undefined) {
    const ratio =
      median(rounds.map((round) => round.ours.cpuSeconds)) /
      median(rounds.map((round) => round.relay.cpuSeconds));
    console.log(
      `    server CPU ${ratio.toFixed(2)} × the relay's   target ≤ ${budget.cpuRatio}×: ${verdict(ratio, budget.cpuRatio)}`,
    );
  }
  const others = Math.max(
    ...rounds.flatMap((round) => [round.ours.otherCpuCoresBusy, round.relay.otherCpuCoresBusy]),
  );
  // On a shared machine another job's CPU shows up as our latency: say so next to the verdict.
  if (others > 0.25)
    console.log(
      `    (other processes used up to ${others.toFixed(2)} of this machine's ${cpus().length} cores meanwhile: the latencies are not the servers' alone)`,
    );
}
