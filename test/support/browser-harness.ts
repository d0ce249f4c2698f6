/**
 * What every end-to-end test (test/e2e) and every benchmark in a browser (bench/) needs: the
 * production build, the real server serving it on a free port (and stopped for real when a test
 * wants the device offline), and the system Chromium with a fresh persistent profile — never a
 * downloaded browser, never an incognito context.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { readConfig } from '../../server/config';
import { startServer as startPartnerKpi } from '../../server/main';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const buildDir = join(root, 'build');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Builds the app once when there is no build (npm test builds before the end-to-end run). */
export function ensureBuilt(): void {
  if (existsSync(join(buildDir, 'index.html')) && existsSync(join(buildDir, 'sw.js'))) return;
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
    { cwd: root, stdio: 'inherit' },
  );
}

export interface RunningServer {
  origin: string;
  /** The server's data folder: pass it to `startServer` again to come back with the same data. */
  dataDir: string;
  /** Stops the server and drops open connections: the device is then really offline. */
  stop(): Promise<void>;
}

/**
 * The whole server (app, sync, demo program seeded on first start) on `port` (0: a free one), with
 * its data in `dataDir` (a fresh temp folder unless given; removed by `stop` only if made here).
 */
export async function startServer(port = 0, dataDir?: string): Promise<RunningServer> {
  const ownDir = dataDir === undefined;
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'partner-kpi-e2e-data-'));
  const config = readConfig({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, DEMO: 'on' });
  const server = await startPartnerKpi({ config, staticDir: buildDir, log: () => {} });
  const origin = server.origin.replace('localhost', '127.0.0.1');
  let stopped = false;
  return {
    origin,
    dataDir: dir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A persistent Chromium profile of its own (a phone-sized screen unless told otherwise). */
export async function launchBrowser(viewport = { width: 360, height: 640 }): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
