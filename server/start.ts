/**
 * `npm start`: builds the app when the build is missing or older than its sources, then serves it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from './main';
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
  console.log(
    builtAt ? 'Sources changed since the last build: building the app…' : 'Building the app (first start)…',
  );
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
    { cwd: root, stdio: 'inherit' },
  );
}

let config;
try {
  config = readConfig(process.env);
} catch (error) {
  console.error(`partner-kpi: ${(error as Error).message}`);
  process.exit(1);
}
buildIfNeeded();
let running: RunningServer;
try {
  running = await startServer({
    config,
    staticDir: buildDir,
    // Without its engine the server takes no sync socket: exit, for whatever supervises it to restart it.
    onFailure: () => process.exit(1),
  });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  console.error(
    `partner-kpi: ${code === 'EADDRINUSE' ? `port ${config.port} is in use (set PORT)` : (error as Error).message}`,
  );
  process.exit(1);
}
const url = `http://localhost:${config.port}/`;
console.log(`partner-kpi is running: ${url}  (health: /healthz, metrics: /metrics, data: ${config.dataDir})`);
if (running.demoUsers.length) {
  const managers = running.demoUsers.filter((user) => user.role !== 'rep');
  console.log(`Demo sign-in: open the URL and choose one of ${running.demoUsers.length} demo users, e.g.`);
  for (const user of managers)
    console.log(
      `  ${user.name} — ${user.role.replace('_', ' ')}${user.partnerName ? `, ${user.partnerName}` : ''}`,
    );
  console.log(`  … and ${running.demoUsers.length - managers.length} reps`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void running.close().then(() => process.exit(0)));
}
