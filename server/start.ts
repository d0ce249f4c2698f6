/**
 * `npm start`: builds the app when the build is missing or older than its sources, then serves it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppServer } from './app';
import { readConfig } from './config';

const root = fileURLToPath(new URL('..', import.meta.url));
const buildDir = join(root, 'build');
const SOURCES = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function buildIfNeeded(): void {
  const built = join(buildDir, 'index.html');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  const changedAt = Math.max(...SOURCES.map((source) => newestMtime(join(root, source))));
  if (builtAt >= changedAt) return;
  console.log(builtAt ? 'Sources changed since the last build: building the app…' : 'Building the app (first start)…');
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
}

let config;
try {
  config = readConfig(process.env);
} catch (error) {
  console.error(`partner-kpi: ${(error as Error).message}`);
  process.exit(1);
}
buildIfNeeded();
const server = createAppServer({ staticDir: buildDir });
server.on('error', (error) => {
  console.error(`partner-kpi: cannot listen on port ${config.port}: ${error.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  console.log(`partner-kpi is running: http://localhost:${config.port}/  (health: /healthz)`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
