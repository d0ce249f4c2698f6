/**
 * The app server: serves the built single-page app and answers `GET /healthz`. The sync endpoint
 * and metrics join this same process later. Node only; never imports Svelte or browser code.
 */
import { createServer, type Server } from 'node:http';
import sirv from 'sirv';

export interface AppServerOptions {
  /** Folder of the built app (`build/`). */
  staticDir: string;
}

export function createAppServer({ staticDir }: AppServerOptions): Server {
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
  return createServer((req, res) => {
    if (req.url === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ status: 'ok' }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    assets(req, res, () => {
      res.writeHead(404).end('Not found');
    });
  });
}
