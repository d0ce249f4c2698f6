/**
 * `npm run fuzz [-- --frames N] [--seed N] [--concurrency N]`: the sync endpoint's frame fuzzer —
 * the same as test/integration/frame-fuzz.test.ts (test/support/hostile-client.ts) — against the
 * real server in this process, SQLite in a temp dir, for longer: 100,000 frames by default, from a
 * random seed unless one is given (printed first: `--seed` replays it; `--concurrency 1` replays it
 * frame for frame, the others interleave by timing).
 *
 * Prints the figures (frames by kind, sockets closed by code, honest edits relayed and stored,
 * rooms loaded after the restart) and every failed check; exits 1 when there is one, 2 when the
 * options are wrong.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createHarness } from '../test/integration/sync-harness';
import { formatReport, fuzzGuards, runFuzz, type FuzzTarget } from '../test/support/hostile-client';

const USAGE = 'usage: npm run fuzz -- [--frames N (100000)] [--seed N (random)] [--concurrency N (12)]';

function wholeNumber(name: string, text: string | undefined, fallback: number, least: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < least) {
    console.error(`--${name} "${text}" is not a whole number of at least ${least}\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      frames: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const frames = wholeNumber('frames', parsed.values.frames, 100_000, 1);
const seed = wholeNumber('seed', parsed.values.seed, randomInt(2 ** 31), 0);
const concurrency = wholeNumber('concurrency', parsed.values.concurrency, 12, 1);
console.log(
  `fuzz: ${frames} frames, seed ${seed} (replay: npm run fuzz -- --seed ${seed} --frames ${frames}), ${concurrency} hostile sockets at once`,
);

// The server's own lines, the last of them printed with a failure.
const serverLog: string[] = [];
const log = (line: string) => {
  serverLog.push(line);
  if (serverLog.length > 40) serverLog.shift();
};
// The server runs in this process: anything it throws that nobody catches is a crash.
const crashed = (kind: string) => (error: unknown) => {
  console.error(
    `\nfuzz: the server crashed (${kind}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  console.error(`server log, last lines:\n  ${serverLog.join('\n  ')}`);
  console.error(`replay: npm run fuzz -- --seed ${seed} --frames ${frames}`);
  process.exit(1);
};
process.on('uncaughtException', crashed('uncaught exception'));
process.on('unhandledRejection', crashed('unhandled rejection'));

const harness = await createHarness({ log });
const target: FuzzTarget = {
  origin: () => harness.server.origin,
  secret: () => harness.server.secret,
  storedUpdates: async (room) => (await harness.server.storage.load(room)).updates,
  async restart() {
    let closing: unknown;
    try {
      await harness.server.close();
    } catch (error) {
      closing = error;
    }
    await harness.restart();
    if (closing !== undefined) throw new Error(`the server failed to close: ${(closing as Error).message}`);
  },
};
const report = await runFuzz(target, {
  frames,
  seed,
  concurrency,
  progress: (line) => console.log(`fuzz: ${line}`),
});
await harness.cleanup();

console.log(formatReport(report));
const guards = fuzzGuards(report, frames);
if (guards.length > 0) console.log(`the fuzz did not do what it is for:\n- ${guards.join('\n- ')}`);
if (report.failures.length > 0 || guards.length > 0) {
  console.log(`server log, last lines:\n  ${serverLog.join('\n  ')}`);
  console.log(`FAILED — replay: npm run fuzz -- --seed ${seed} --frames ${frames}`);
  process.exit(1);
}
console.log('passed');
