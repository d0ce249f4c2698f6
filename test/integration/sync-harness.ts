/**
 * The real server (SQLite under a temp DATA_DIR, port 0) and stock y-websocket clients in one
 * process. Waiting is on events (a doc update, a socket close), never on the clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { readConfig, type ServerConfig } from '../../server/config';
import {
  startInlineServer,
  startServer,
  type InlineServer,
  type InlineStartOptions,
  type RunningServer,
} from '../../server/main';
import { signToken } from '../../server/auth/tokens';
import { MESSAGE_SYNC } from '../../src/lib/sync/protocol';
import type { TokenClaims } from '../../server/auth/claims';

/** By default the server's engine runs on the test's thread: its rooms and storage are at hand. */
export interface Harness<Server extends RunningServer = InlineServer> {
  server: Server;
  dataDir: string;
  /** Starts the server again on the same DATA_DIR (after `server.close()`). */
  restart(): Promise<Server>;
  token(
    claims: TokenClaims,
    options?: { ttl?: string | number; now?: number; secret?: Uint8Array },
  ): Promise<string>;
  connect(room: string, token: string | undefined, doc?: Y.Doc): Client;
  cleanup(): Promise<void>;
}

export interface Client {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Resolves with the close code when the server closes the socket. */
  closed: Promise<number>;
  /** Resolves once the first sync with the server is done. */
  synced: Promise<void>;
  destroy(): void;
}

type HarnessOptions = Partial<InlineStartOptions> & { demo?: boolean; allowedOrigins?: string };

export function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  return harnessOf(options, startInlineServer);
}

/** The server as `npm start` runs it: its engine on a thread of its own, reached only through sockets and HTTP. */
export function createThreadedHarness(
  options: Omit<HarnessOptions, 'storage' | 'now'> = {},
): Promise<Harness<RunningServer>> {
  return harnessOf(options, startServer);
}

async function harnessOf<Server extends RunningServer, Options extends HarnessOptions>(
  options: Options,
  startWith: (options: Options & { config: ServerConfig; staticDir: string }) => Promise<Server>,
): Promise<Harness<Server>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-sync-'));
  const staticDir = mkdtempSync(join(tmpdir(), 'partner-kpi-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Partner KPI</title>');
  const config = readConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    DEMO: options.demo ? 'on' : 'off',
    ALLOWED_ORIGINS: options.allowedOrigins ?? '',
  });
  const start = () => startWith({ rollupDelayMs: 0, log: () => {}, ...options, config, staticDir });
  const clients = new Set<Client>();
  const harness: Harness<Server> = {
    server: await start(),
    dataDir,
    async restart() {
      harness.server = await start();
      return harness.server;
    },
    token(claims, { ttl = '1h', now, secret } = {}) {
      return signToken(claims, secret ?? harness.server.secret, {
        ttl,
        ...(now === undefined ? {} : { now }),
      });
    },
    connect(room, token, doc = new Y.Doc()) {
      const url = harness.server.origin.replace('http', 'ws') + '/sync';
      const provider = new WebsocketProvider(url, room, doc, {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        params: token ? { token } : {},
        disableBc: true,
      });
      const closed = new Promise<number>((resolve) =>
        provider.on('connection-close', (event) => event && resolve(event.code)),
      );
      const synced = new Promise<void>((resolve) => {
        if (provider.synced) resolve();
        provider.on('sync', (isSynced: boolean) => isSynced && resolve());
      });
      const client: Client = {
        doc,
        provider,
        closed,
        synced,
        destroy() {
          provider.destroy();
          clients.delete(client);
        },
      };
      clients.add(client);
      return client;
    },
    async cleanup() {
      for (const client of [...clients]) client.destroy();
      await harness.server.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(staticDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Resolves when `test()` holds, checked now and after each update of `doc`. */
export function untilDoc(doc: Y.Doc, test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (test()) return resolve();
    const check = () => {
      if (!test()) return;
      doc.off('update', check);
      resolve();
    };
    doc.on('update', check);
  });
}

export function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** A bare socket speaking the protocol by hand, to send what the stock client never would. */
export async function rawSocket(h: Harness<RunningServer>, room: string, token: string) {
  const ws = new WebSocket(
    `${h.server.origin.replace('http', 'ws')}/sync/${room}?token=${encodeURIComponent(token)}`,
  );
  const messages: Uint8Array[] = [];
  const waiting: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    messages.push(new Uint8Array(data));
    waiting.splice(0).forEach((wake) => wake());
  });
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    /** Every message received so far. */
    messages,
    send: (message: Uint8Array) => ws.readyState === ws.OPEN && ws.send(message),
    /** How many sync messages of `step` have arrived. */
    syncSteps: (step: number) => messages.filter((message) => isSyncStep(message, step)).length,
    /** Resolves when a sync message of `step` has arrived. */
    async reply(step: number): Promise<void> {
      while (!messages.some((message) => isSyncStep(message, step)))
        await new Promise<void>((wake) => waiting.push(wake));
    },
  };
}

function isSyncStep(message: Uint8Array, step: number): boolean {
  const decoder = decoding.createDecoder(message);
  return decoding.readVarUint(decoder) === MESSAGE_SYNC && decoding.readVarUint(decoder) === step;
}
