/**
 * The app server's HTTP side: the built single-page app, `GET /healthz`, `GET /metrics`, the demo
 * sign-in API, the program's partners for a vendor manager signing in (`GET /api/partners`), and
 * the upgrade to the sync endpoint. Node only; never imports Svelte or browser code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import type { DemoUser } from './seed';

export interface AppServerOptions {
  /** Folder of the built app (`build/`). */
  staticDir: string;
  /** The Prometheus text for `GET /metrics`. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** The demo program's users and a way to sign one in; absent when the demo is off. */
  demo?: { users: DemoUser[]; signIn(user: DemoUser): Promise<{ token: string; expiresAt: number }> };
  /** Takes the upgrades of the sync endpoint (returns false for other paths). */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /**
   * The partners of the program of a vendor manager's token (`Authorization: Bearer <token>`),
   * for the sign-in screen's "Partner to open"; an HTTP status and a body otherwise.
   */
  partners?: (token: string | undefined) => Promise<{ status: number; body: unknown }>;
}

/** A sign-in request body is a user id; anything larger is not one. */
const MAX_BODY_BYTES = 1024;

export function createAppServer({ staticDir, metrics, demo, upgrade, partners }: AppServerOptions): Server {
  const assets = sirv(staticDir, {
    // SPA: unknown paths get index.html, so deep links work; the service worker takes over offline.
    single: true,
    etag: true,
    gzip: false,
    setHeaders: (res, pathname) => {
      // Hashed build assets never change; everything else is revalidated so updates reach devices.
      const immutable = pathname.startsWith('/_app/immutable/');
      res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ status: 'ok' }));
      return;
    }
    if (path === '/metrics' && metrics && req.method === 'GET') {
      metrics().then(
        ({ contentType, text }) =>
          res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(text),
        (error: unknown) => res.writeHead(500).end(`metrics failed: ${(error as Error).message}`),
      );
      return;
    }
    if (path === '/api/partners' && req.method === 'GET' && partners) {
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      partners(bearer?.[1]).then(
        ({ status, body }) => json(res, status, body),
        (error: unknown) =>
          json(res, 500, { error: `Could not read the partners: ${(error as Error).message}` }),
      );
      return;
    }
    if (path?.startsWith('/api/')) return api(req, res, path, demo);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    assets(req, res, () => {
      res.writeHead(404).end('Not found');
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (!upgrade?.(req, socket, head))
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  return server;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
    .end(JSON.stringify(body));
}

function api(req: IncomingMessage, res: ServerResponse, path: string, demo: AppServerOptions['demo']): void {
  if (path === '/api/demo-users' && req.method === 'GET') {
    if (!demo) return json(res, 404, { error: 'The demo program is off on this server.' });
    return json(res, 200, { users: demo.users });
  }
  if (path === '/api/demo-sign-in' && req.method === 'POST') {
    if (!demo) return json(res, 404, { error: 'The demo program is off on this server.' });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) {
        json(res, 413, { error: 'The request is too large.' });
        req.destroy();
      }
    });
    req.on('end', () => {
      let userId: unknown;
      try {
        userId = (JSON.parse(body) as { userId?: unknown }).userId;
      } catch {
        return json(res, 400, { error: 'The request must be JSON: {"userId": "…"}.' });
      }
      const user = demo.users.find((candidate) => candidate.userId === userId);
      if (!user) return json(res, 404, { error: `There is no demo user ${JSON.stringify(userId)}.` });
      demo.signIn(user).then(
        (signed) => json(res, 200, { ...signed, user }),
        (error: unknown) => json(res, 500, { error: `Could not sign in: ${(error as Error).message}` }),
      );
    });
    return;
  }
  json(res, 404, { error: `No API at ${req.method} ${path}.` });
}
