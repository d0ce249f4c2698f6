/**
 * One sync load against one server (ours or the relay), in the steps it takes: set up
 * (bench/sync/setup.ts), a warm-up (WARM_UP_SECONDS at the scenario's rate), the measured load of
 * `updates` edits at the scenario's rate, the check that every room converged, then its figures
 * (bench/sync/result.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as syncProtocol from 'y-protocols/sync';
import { readDeal } from '../../src/lib/sync/partner-doc';
import { syncMessage, type SyncClient } from './client';
import { planRooms } from './plan';
import type { ServerKind } from './protocol';
import { summarize, type MeasuredLoad, type SyncRunResult } from './result';
import { DRAIN_TIMEOUT_MS, RELAY_SETTLE_MS, SETTLE_MS, WARM_UP_SECONDS, type Scenario } from './scenarios';
import type { ServerProcess } from './server-process';
import {
  connectOthers,
  openVendor,
  prepareRooms,
  seedRooms,
  signTokens,
  startServerIn,
  untilRollups,
} from './setup';
import { LOAD_MARK, Tally, WARM_UP_MARK } from './tally';

/** `warmUpSeconds`: 0 for one edit per client only (a test's small load). */
export async function runLoad(
  scenario: Scenario,
  kind: ServerKind,
  updates: number,
  { warmUpSeconds = WARM_UP_SECONDS } = {},
): Promise<SyncRunResult> {
  const folder = mkdtempSync(join(tmpdir(), 'partner-kpi-bench-sync-'));
  const tokenSecret = randomBytes(32).toString('base64url');
  const clients: SyncClient[] = [];
  let server: ServerProcess | undefined;
  try {
    server = await startServerIn(folder, kind, tokenSecret);
    const base = `ws://127.0.0.1:${server.port}/sync/`;
    // The relay checks nothing: its clients have no token and there is no vendor (it has no rollups).
    const secret = kind === 'ours' ? new TextEncoder().encode(tokenSecret) : undefined;
    // Ours folds rollups a second after edits: setting up and the load wait for that work to land.
    const quiet = kind === 'ours' ? SETTLE_MS : RELAY_SETTLE_MS;
    const rooms = planRooms(scenario);
    if (secret) await signTokens(rooms, secret);
    const tally = new Tally(updates, scenario.clientsPerRoom);
    const now = Date.now();
    const vendor = secret ? await openVendor(base, secret, rooms, now, clients) : undefined;
    const senders = prepareRooms(rooms, tally, now);
    clients.push(...senders.flat());
    const roomBytes = await seedRooms(senders, base, vendor, quiet);
    const memory = await connectOthers(server, senders, base, quiet);

    for (const client of clients) client.live = true;
    const order = roundRobin(senders);
    const warmUpEdits = Math.max(order.length, Math.round(scenario.rate * warmUpSeconds));
    // Every edit of the warm-up and the load is made now, and each client's sent in turn later;
    // what the checkers receive meanwhile is applied after the load (bench/sync/client.ts).
    order.forEach((client, position) => {
      client.prepare(seqsOf(position, order.length, warmUpEdits), WARM_UP_MARK);
      client.prepare(seqsOf(position, order.length, updates), LOAD_MARK);
    });
    for (const room of senders) room[0]!.holding = true;
    const warmUp = await warmUpLoad(order, scenario, warmUpEdits, vendor, quiet);
    for (const client of order) client.tally = tally;
    const load = await measureLoad(server, order, tally, scenario.rate, vendor, quiet);
    for (const room of senders) room[0]!.applyHeld();
    const converged = checkersHoldEveryLastEdit(senders);
    // After the check: that edit changes the first checker's own deal.
    const editBytes = nextEditBytes(order[0]!, updates);

    return summarize({
      kind,
      updates,
      clients: clients.length,
      closeCodes: clients.flatMap((client) =>
        client.closedByServer === undefined ? [] : [client.closedByServer],
      ),
      tally,
      warmUp,
      ...memory,
      ...load,
      roomBytes,
      converged,
      editBytes,
    });
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server?.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The numbers of the edits that the client at `position` of `clients` in sending order sends in a load of `edits` (drive). */
function seqsOf(position: number, clients: number, edits: number): number[] {
  const seqs: number[] = [];
  for (let seq = position; seq < edits; seq += clients) seqs.push(seq);
  return seqs;
}

/** The clients in sending order: client by client, each over the rooms in turn, so consecutive edits go to different rooms. */
function roundRobin(senders: readonly SyncClient[][]): SyncClient[] {
  const order: SyncClient[] = [];
  const clientsPerRoom = senders[0]?.length ?? 0;
  for (let c = 0; c < clientsPerRoom; c++) for (const room of senders) order.push(room[c]!);
  return order;
}

/**
 * A warm-up, not measured: `edits` edits (at least one from each client) at the same rate, so that
 * one-time costs of the first edits (compiling the hot paths, each client's first item in the room)
 * stay out of the figures, which are of the steady state. (Each room's first rollup fold, which
 * builds its buckets from every record, already ran after the seeding.)
 */
async function warmUpLoad(
  order: readonly SyncClient[],
  scenario: Scenario,
  edits: number,
  vendor: SyncClient | undefined,
  quiet: number,
): Promise<Tally> {
  const warmUp = new Tally(edits, scenario.clientsPerRoom, WARM_UP_MARK);
  const rollupsBefore = vendor?.updatesSeen ?? 0;
  for (const client of order) client.tally = warmUp;
  warmUp.measuring = true;
  await drive(order, scenario.rate, edits);
  await untilDelivered(warmUp, edits);
  warmUp.measuring = false;
  await untilRollups(vendor, rollupsBefore, scenario.rooms);
  await sleep(quiet);
  return warmUp;
}

/**
 * The load: `tally.updates` edits at `rate`, until every copy arrived (or DRAIN_TIMEOUT_MS passed),
 * with the server's CPU at the start, when the last copy arrived ("busy") and after its delayed work.
 */
async function measureLoad(
  server: ServerProcess,
  order: readonly SyncClient[],
  tally: Tally,
  rate: number,
  vendor: SyncClient | undefined,
  quiet: number,
): Promise<MeasuredLoad> {
  const rollupsBefore = vendor?.updatesSeen ?? 0;
  const start = await server.stats();
  const clientStart = process.cpuUsage();
  const machineStart = machineBusySeconds();
  tally.measuring = true;
  const sent = await drive(order, rate, tally.updates);
  await untilDelivered(tally, tally.updates);
  const busyEnd = Math.max(tally.lastReceipt, sent.last);
  const busy = await server.stats();
  const clientCpu = process.cpuUsage(clientStart);
  const machineBusy = machineBusySeconds() - machineStart;
  // Ours folds rollups a second after the edits: that work is part of the load (the relay has none).
  await sleep(quiet);
  const end = await server.stats();
  tally.measuring = false;
  const rollupsSeen = vendor ? vendor.updatesSeen - rollupsBefore : undefined;
  return { sent, busyEnd, start, busy, end, clientCpu, machineBusy, rollupsSeen };
}

/** Sends `updates` edits at `rate` per second from one timer: each tick sends what is due by now, so a late tick catches up. */
function drive(
  senders: readonly SyncClient[],
  rate: number,
  updates: number,
): Promise<{ first: number; last: number }> {
  return new Promise((resolve, reject) => {
    const first = performance.now();
    let sent = 0;
    const tick = () => {
      const due = Math.min(updates, Math.floor(((performance.now() - first) * rate) / 1000) + 1);
      // Round robin over clients ordered room by room in turn, so consecutive edits go to different rooms.
      try {
        for (; sent < due; sent++) senders[sent % senders.length]!.edit(sent);
      } catch (error) {
        // In a timer's callback a throw would end the process: the scenario is "not measured" instead.
        return reject(error as Error);
      }
      if (sent < updates) setTimeout(tick, 1);
      else resolve({ first, last: performance.now() });
    };
    tick();
  });
}

/** Waits until every copy of `count` edits has arrived, at most DRAIN_TIMEOUT_MS (the rest are then lost). */
async function untilDelivered(tally: Tally, count: number): Promise<void> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (tally.complete < count && performance.now() < deadline) await sleep(20);
}

/** Every checker must hold the last edit of every client of its room, with nothing left pending. */
function checkersHoldEveryLastEdit(senders: readonly SyncClient[][]): boolean {
  let converged = true;
  for (const room of senders) {
    const checker = room[0]!;
    if (checker.doc.store.pendingStructs !== null || checker.doc.store.pendingDs !== null) converged = false;
    for (const client of room)
      if (client.lastTitle && readDeal(checker.pd!, client.plan.dealId)?.title !== client.lastTitle)
        converged = false;
  }
  return converged;
}

/** The size of one more edit as it goes on the wire (after the run, so it does not count). */
function nextEditBytes(sample: SyncClient, seq: number): number {
  let bytes = 0;
  const listener = (update: Uint8Array) =>
    (bytes = syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update)).byteLength);
  sample.doc.on('update', listener);
  sample.prepare([seq], LOAD_MARK);
  sample.doc.off('update', listener);
  return bytes;
}

/** CPU time every process of this machine has used so far, in seconds (to tell whether others were busy too). */
function machineBusySeconds(): number {
  let ms = 0;
  for (const cpu of cpus()) ms += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return ms / 1000;
}
