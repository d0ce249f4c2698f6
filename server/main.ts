/**
 * The whole server in one process: storage, tokens, the sync endpoint, the rollup worker, metrics,
 * the demo program and the built app. `npm start` and the integration tests both start it here.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { createAppServer } from './app';
import { roomAccess, tokenFromRequest } from './auth/acl';
import { RevocationList } from './auth/revocations';
import { loadTokenSecret } from './auth/secret';
import { signToken, verifyToken } from './auth/tokens';
import type { ServerConfig } from './config';
import { createMetrics, RateMeter } from './metrics';
import { RollupWorker } from './rollup/rollup-worker';
import { ChannelWorker } from './channels/channel-worker';
import { upgradeProgramRooms } from './channels/upgrade';
import { BenchmarkWorker } from './channels/benchmark-worker';
import { ROLLUP_ORIGIN, readPartners } from '../src/lib/sync/program-doc';
import { parseRoom, programRoom } from '../src/lib/sync/rooms';
import { withProgramDocs } from './channels/server-view';
import type { TokenClaims } from './auth/claims';
import { demoUsersOf, seedIfEmpty, type DemoUser } from './seed';
import { openSqliteThreadStorage } from './storage/sqlite-thread-storage';
import type { ServerStorage } from './storage/storage';
import { SyncServer } from './sync/sync-server';
import type { SyncLimits } from './sync/limits';
import { PROGRAM_CLIENT_ROOTS } from '../src/lib/sync/program-doc';
import type { RoomKind } from '../src/lib/sync/rooms';
import { PARTNER_DOC_ROOTS } from '../src/lib/sync/partner-doc';
import type { UpdateRules } from './sync/update-check';

/**
 * The root types a client may write in each kind of room: the documents' layouts. Nobody writes the
 * rooms only the server writes (the ACL gives every client read access at most).
 */
const UPDATE_RULES: Record<RoomKind, UpdateRules> = {
  program: { roots: new Set(PROGRAM_CLIENT_ROOTS) },
  partner: { roots: new Set(PARTNER_DOC_ROOTS) },
  rollups: { roots: new Set() },
  rollupDays: { roots: new Set() },
  channel: { roots: new Set() },
};

/**
 * The partners a vendor manager may open, for the sign-in screen of a program that is not the demo:
 * their ids and names from the program document (deleted ones left out). 401 without a valid,
 * unrevoked token; 403 for anyone but a vendor manager (a partner's people see no other partner).
 */
export async function vendorPartners(
  sync: SyncServer,
  token: string | undefined,
  verify: (token: string) => Promise<TokenClaims | undefined>,
): Promise<{ status: number; body: unknown }> {
  const claims = token === undefined ? undefined : await verify(token);
  if (!claims) return { status: 401, body: { error: 'Sign in with a valid sign-in link first.' } };
  if (claims.role !== 'vendor_manager')
    return { status: 403, body: { error: 'Only the vendor’s staff list the program’s partners.' } };
  const partners = await withProgramDocs(sync, [parseRoom(programRoom(claims.programId))!], ([program]) =>
    readPartners(program!),
  );
  return {
    status: 200,
    body: {
      partners: partners
        .filter((partner) => partner.deletedAt === undefined)
        .map(({ id, name }) => ({ id, name })),
    },
  };
}

/** How long a demo sign-in lasts: a week of field work offline before signing in again. */
const DEMO_TOKEN_TTL = '7d';

