/**
 * `npm run bench`: every benchmark in turn, each printing its figures beside a baseline measured in
 * the same run and marking each budget as met or missed. A script, not a test: timings on shared
 * machines vary, so it prints medians and ratios for a person to read. What was measured, and when:
 * docs/benchmarks.md.
 *
 * 1. the Today screen's initial JavaScript (bench/bundle-size.ts, from the build);
 * 2. the rep app in headless Chromium: open, the lists' first screen, saving a deal (bench/browser);
 * 3. the KPI engine on seeded programs of 100,000 and 1,000,000 deals against SQLite (bench/engine);
 * 4. the sync server under many devices' edits against a minimal relay (bench/sync), a reconnect
 *    storm (bench/storm.ts) and a program of 1,000 large partners: the vendor's documents, a fold's
 *    latency, the console (bench/program).
 *
 * Options: --sizes 100000,1000000  --runs 5  --skip-browser  --skip-sync  --sync-only  --sync-updates 5000  --partners 1000
 * Environment: BENCH_SCENARIO, BENCH_SERVER_CPU_PROFILE, BENCH_SERVER_FLAGS (bench/sync/).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchBrowser } from './browser';
import { benchBundleSize } from './bundle-size';
import { benchEngine } from './engine';
import { benchProgram } from './program';
import { benchStorm } from './storm';
import { benchSync } from './sync';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    runs: { type: 'string', default: '5' },
    'skip-browser': { type: 'boolean', default: false },
    'skip-sync': { type: 'boolean', default: false },
    'sync-only': { type: 'boolean', default: false },
    'sync-updates': { type: 'string', default: '5000' },
    partners: { type: 'string', default: '1000' },
  },
});
const usageError = (message: string): never => {
  console.error(message);
  process.exit(2);
};
if (values['skip-sync'] && values['sync-only'])
  usageError('--skip-sync and --sync-only leave nothing to run: give one of them');
const syncUpdates = Number(values['sync-updates']);
if (!Number.isInteger(syncUpdates) || syncUpdates < 1)
  usageError(`--sync-updates must be a positive whole number, not ${values['sync-updates']}`);
const partners = Number(values.partners);
if (!Number.isInteger(partners) || partners < 1)
  usageError(`--partners must be a positive whole number, not ${values.partners}`);
const sizes = values.sizes.split(',').map(Number);
const runs = Math.max(5, Number(values.runs));
const syncOnly = values['sync-only'];
const browser = !values['skip-browser'];

console.log(`partner-kpi benchmark — Node ${process.version}, ${runs} runs per figure`);
// --sync-only: none of the app's figures, only the sync server's.
if (!syncOnly) {
  benchBundleSize(fileURLToPath(new URL('..', import.meta.url)));
  if (browser) await benchBrowser();
}
const allAgree = syncOnly || sizes.map((size) => benchEngine(size, runs)).every(Boolean);
// After the engine: the sync run starts child processes and 1,000 sockets, which should not share the machine with it.
const syncOk =
  values['skip-sync'] ||
  ((await benchSync({ updates: syncUpdates })) &&
    (await benchStorm()) &&
    (await benchProgram({ partners, browser })));
process.exitCode = allAgree && syncOk ? 0 : 1;
