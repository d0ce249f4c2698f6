/**
 * A program of many large partners, in `npm run bench`: 1,000 partners of 4,000 leads and 2,000
 * deals each (generated: windows of a large seeded demo program, each given to many partners). It
 * prints
 * - the size of the vendor's documents (the program document and the rollups room, as stored)
 *   and of the server's room of days, which no device downloads;
 * - how long the server takes to fold one partner's single edit and publish it: from a rep's
 *   edit sent to the update reaching a vendor's socket on the rollups room, through the real
 *   server (tokens, SQLite, the rollup worker with no delay), p50 and p95 over many edits;
 * - the vendor console in headless Chromium (production build): from opening the sign-in link to
 *   the program's KPIs on screen (everything downloaded), then on reload (from the device).
 * Medians of several runs; a budget is met when the median meets it.
 *
 * The records: bench/program/records.ts; the fold's latency: fold.ts; the console: console.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig } from '../../server/config';
import { startServer } from '../../server/main';
import { buildDir } from '../../test/support/browser-harness';
import { percentile, verdict } from '../stats';
import { consoleOpens } from './console';
import { foldLatencies } from './fold';
import { generate, type Generated } from './records';

const PROGRAM_TARGETS = { consoleMs: 1500, vendorDocsMb: 10, foldP95Ms: 50 };
const SECRET = 'a-bench-secret-of-at-least-thirty-two-bytes';

const mb = (bytes: number) => (bytes / 1e6).toFixed(2);

/** Prints the figures; false when something could not be measured. */
export async function benchProgram({
  partners = 1000,
  leads = 4000,
  deals = 2000,
  browser = true,
} = {}): Promise<boolean> {
  console.log(
    `\nA program of ${partners.toLocaleString('en')} partners × ${leads.toLocaleString('en')} leads and ${deals.toLocaleString('en')} deals each`,
  );
  let generated: Generated | undefined;
  try {
    generated = await generate(partners, leads, deals);
    console.log(
      `  server folds written in ${(generated.writeMs / partners).toFixed(1)} ms a partner (${(generated.writeMs / 1000).toFixed(1)} s for all)`,
    );
    console.log(
      `  vendor's documents: ${mb(generated.vendorDocsBytes)} MB (program ${mb(generated.programBytes)}, rollups ${mb(generated.rollupsBytes)}; budget ${PROGRAM_TARGETS.vendorDocsMb} MB: ${verdict(generated.vendorDocsBytes / 1e6, PROGRAM_TARGETS.vendorDocsMb)}); the server's room of days ${mb(generated.daysBytes)} MB`,
    );
    const staticDir = browser ? buildDir : mkdtempSync(join(tmpdir(), 'partner-kpi-program-static-'));
    if (!browser) writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>bench</title>');
    const server = await startServer({
      config: {
        ...readConfig({ DATA_DIR: generated.dataDir, PORT: '0', HOST: '127.0.0.1', DEMO: 'off' }),
        tokenSecret: SECRET,
      },
      staticDir,
      // Folds at once (the latency is the fold's, not a debounce's); the benchmark as in production.
      rollupDelayMs: 0,
      benchmarkIntervalMs: 5 * 60_000,
      log: () => {},
    });
    try {
      // What a start does first (every channel written, the benchmark published) is done.
      const settling = performance.now();
      await server.settled();
      console.log(
        `  server start-up work (channels, benchmark of ${partners.toLocaleString('en')} partners) done in ${((performance.now() - settling) / 1000).toFixed(1)} s`,
      );
      const secret = new TextEncoder().encode(SECRET);
      const latencies = await foldLatencies(server.origin, secret, generated.deals);
      const p95 = percentile(latencies, 95);
      console.log(
        `  one edit folded and published (rep's edit → vendor's socket, ${latencies.length} edits): p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (budget p95 ${PROGRAM_TARGETS.foldP95Ms} ms: ${verdict(p95, PROGRAM_TARGETS.foldP95Ms)})`,
      );
      if (browser) {
        const opens = await consoleOpens(server.origin.replace('localhost', '127.0.0.1'), secret);
        const reload = percentile(opens.reloadMs, 50);
        console.log(
          `  vendor console, "Sign in" → program KPIs on screen (everything downloaded): ${opens.firstMs.toFixed(0)} ms`,
        );
        console.log(
          `  vendor console, reload → program KPIs on screen: median ${reload.toFixed(0)} ms of ${opens.reloadMs.length} (${Math.min(...opens.reloadMs).toFixed(0)}–${Math.max(...opens.reloadMs).toFixed(0)}; budget ${PROGRAM_TARGETS.consoleMs} ms: ${verdict(reload, PROGRAM_TARGETS.consoleMs)})`,
        );
        console.log(
          `  the vendor's device stores ${mb(opens.storedBytes)} MB (navigator.storage.estimate; with the first partner's records, opened read-only)`,
        );
      }
    } finally {
      await server.close();
      if (!browser) rmSync(staticDir, { recursive: true, force: true });
    }
    return true;
  } catch (error) {
    console.log(`  not measured: ${(error as Error).stack ?? (error as Error).message}`);
    return false;
  } finally {
    if (generated) rmSync(generated.dataDir, { recursive: true, force: true });
  }
}

// Alone: `npx tsx bench/program/index.ts [partners] [--skip-browser]`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 1000);
  process.exitCode = (await benchProgram({
    partners: count,
    browser: !process.argv.includes('--skip-browser'),
  }))
    ? 0
    : 1;
}