export interface RunningServer {
  server: Server;
  sync: SyncServer;
  storage: ServerStorage;
  origin: string;
  /** The demo program's users (when the demo is on), for the sign-in choices. */
  demoUsers: DemoUser[];
  /** Signs a token with this server's secret (tests, the bench). */
  secret: Uint8Array;
  /** Runs what the workers have due (folds, channels, the benchmark) now, and resolves once it is written (tests). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  config: ServerConfig;
  /** Folder of the built app. */
  staticDir: string;
  storage?: ServerStorage;
  limits?: Partial<SyncLimits>;
  /** How often open sockets' tokens are checked for expiry and revocation (SyncServerOptions.sessionCheckMs). */
  sessionCheckMs?: number;
  /** SyncServerOptions.cacheWholeState (the bench turns it off to compare). */
  cacheWholeState?: boolean;
  /** Delay between a partner's change and its rollup being written (tests set 0). */
  rollupDelayMs?: number;
  /** A partner is folded at most this often (RollupWorkerOptions.minIntervalMs; default three delays). */
  rollupIntervalMs?: number;
  /** The program benchmark is published at most this often (BenchmarkWorkerOptions.minIntervalMs; default 5 minutes, 0 when rollupDelayMs is 0). */
  benchmarkIntervalMs?: number;
  /** How long a room nobody uses stays loaded (SyncServerOptions.keepIdleRoomMs). */
  keepIdleRoomMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  // SQLite commits on a thread of its own, out of the way of the sockets (sqlite-thread-storage.ts).
  const storage =
    options.storage ?? (await openSqliteThreadStorage(join(config.dataDir, 'partner-kpi.sqlite')));
  const secret = loadTokenSecret({ tokenSecret: config.tokenSecret, dataDir: config.dataDir });
  if (config.demo) {
    const seeded = await seedIfEmpty(storage, { now: now() });
    if (seeded) log(`Seeded the demo program (${seeded.length} demo users).`);
  }
  const revocations = new RevocationList(storage);
  await revocations.refresh();
  const updateRate = new RateMeter();
  let rollups: RollupWorker | undefined;
  let channels: ChannelWorker | undefined;
  let benchmarks: BenchmarkWorker | undefined;
  const sync = new SyncServer({
    storage,
    verifyToken: (token) => verifyToken(token, secret, now()),
    roomAccess,
    updateRules: (room) => UPDATE_RULES[room.kind],
    revocations,
    sessionCheckMs: options.sessionCheckMs,
    cacheWholeState: options.cacheWholeState,
    tokenFromRequest,
    allowedOrigins: config.allowedOrigins,
    limits: options.limits,
    keepIdleRoomMs: options.keepIdleRoomMs,
    onStored: (room, update, origin) => {
      updateRate.add(now());
      rollups?.stored(room, origin);
      if (room.name.kind === 'rollups' && origin === ROLLUP_ORIGIN) benchmarks?.schedule(room.name.programId);
    },
    onRoomOpened: (room) => channels?.opened(room),
    now,
    log,
  });
  // The server's own writers, in the order their work feeds each other (folds → benchmark).
  const workers = {
    rollups: (rollups = new RollupWorker(sync, {
      now,
      delayMs: options.rollupDelayMs ?? 1000,
      // Under a stream of edits, a partner is folded every few seconds, not every second.
      minIntervalMs: options.rollupIntervalMs ?? 3 * (options.rollupDelayMs ?? 1000),
      log,
      markFolded: (room, seq) => storage.markFolded(room, seq),
    })),
    channels: (channels = new ChannelWorker(sync, { delayMs: options.rollupDelayMs ?? 1000, log })),
    benchmarks: (benchmarks = new BenchmarkWorker(sync, {
      now,
      delayMs: options.rollupDelayMs ?? 1000,
      minIntervalMs: options.benchmarkIntervalMs ?? (options.rollupDelayMs === 0 ? 0 : 5 * 60_000),
      log,
    })),
  };
  await upgradeProgramRooms(sync, storage, workers, log);
  // Folds that were due when the process last stopped (killed, crashed) are done now.
  rollups.foldBehind(await storage.unfolded());
  const demoUsers = config.demo ? await demoUsersOf(sync) : [];
  const server = createAppServer({
    staticDir: options.staticDir,
    metrics: createMetrics(sync.counters, storage, updateRate, now),
    demo: config.demo ? { users: demoUsers, signIn: (user) => signDemoUser(user, secret, now()) } : undefined,
    upgrade: (req, socket, head) => sync.handleUpgrade(req, socket, head),
    partners: (token) =>
      vendorPartners(sync, token, async (candidate) => {
        const verified = await verifyToken(candidate, secret, now());
        return verified.ok && !revocations.isRevoked(verified) ? verified.claims : undefined;
      }),
  });
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    sync,
    storage,
    origin: `http://localhost:${port}`,
    demoUsers,
    secret,
    async settled() {
      for (const worker of Object.values(workers)) {
        worker.flush();
        await worker.settled();
      }
    },
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      for (const worker of Object.values(workers)) {
        worker.stop();
        await worker.settled();
      }
      await sync.close();
      await closed;
      await storage.close();
    },
  };
}

async function signDemoUser(
  user: DemoUser,
  secret: Uint8Array,
  now: number,
): Promise<{ token: string; expiresAt: number }> {
  const claims = {
    userId: user.userId,
    role: user.role,
    programId: user.programId,
    ...(user.partnerId ? { partnerId: user.partnerId } : {}),
  };
  const token = await signToken(claims, secret, { ttl: DEMO_TOKEN_TTL, now });
  const verified = await verifyToken(token, secret, now);
  if (!verified.ok) throw new Error('a token just signed does not verify');
  return { token, expiresAt: verified.expiresAt };
}
