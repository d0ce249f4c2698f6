/**
 * `kill -9` loop: the server as a child process on one DATA_DIR, killed with SIGKILL at seeded
 * moments while two devices (raw clients with the app's subprotocol, so they hear "saved") send
 * single-edit deal changes to a partner room — in a steady stream, and in bursts of 540 after which
 * the room goes quiet, so that compaction (500 updates, then a quiet second) runs before, around
 * and after some kills. After each kill, with the server down, the stored log must hold every edit
 * the server acknowledged (a "saved" state vector covering the device's clock); the devices then
 * reconnect to a restarted server, their sync step 2 carrying what was not saved, and go on.
 *
 * At the end every edit of both devices is acknowledged, a fresh client syncs and sees each deal as
 * its device last wrote it, and the stored log loads. 0 acknowledged edits lost.
 *
 * The server is started from an inline script (`node --import tsx -e`), never from server/start.ts
 * (which would build the app): a temp static dir with an index.html, PORT=0, DEMO=off, a fixed
 * TOKEN_SECRET. A standby process imports the server while the active one runs, so that a restart
 * is the server's own start-up, not Node's and tsx's.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { signToken } from '../../server/auth/tokens';
import { openSqliteStorage } from '../../server/storage/sqlite-storage';
import {
  createDeal,
  openPartnerDoc,
  readDeal,
  updateDeal,
  type PartnerDoc,
} from '../../src/lib/sync/partner-doc';
import { deal } from '../factories/records';
import { Rng, SyncClient, bearerProtocols, repClaims, socketUrl, until } from '../support/hostile-client';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN_SECRET = 'kill-loop-token-secret-0123456789-abcdefgh';
const ROOM = 'program/prog1/partner/p1';
const KILLS = 24;
const SEED = Number(process.env['KILL_LOOP_SEED'] ?? 20_260_302);
/** How long an expected event may take before the wait fails saying what it waited for. */
const WAIT_MS = 15_000;
/** Edits each device makes in a burst: 540 together, past the 500 after which the log is compacted. */
const BURST = 270;
/** Unsaved clock ticks a device lets pile up before it waits for "saved" (its pace is the server's). */
const WINDOW = 24;

const CHILD = `
const { startServer } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'server/main.ts')).href)});
const { readConfig } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'server/config.ts')).href)});
// The test is gone (its end of stdin closed): so is this server.
process.stdin.on('end', () => process.exit(0));
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const running = await startServer({ config: readConfig(process.env), staticDir: process.env.KILL_LOOP_STATIC, log: (line) => process.stderr.write(line + '\\n') });
process.stdout.write('listening ' + running.server.address().port + '\\n');
`;

