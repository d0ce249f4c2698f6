/**
 * The reconnect storm of `npm run bench`: many devices with empty documents (a fresh install, a
 * cleared phone, a whole team after a server restart) join one partner room at once. It times how
 * long until every one of them has the room's whole state, with the server's whole-state answer
 * cached (encoded once for all of them) and without (encoded for each), in the same run.
 *
 * The server runs in this process (the sockets' clients too): the figures compare the two runs,
 * not absolute capacity.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { signToken } from '../server/auth/tokens';
import { readConfig } from '../server/config';
import { startServer } from '../server/main';
import { openSqliteStorage } from '../server/storage/sqlite-storage';
import type { Deal } from '../src/lib/domain';
import { createRecords, openPartnerDoc } from '../src/lib/sync/partner-doc';
import { BEARER_PREFIX, MESSAGE_SYNC, SYNC_SUBPROTOCOL } from '../src/lib/sync/protocol';
import { partnerRoom } from '../src/lib/sync/rooms';

const PROGRAM = 'storm';
const PARTNER = 'p1';
const SECRET = 'a-bench-secret-of-at-least-thirty-two-bytes';

export interface StormResult {
  allSyncedMs: number;
  p50Ms: number;
  p99Ms: number;
}

function deals(count: number, now: number): Deal[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `D${i}`,
    partnerId: PARTNER,
    repId: `r${i % 20}`,
    title: `Deal ${i}`,
    channel: (['paid', 'earned', 'owned', 'referral'] as const)[i % 4]!,
    amount: 100_000_00 + i,
    currency: 'INR',
    stage: 'proposal',
    probability: 50,
    createdAt: now - i * 60_000,
    updatedAt: now - i * 60_000,
  }));
}

async function storm(dataDir: string, clients: number, cacheWholeState: boolean): Promise<StormResult> {
  const staticDir = mkdtempSync(join(tmpdir(), 'partner-kpi-storm-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>storm</title>');
  const server = await startServer({
    config: {
      ...readConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DEMO: 'off' }),
      tokenSecret: SECRET,
    },
    staticDir,
    cacheWholeState,
    // Every device of the storm is let in: the point is the answers, not the admission limits.
    limits: { unauthorizedPerAddress: clients, connectionsPerAddress: clients + 16 },
    log: () => {},
  });
  try {
    const secret = new TextEncoder().encode(SECRET);
    const tokens = await Promise.all(
      Array.from({ length: clients }, (_, i) =>
        signToken({ userId: `u${i}`, role: 'rep', programId: PROGRAM, partnerId: PARTNER }, secret, {
          ttl: '1h',
        }),
      ),
    );
    const hello = (() => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeSyncStep1(encoder, new Y.Doc());
      return encoding.toUint8Array(encoder);
    })();
    const url = `${server.origin.replace('http', 'ws')}/sync/${partnerRoom(PROGRAM, PARTNER)}`;
    const start = performance.now();
    const times = await Promise.all(
      tokens.map(
        (token) =>
          new Promise<number>((resolve, reject) => {
            const ws = new WebSocket(url, [SYNC_SUBPROTOCOL, `${BEARER_PREFIX}${token}`]);
            ws.on('open', () => ws.send(hello));
            ws.on('message', (data: Buffer) => {
              // The answer to our step 1: [sync, step 2, …].
              if (data[0] === MESSAGE_SYNC && data[1] === syncProtocol.messageYjsSyncStep2) {
                resolve(performance.now() - start);
                ws.close();
              }
            });
            ws.on('close', (code) =>
              reject(new Error(`a storm client was closed with ${code} before it synced`)),
            );
            ws.on('error', reject);
          }),
      ),
    );
    times.sort((a, b) => a - b);
    return {
      allSyncedMs: times.at(-1)!,
      p50Ms: times[Math.floor(times.length / 2)]!,
      p99Ms: times[Math.floor(times.length * 0.99)]!,
    };
  } finally {
    await server.close();
    rmSync(staticDir, { recursive: true, force: true });
  }
}

/** Prints the storm's figures with and without the cache; false when a client did not sync. */
export async function benchStorm({ clients = 500, dealCount = 20_000 } = {}): Promise<boolean> {
  const dataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-storm-'));
  try {
    const storage = openSqliteStorage(join(dataDir, 'partner-kpi.sqlite'));
    const pd = openPartnerDoc();
    createRecords(pd, { deals: deals(dealCount, Date.UTC(2026, 11, 1)) }, 'r0');
    const room = partnerRoom(PROGRAM, PARTNER);
    const update = Y.encodeStateAsUpdate(pd.doc);
    // Folded already, as far as the server knows: the storm is about answers, not rollups.
    await storage.markFolded(room, await storage.append(room, update));
    await storage.close();
    console.log(
      `\nReconnect storm: ${clients} clients with empty documents join one partner room of ${dealCount.toLocaleString('en')} deals (${(update.byteLength / 1e6).toFixed(1)} MB) at once`,
    );
    const without = await storm(dataDir, clients, false);
    const withCache = await storm(dataDir, clients, true);
    const row = (label: string, result: StormResult) =>
      console.log(
        `  ${label.padEnd(34)} all synced ${result.allSyncedMs.toFixed(0).padStart(6)} ms   p50 ${result.p50Ms.toFixed(0).padStart(6)} ms   p99 ${result.p99Ms.toFixed(0).padStart(6)} ms`,
      );
    row('whole state encoded for each', without);
    row('whole state encoded once (cache)', withCache);
    console.log(
      `  all synced, with the cache ÷ without: ${(withCache.allSyncedMs / without.allSyncedMs).toFixed(2)}×`,
    );
    return true;
  } catch (error) {
    console.log(`  not measured: ${(error as Error).message}`);
    return false;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
