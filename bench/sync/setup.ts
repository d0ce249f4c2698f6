/**
 * Setting up one sync load, step by step: the server's process with a temp folder of its own, a
 * token for every client (ours; the relay checks nothing), the vendor's console, each room's content
 * brought in by its checker, then every other client connected — with the server's memory read
 * before and after they connect.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as Y from 'yjs';
import { signToken } from '../../server/auth/tokens';
import { createDeal, createRecords } from '../../src/lib/sync/partner-doc';
import { initProgram, openProgramDoc } from '../../src/lib/sync/program-doc';
import { programRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import { SyncClient } from './client';
import { benchDeal, programContent, VENDOR_USER, type RoomPlan } from './plan';
import type { ChildStats, ServerKind } from './protocol';
import {
  CONNECT_BATCH,
  CONNECTIONS_PER_ADDRESS,
  DRAIN_TIMEOUT_MS,
  FILLER_DEALS,
  PROGRAM_ID,
} from './scenarios';
import { ServerProcess } from './server-process';
import type { Tally } from './tally';

/** Starts a server of `kind` in a child process, its data and a stub of the app in `folder`. */
export function startServerIn(folder: string, kind: ServerKind, tokenSecret: string): Promise<ServerProcess> {
  const staticDir = join(folder, 'static');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Partner KPI</title>');
  return ServerProcess.start(kind, {
    dataDir: join(folder, 'data'),
    staticDir,
    tokenSecret,
    connectionsPerAddress: CONNECTIONS_PER_ADDRESS,
  });
}

/** Tokens are signed here, with the server's key (HS256): one per client, for its partner's room. */
export async function signTokens(rooms: readonly RoomPlan[], secret: Uint8Array): Promise<void> {
  await Promise.all(
    rooms.flatMap((room) =>
      room.clients.map(async (client) => {
        client.token = await signToken(
          { userId: client.userId, role: 'rep', programId: PROGRAM_ID, partnerId: room.partnerId },
          secret,
          { ttl: '1h' },
        );
      }),
    ),
  );
}

/**
 * The vendor's console (ours only: the relay has no rollups). It writes the program — whose time
 * zone the rollup worker needs — and stays on the rollups room, receiving the rollups, which arrive
 * in their own room, written by the server alone. Both clients go into `clients` before they connect.
 */
export async function openVendor(
  base: string,
  secret: Uint8Array,
  rooms: readonly RoomPlan[],
  now: number,
  clients: SyncClient[],
): Promise<SyncClient> {
  const token = await signToken(
    { userId: VENDOR_USER, role: 'vendor_manager', programId: PROGRAM_ID },
    secret,
    {
      ttl: '1h',
    },
  );
  const plan = { index: -1, userId: VENDOR_USER, dealId: '', token };
  const admin = new SyncClient(programRoom(PROGRAM_ID), plan, true, undefined, 'program');
  clients.push(admin);
  await admin.connect(base);
  const pd = openProgramDoc(admin.doc);
  initProgram(pd, programContent(rooms, now));
  pd.close();
  admin.sendUpdate(Y.encodeStateAsUpdate(admin.doc));
  await admin.roundTrip();
  const vendor = new SyncClient(rollupsRoom(PROGRAM_ID), plan, true, undefined, 'program');
  clients.push(vendor);
  await vendor.connect(base);
  return vendor;
}

/**
 * Each room's clients, its checker first. Each rep made their own deal on their own device (a doc
 * of its own, so it holds just that deal); each room's checker brings the partner's other deals and
 * everyone's into the room.
 */
export function prepareRooms(rooms: readonly RoomPlan[], tally: Tally, now: number): SyncClient[][] {
  return rooms.map((room) => {
    const roomClients = room.clients.map(
      (plan, c) => new SyncClient(room.name, plan, c === 0, tally, 'partner'),
    );
    for (const client of roomClients) {
      const { userId, dealId, index } = client.plan;
      createDeal(client.pd!, benchDeal(dealId, room.partnerId, userId, index, now, 'negotiation'), userId);
    }
    const checker = roomClients[0]!;
    const fillers = Array.from({ length: FILLER_DEALS }, (_, n) =>
      benchDeal(`f-${room.partnerId}-${n}`, room.partnerId, checker.plan.userId, n, now),
    );
    createRecords(checker.pd!, { deals: fillers }, checker.plan.userId);
    for (const client of roomClients.slice(1)) Y.applyUpdate(checker.doc, Y.encodeStateAsUpdate(client.doc));
    return roomClients;
  });
}

/**
 * The checkers connect first and send their room's whole content as one update (as an import
 * would); returns its size. The seeding's rollup folds (the first of a room builds its buckets from
 * every record) run after the rollup delay: they land before this resolves, so nothing measured
 * later includes them.
 */
export async function seedRooms(
  senders: readonly SyncClient[][],
  base: string,
  vendor: SyncClient | undefined,
  quiet: number,
): Promise<number> {
  let roomBytes = 0;
  const rollupsBefore = vendor?.updatesSeen ?? 0;
  await inBatches(
    senders.map((room) => room[0]!),
    CONNECT_BATCH,
    async (checker) => {
      await checker.connect(base);
      const content = Y.encodeStateAsUpdate(checker.doc);
      roomBytes = content.byteLength;
      checker.sendUpdate(content);
      await checker.roundTrip();
    },
  );
  await untilRollups(vendor, rollupsBefore, senders.length);
  await sleep(quiet);
  return roomBytes;
}

/** Connects every client but the checkers, with the server's memory (after a GC) before and after. */
export async function connectOthers(
  server: ServerProcess,
  senders: readonly SyncClient[][],
  base: string,
  quiet: number,
): Promise<{ before: ChildStats; connected: ChildStats; connections: number }> {
  const before = await server.stats(true);
  const others = senders.flatMap((room) => room.slice(1));
  await inBatches(others, CONNECT_BATCH, (client) => client.connect(base));
  await sleep(quiet);
  const connected = await server.stats(true);
  return { before, connected, connections: others.length };
}

/** Waits (at most DRAIN_TIMEOUT_MS) until the vendor console has received `count` rollups since it had `since`. */
export async function untilRollups(
  vendor: SyncClient | undefined,
  since: number,
  count: number,
): Promise<void> {
  if (!vendor) return;
  const target = since + count;
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (vendor.updatesSeen < target && performance.now() < deadline) await sleep(20);
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  each: (item: T) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < items.length; start += size)
    await Promise.all(items.slice(start, start + size).map(each));
}
