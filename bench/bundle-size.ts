/**
 * The gzipped JavaScript a phone downloads before the Today screen shows: the client entry, the root
 * layout and the Today page, with everything they import statically (lazy chunks — charts, CSV,
 * the demo generator — are not counted). Reads the build output, so it needs `npm run build`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { verdict } from './stats';

interface ManifestChunk {
  file: string;
  imports?: string[];
}

const CLIENT = '.svelte-kit/output/client';
const GENERATED_APP = '.svelte-kit/generated/client-optimized/app.js';

/**
 * The node index of the page at `/`, read from SvelteKit's generated route dictionary
 * (`"/": [3]`, or `[~3]` when the page has no load): node numbers shift as routes and layouts are added.
 */
function todayNode(root: string): number {
  const app = readFileSync(join(root, GENERATED_APP), 'utf8');
  const match = /"\/":\s*\[~?(\d+)/.exec(app);
  if (!match) throw new Error(`No route "/" in ${GENERATED_APP}: run npm run build first.`);
  return Number(match[1]);
}

function todayInitialJs(root: string): { files: number; gzipBytes: number } {
  const manifest = JSON.parse(readFileSync(join(root, CLIENT, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const entries = ['app.js', 'nodes/0.js', `nodes/${todayNode(root)}.js`].map(
    (name) => `client-optimized/${name}`,
  );
  const keys = Object.keys(manifest);
  const pending = keys.filter((key) => entries.some((entry) => key.endsWith(entry)));
  if (pending.length !== entries.length)
    throw new Error('The build manifest has no Today screen entries: run npm run build first.');
  const seen = new Set<string>();
  while (pending.length) {
    const key = pending.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    pending.push(...(manifest[key]?.imports ?? []));
  }
  let gzipBytes = 0;
  for (const key of seen)
    gzipBytes += gzipSync(readFileSync(join(root, CLIENT, manifest[key]!.file)), { level: 9 }).length;
  return { files: seen.size, gzipBytes };
}

/** The budget of the Today screen's initial JavaScript, gzipped. */
const TODAY_JS_KB = 120;

/** Prints the Today screen's initial JavaScript against its budget (or why it was not measured). */
export function benchBundleSize(root: string): void {
  try {
    const today = todayInitialJs(root);
    const kb = today.gzipBytes / 1024;
    console.log(
      `\nToday screen, initial JavaScript: ${kb.toFixed(1)} KB gzipped in ${today.files} files  target ≤ ${TODAY_JS_KB} KB: ${verdict(kb, TODAY_JS_KB)}`,
    );
  } catch (error) {
    console.log(`\nToday screen, initial JavaScript: not measured (${(error as Error).message})`);
  }
}
