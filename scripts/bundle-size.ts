/**
 * The gzipped JavaScript a phone downloads before the Today screen shows: the client entry, the root
 * layout and the Today page, with everything they import statically (lazy chunks — charts, CSV,
 * the demo generator — are not counted). Reads the build manifest, so it needs `npm run build`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

interface ManifestChunk {
  file: string;
  imports?: string[];
}

const CLIENT = '.svelte-kit/output/client';
/** Manifest keys of the client entry, the root layout (node 0) and the Today page (node 2). */
const TODAY_ENTRIES = [/client-optimized\/app\.js$/, /client-optimized\/nodes\/0\.js$/, /client-optimized\/nodes\/2\.js$/];

export function todayInitialJs(root: string): { files: number; gzipBytes: number } {
  const manifest = JSON.parse(readFileSync(join(root, CLIENT, '.vite/manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const keys = Object.keys(manifest);
  const pending = keys.filter((key) => TODAY_ENTRIES.some((pattern) => pattern.test(key)));
  if (pending.length !== TODAY_ENTRIES.length) throw new Error('The build manifest has no Today screen entries: run npm run build first.');
  const seen = new Set<string>();
  while (pending.length) {
    const key = pending.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    pending.push(...(manifest[key]?.imports ?? []));
  }
  let gzipBytes = 0;
  for (const key of seen) gzipBytes += gzipSync(readFileSync(join(root, CLIENT, manifest[key]!.file)), { level: 9 }).length;
  return { files: seen.size, gzipBytes };
}
