/**
 * The real server (SQLite under a temp DATA_DIR, port 0) and stock y-websocket clients in one
 * process. Waiting is on events (a doc update, a socket close), never on the clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { readConfig } from '../../server/config';
import { startServer, type RunningServer, type StartOptions } from '../../server/main';
import { signToken } from '../../server/auth/tokens';
import type { TokenClaims } from '../../server/auth/claims';

export interface Harness {
  server: RunningServer;
  dataDir: string;
  /** Starts the server again on the same DATA_DIR (after `server.close()`). */
  restart(): Promise<RunningServer>;
  token(claims: TokenClaims, options?: { ttl?: string | number; now?: number; secret?: Uint8Array }): Promise<string>;
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

export async function createHarness(options: Partial<StartOptions> & { demo?: boolean; allowedOrigins?: string } = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-sync-'));
  const staticDir = mkdtempSync(join(tmpdir(), 'partner-kpi-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Partner KPI</title>');
  const config = readConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DEMO: options.demo ? 'on' : 'off', ALLOWED_ORIGINS: options.allowedOrigins ?? '' });
  const start = () => startServer({ rollupDelayMs: 0, log: () => {}, ...options, config, staticDir });
  const clients = new Set<Client>();
  const harness: Harness = {
    server: await start(),
    dataDir,
    async restart() {
      harness.server = await start();
      return harness.server;
    },
    token(claims, { ttl = '1h', now, secret } = {}) {
      return signToken(claims, secret ?? harness.server.secret, { ttl, ...(now === undefined ? {} : { now }) });
    },
    connect(room, token, doc = new Y.Doc()) {
      const url = harness.server.origin.replace('http', 'ws') + '/sync';
      const provider = new WebsocketProvider(url, room, doc, {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        params: token ? { token } : {},
        disableBc: true,
      });
      const closed = new Promise<number>((resolve) => provider.on('connection-close', (event) => event && resolve(event.code)));
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
