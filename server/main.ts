/**
 * The whole server in one process: the built app, the demo sign-in, metrics and the sync endpoint
 * on this thread; the engine (engine.ts: storage, rooms, the server's own writers) on a thread of
 * its own (threaded-engine.ts). `npm start`, the end-to-end tests and the bench start it here;
 * integration tests that reach into the rooms start it with the engine on their thread
 * (`startInlineServer`).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createAppServer } from './app';
import { loadTokenSecret } from './auth/secret';
import { signToken, verifyToken } from './auth/tokens';
import type { ServerConfig } from './config';
import { startEngine, type EngineOptions } from './engine';
import type { DemoUser } from './seed';
import type { ServerStorage } from './storage/storage';
import type { SyncCounters, SyncServer } from './sync/sync-server';
import { startEngineThread, type EngineHeap, type ThreadedEngineOptions } from './threaded-engine';

/** How long a demo sign-in lasts: a week of field work offline before signing in again. */
const DEMO_TOKEN_TTL = '7d';

export interface RunningServer {
  server: Server;
  origin: string;
  /** The demo program's users (when the demo is on), for the sign-in choices. */
  demoUsers: DemoUser[];
  /** Signs a token with this server's secret (tests, the bench). */
  secret: Uint8Array;
  /** The sync server's tallies (tests, the bench). */
  counters(): Promise<SyncCounters>;
  /** The engine's JS heap when it runs on a thread of its own (the bench); undefined on the caller's thread. */
  engineHeap(gc: boolean): Promise<EngineHeap | undefined>;
  /** Runs what the workers have due (folds, channels, the benchmark) now, and resolves once it is written (tests). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** A server whose engine runs on the caller's thread: its rooms and storage are at hand. */
export interface InlineServer extends RunningServer {
  sync: SyncServer;
  storage: ServerStorage;
}

export interface StartOptions extends Omit<ThreadedEngineOptions, 'secret'> {
  /** Folder of the built app. */
  staticDir: string;
}

export interface InlineStartOptions extends Omit<EngineOptions, 'secret'> {
  staticDir: string;
}

/** The server, its engine on a thread of its own. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { staticDir, ...rest } = options;
  const secret = readSecret(options.config);
  const engine = await startEngineThread({ ...rest, secret });
  return serve(options.config, staticDir, secret, engine.demoUsers, Date.now, {
    upgrade: (req, socket, head) => engine.handleUpgrade(req, socket, head),
    metrics: () => engine.metrics(),
    partners: (token) => engine.partners(token),
    counters: () => engine.counters(),
    engineHeap: (gc) => engine.heap(gc),
    settled: () => engine.settled(),
    close: () => engine.close(),
  });
}

/** The server, its engine on this thread (tests that look into rooms and storage, or give their own storage or clock). */
export async function startInlineServer(options: InlineStartOptions): Promise<InlineServer> {
  const { staticDir, ...rest } = options;
  const secret = readSecret(options.config);
  const engine = await startEngine({ ...rest, secret });
  const running = await serve(options.config, staticDir, secret, engine.demoUsers, options.now ?? Date.now, {
    upgrade: (req, socket, head) => engine.sync.handleUpgrade(req, socket, head),
    metrics: async () => ({ contentType: engine.metrics.contentType, text: await engine.metrics.metrics() }),
    partners: (token) => engine.partners(token),
    counters: async () => engine.sync.counters,
    engineHeap: async () => undefined,
    settled: () => engine.settled(),
    close: () => engine.close(),
  });
  return { ...running, sync: engine.sync, storage: engine.storage };
}

function readSecret(config: ServerConfig): Uint8Array {
  return loadTokenSecret({ tokenSecret: config.tokenSecret, dataDir: config.dataDir });
}

/** What the app's HTTP side asks of an engine, wherever it runs. */
interface EngineSide {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  metrics(): Promise<{ contentType: string; text: string }>;
  partners(token: string | undefined): Promise<{ status: number; body: unknown }>;
  counters(): Promise<SyncCounters>;
  engineHeap(gc: boolean): Promise<EngineHeap | undefined>;
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function serve(
  config: ServerConfig,
  staticDir: string,
  secret: Uint8Array,
  demoUsers: DemoUser[],
  now: () => number,
  engine: EngineSide,
): Promise<RunningServer> {
  const server = createAppServer({
    staticDir,
    metrics: engine.metrics,
    demo: config.demo ? { users: demoUsers, signIn: (user) => signDemoUser(user, secret, now()) } : undefined,
    upgrade: engine.upgrade,
    partners: engine.partners,
  });
  server.listen(config.port, config.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await engine.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://localhost:${port}`,
    demoUsers,
    secret,
    counters: engine.counters,
    engineHeap: engine.engineHeap,
    settled: engine.settled,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await engine.close();
      await closed;
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
