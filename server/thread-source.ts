/**
 * The code of a worker thread, as one script bundled once per process from a TypeScript entry and
 * what it imports. A worker thread does not inherit the loader that lets this thread run TypeScript
 * (tsx, or Vitest in tests); registering one in it costs most of a second per thread, bundling a
 * few milliseconds. Packages stay outside, required from the entry's folder. (A bundle has no
 * `import.meta.url` of its own: code in it cannot start a thread this way.)
 */
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const sources = new Map<string, string>();

/** The script of the thread whose entry is `entry` (a file URL); run it with `new Worker(source, { eval: true })`. */
export function threadSource(entry: URL): string {
  const path = fileURLToPath(entry);
  let source = sources.get(path);
  if (source) return source;
  const { outputFiles, warnings } = buildSync({
    entryPoints: [path],
    bundle: true,
    platform: 'node',
    format: 'iife',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  // Such as an `import.meta.url`, which would be undefined in the thread.
  if (warnings.length > 0)
    throw new Error(
      `${path} does not bundle cleanly for a thread: ${warnings.map((w) => w.text).join('; ')}`,
    );
  // Whether the worker reads it as a script or a module depends on the loader in use: `require`
  // is handed in either way.
  const requireHere = `process.getBuiltinModule('node:module').createRequire(${JSON.stringify(path)})`;
  source = `(function (require) {\n${outputFiles[0]!.text}\n})(${requireHere});`;
  sources.set(path, source);
  return source;
}