/** One server process: imported and waiting (`ready`), then started (`listening <port>`), then killed. */
class ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  readonly stderr: string[] = [];
  killed = false;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const waiter of [...this.waiters]) waiter();
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 60) this.stderr.shift();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const waiter of [...this.waiters]) waiter();
        resolve({ code, signal });
      }),
    );
    this.ready = this.line((line) => line === 'ready').then(() => undefined);
    // A standby killed at the end was never needed: nobody waits for it.
    this.ready.catch(() => {});
  }

  /** The first line of its stdout that passes `test`; rejects if the process exits first. */
  private line(test: (line: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(test);
        if (found !== undefined) {
          this.waiters.delete(check);
          resolve(found);
        } else if (this.exit) {
          this.waiters.delete(check);
          reject(
            new Error(
              `the server process exited (${JSON.stringify(this.exit)}) before it was ready:\n${this.stderr.join('\n')}`,
            ),
          );
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Starts the server it has imported; resolves with its port. */
  async start(): Promise<number> {
    await this.ready;
    this.child.stdin.write('go\n');
    const listening = await this.line((line) => line.startsWith('listening '));
    return Number(listening.slice('listening '.length));
  }

  async kill(): Promise<void> {
    this.killed = true;
    if (!this.exit) this.child.kill('SIGKILL');
    await this.exited;
  }
}

interface Edit {
  seq: number;
  device: Device;
  dealId: string;
  title: string;
  /** The device's clock once the edit was made: acknowledged when a "saved" state vector reaches it. */
  clock: number;
}

interface Device {
  name: string;
  client: SyncClient;
  pd: PartnerDoc;
  token: string;
  deals: string[];
  edits: Edit[];
  /** The furthest "saved" clock of this device the server ever sent. */
  acked: number;
}

const processes = new Set<ServerProcess>();
const dirs: string[] = [];
afterAll(async () => {
  for (const server of processes) await server.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 at random moments', () => {
  it(`loses no acknowledged edit over ${KILLS} kills (seed ${SEED}), compaction included`, async () => {
    const rng = new Rng(SEED);
    const dataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-kill-'));
    const staticDir = mkdtempSync(join(tmpdir(), 'partner-kpi-kill-static-'));
    dirs.push(dataDir, staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Partner KPI</title>');
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      DEMO: 'off',
      TOKEN_SECRET,
      KILL_LOOP_STATIC: staticDir,
    };
    const secret = new TextEncoder().encode(TOKEN_SECRET);
    const replay = `(seed ${SEED}: KILL_LOOP_SEED=${SEED} npx vitest run test/integration/kill-loop.test.ts)`;

    const spawnServer = () => {
      const server = new ServerProcess(env);
      processes.add(server);
      return server;
    };
    let standby = spawnServer();
    let active: ServerProcess | undefined;
    const startNext = async () => {
      active = standby;
      standby = spawnServer();
      const port = await active.start();
      return `http://127.0.0.1:${port}`;
    };

    let seq = 0;
    const devices: Device[] = await Promise.all(
      ['r1', 'r2'].map(async (userId, i) => {
        const client = new SyncClient(`device of ${userId}`, 1_000_000 + i);
        return {
          name: userId,
          client,
          pd: openPartnerDoc(client.doc),
          token: await signToken(repClaims(userId, 'p1'), secret, { ttl: '2h' }),
          deals: [],
          edits: [],
          acked: 0,
        };
      }),
    );
    for (const device of devices) {
      device.client.watch(() => {
        device.acked = Math.max(device.acked, device.client.savedClock);
      });
    }
    const edit = (device: Device) => {
      seq++;
      const title = `t${seq}`;
      if (device.deals.length === 0 || rng.chance(0.4)) {
        const dealId = `K-${device.name}-${device.deals.length}`;
        createDeal(
          device.pd,
          deal({
            id: dealId,
            partnerId: 'p1',
            repId: `p1-${device.name}`,
            title,
            createdAt: Date.UTC(2026, 0, 10),
          }),
          device.name,
        );
        device.deals.push(dealId);
        device.edits.push({ seq, device, dealId, title, clock: device.client.clock });
      } else {
        const dealId = rng.pick(device.deals);
        updateDeal(device.pd, dealId, { title, updatedAt: Date.UTC(2026, 0, 10) + seq }, device.name);
        device.edits.push({ seq, device, dealId, title, clock: device.client.clock });
      }
    };

    /** Edits as fast as "saved" comes back (at most WINDOW unsaved clock ticks), until `count` or the socket is gone. */
    const editLoop = async (device: Device, count: number): Promise<void> => {
      const client = device.client;
      await until([client], () => client.synced || client.gone, WAIT_MS, `${device.name} to sync`);
      for (let made = 0; made < count && !client.gone; made++) {
        if (client.clock - device.acked >= WINDOW) {
          await until(
            [client],
            () => client.clock - device.acked < WINDOW || client.gone,
            WAIT_MS,
            `"saved" for ${device.name}'s edits`,
          );
          if (client.gone) return;
        }
        edit(device);
      }
    };

    // The stored log, read while no server runs: every acknowledged edit must be in it.
    let rowsBefore = 0;
    let compactions = 0;
    let acknowledgedAtKills = 0;
    /** Kills that came while some edit was sent (or about to be) and not yet acknowledged. */
    let killsInFlight = 0;
    const checkStored = async (when: string) => {
      const storage = openSqliteStorage(join(dataDir, 'partner-kpi.sqlite'));
      let updates: Uint8Array[];
      try {
        updates = (await storage.load(ROOM)).updates;
      } finally {
        await storage.close();
      }
      if (updates.length < rowsBefore) compactions++;
      if (process.env['KILL_LOOP_DEBUG'])
        console.log(
          `${when}: ${updates.length} rows; acknowledged ${devices.map((device) => `${device.name} ${device.acked}/${device.client.clock}`).join(', ')}`,
        );
      rowsBefore = updates.length;
      const doc = new Y.Doc();
      try {
        Y.applyUpdate(doc, Y.mergeUpdates(updates));
      } catch (error) {
        throw new Error(
          `${when}: the stored log (${updates.length} rows) does not load: ${(error as Error).message} ${replay}`,
          { cause: error },
        );
      }
      const stored = openPartnerDoc(doc);
      const lost: string[] = [];
      for (const device of devices) {
        const storedClock = Y.getState(doc.store, device.client.clientID);
        if (storedClock < device.acked)
          lost.push(`${device.name}: acknowledged up to clock ${device.acked}, stored up to ${storedClock}`);
        // Each deal as the device last wrote it, or later: never older than its last acknowledged edit.
        const lastAcked = new Map<string, Edit>();
        for (const made of device.edits) if (made.clock <= device.acked) lastAcked.set(made.dealId, made);
        for (const [dealId, made] of lastAcked) {
          const title = readDeal(stored, dealId)?.title;
          const storedSeq = title === undefined ? -1 : Number(title.slice(1));
          if (storedSeq < made.seq)
            lost.push(
              `${device.name}: deal ${dealId} was acknowledged with title ${made.title}, the stored log has ${title ?? 'no such deal'}`,
            );
        }
      }
      stored.close();
      doc.destroy();
      expect(lost, `${when}: acknowledged edits are not in the stored log ${replay}`).toEqual([]);
    };

    // The schedule: mostly a steady stream with a kill 0–700 ms after both devices have synced, or
    // after the server listens (some then come before the devices have synced); two kills right at
    // start-up; and every fourth a burst of 540 edits with the kill before, around or after the
    // compaction that follows a quiet second.
    const windows = [
      ['after the compaction', 2_500, 3_500],
      ['before the compaction', 150, 800],
      ['around the compaction', 900, 1_250],
    ] as const;
    const schedule = Array.from({ length: KILLS }, (_, kill) => {
      if (kill % 4 === 3)
        return { kind: 'burst' as const, window: windows[Math.floor(kill / 4) % windows.length]! };
      if (kill === 1 || kill === 13) return { kind: 'start-up' as const, delay: rng.between(0, 40) };
      return { kind: 'steady' as const, delay: rng.between(0, 700), fromSynced: rng.chance(0.65) };
    });

    for (const [kill, plan] of schedule.entries()) {
      const origin = await startNext();
      const server = active!;
      for (const device of devices)
        device.client.connect(socketUrl(origin, ROOM), bearerProtocols(device.token));
      let loops: Promise<void>[];
      if (plan.kind === 'burst') {
        loops = devices.map((device) => editLoop(device, BURST));
        await Promise.all(loops);
        await until(
          devices.map((device) => device.client),
          () => devices.every((device) => device.acked >= device.client.clock),
          WAIT_MS,
          `the burst of kill ${kill} to be acknowledged`,
        );
        const [, low, high] = plan.window;
        await new Promise((resolve) => setTimeout(resolve, rng.between(low, high)));
      } else {
        loops = devices.map((device) => editLoop(device, 400));
        if (plan.kind === 'steady' && plan.fromSynced) {
          await until(
            devices.map((device) => device.client),
            () => devices.every((device) => device.client.synced || device.client.gone),
            WAIT_MS,
            `the devices to sync before kill ${kill + 1}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, plan.delay));
      }
      if (server.exit)
        throw new Error(
          `the server exited by itself (${JSON.stringify(server.exit)}) before kill ${kill}:\n${server.stderr.join('\n')}`,
        );
      await server.kill();
      if (devices.some((device) => device.client.clock > device.acked)) killsInFlight++;
      for (const device of devices) device.client.dropped();
      await Promise.all(loops).catch(() => {});
      acknowledgedAtKills = devices.reduce(
        (sum, device) => sum + device.edits.filter((made) => made.clock <= device.acked).length,
        0,
      );
      const moment =
        plan.kind === 'burst'
          ? plan.window[0]
          : `${plan.delay} ms after ${plan.kind === 'steady' && plan.fromSynced ? 'the devices synced' : 'the server listened'}`;
      await checkStored(`after kill ${kill + 1} (${plan.kind}, ${moment})`);
      // Offline meanwhile: edits the next connection's sync step 2 carries.
      for (const device of devices) for (let n = rng.between(0, 2); n > 0; n--) edit(device);
    }

    // The end: everything is acknowledged, a fresh client sees each deal as its device last wrote it.
    const origin = await startNext();
    for (const device of devices)
      device.client.connect(socketUrl(origin, ROOM), bearerProtocols(device.token));
    await until(
      devices.map((device) => device.client),
      () => devices.every((device) => device.client.synced && device.acked >= device.client.clock),
      WAIT_MS,
      'every edit to be acknowledged after the last restart',
    );
    const checker = new SyncClient('checker');
    checker.connect(
      socketUrl(origin, ROOM),
      bearerProtocols(await signToken(repClaims('r3', 'p1'), secret, { ttl: '1h' })),
    );
    await until(
      [checker],
      () => checker.synced || checker.serverCloses.length > 0,
      WAIT_MS,
      'a fresh client to sync',
    );
    expect(checker.serverCloses, `the room did not load ${replay}`).toEqual([]);
    const seen = openPartnerDoc(checker.doc);
    const wrong: string[] = [];
    for (const device of devices) {
      const own = device.pd;
      for (const dealId of device.deals) {
        const expected = readDeal(own, dealId)?.title;
        const actual = readDeal(seen, dealId)?.title;
        if (actual !== expected)
          wrong.push(`${dealId}: ${device.name} wrote ${expected}, a fresh client sees ${actual}`);
      }
    }
    expect(wrong, replay).toEqual([]);
    expect(checker.applyErrors.concat(...devices.map((device) => device.client.applyErrors))).toEqual([]);
    checker.destroy();
    for (const device of devices) device.client.destroy();
    await active!.kill();
    await checkStored('after the last kill');

    // The guard: the loop did what it is for.
    expect(schedule.length).toBeGreaterThanOrEqual(20);
    expect(compactions, `compaction ran fewer than twice between kills ${replay}`).toBeGreaterThanOrEqual(2);
    expect(acknowledgedAtKills, `few edits were acknowledged before the last kill ${replay}`).toBeGreaterThan(
      2_000,
    );
    expect(killsInFlight, `few kills came while edits were unacknowledged ${replay}`).toBeGreaterThanOrEqual(
      5,
    );
  }, 180_000);
});
