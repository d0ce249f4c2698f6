/**
 * The server's document engine: storage, token checks, the sync server with its rooms, and the
 * server's own writers (rollup folds, vendor → partner channels, the program benchmark). It has no
 * HTTP server: main.ts serves the app and hands the engine its sockets, either on this thread
 * (`startInlineServer`, for tests that reach into rooms) or on a thread of its own
 * (engine-thread.ts), where the documents' work does not hold up the sockets'.
 */
import type { Registry } from 'prom-client';
import { roomAccess, tokenFromRequest } from './auth/acl';
import { RevocationList } from './auth/revocations';
import { verifyToken } from './auth/tokens';
import type { TokenClaims } from './auth/claims';
import { sqliteFile, type ServerConfig } from './config';
import { createMetrics, RateMeter } from './metrics';
import { RollupWorker } from './rollup/rollup-worker';
import { ChannelWorker } from './channels/channel-worker';
import { upgradeProgramRooms } from './channels/upgrade';
import { BenchmarkWorker } from './channels/benchmark-worker';
import { withProgramDocs } from './channels/server-view';
import { demoUsersOf, seedIfEmpty, type DemoUser } from './seed';
import { SqliteRoomStorage, WAL_PAGES_CAP } from './storage/sqlite-storage';
import type { ServerStorage } from './storage/storage';
import { SyncServer } from './sync/sync-server';
import type { SyncLimits } from './sync/limits';
import type { UpdateRules } from './sync/update-check';
import { PROGRAM_CLIENT_ROOTS, ROLLUP_ORIGIN, readPartners } from '../src/lib/sync/program-doc';
import { PARTNER_DOC_ROOTS } from '../src/lib/sync/partner-doc';
import { parseRoom, programRoom, type RoomKind } from '../src/lib/sync/rooms';

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

/** What an engine is started with; everything but `storage`, `now` and `log` crosses to a thread. */
export interface EngineOptions {
  config: ServerConfig;
  /** The token secret (main.ts reads or makes it once, for the demo sign-in too). */
  secret: Uint8Array;
  /** Default: SQLite under `config.dataDir` (sqliteFile). */
  storage?: ServerStorage;
  /** Another thread checkpoints that SQLite file (storage/checkpointer.ts): this one only past WAL_PAGES_CAP. */
  checkpointsElsewhere?: boolean;
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

export interface Engine {
  sync: SyncServer;
  storage: ServerStorage;
  /** The demo program's users (when the demo is on), for the sign-in choices. */
  demoUsers: DemoUser[];
  metrics: Registry;
  /** `GET /api/partners` for the holder of `token` (vendorPartners). */
  partners(token: string | undefined): Promise<{ status: number; body: unknown }>;
  /** Runs what the workers have due (folds, channels, the benchmark) now, and resolves once it is written (tests). */
  settled(): Promise<void>;
  /** Closes every socket (clients reconnect later), stores everything and closes the storage. */
  close(): Promise<void>;
}

export async function startEngine(options: EngineOptions): Promise<Engine> {
  const { config, secret } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const storage =
    options.storage ??
    new SqliteRoomStorage(
      sqliteFile(config),
      options.checkpointsElsewhere ? { autoCheckpointPages: WAL_PAGES_CAP } : {},
    );
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
  return {
    sync,
    storage,
    demoUsers: config.demo ? await demoUsersOf(sync) : [],
    metrics: createMetrics(sync.counters, storage, updateRate, now),
    partners: (token) =>
      vendorPartners(sync, token, async (candidate) => {
        const verified = await verifyToken(candidate, secret, now());
        return verified.ok && !revocations.isRevoked(verified) ? verified.claims : undefined;
      }),
    async settled() {
      for (const worker of Object.values(workers)) {
        worker.flush();
        await worker.settled();
      }
    },
    async close() {
      for (const worker of Object.values(workers)) {
        worker.stop();
        await worker.settled();
      }
      await sync.close();
      await storage.close();
    },
  };
}

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
