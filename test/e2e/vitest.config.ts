// End-to-end tests: the production build in the system Chromium. Run with
// `npx vitest run --config test/e2e/vitest.config.ts`. They start their own server and browser, one
// file at a time, so that two files never compete for the build or the CPU.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

// tsconfig.json extends .svelte-kit/tsconfig.json, and Vite cannot compile a test file without it. The
// main config gets it from the sveltekit() plugin; this one, which needs no Svelte, writes it the same
// way on a fresh clone.
if (!existsSync(join(root, '.svelte-kit', 'tsconfig.json'))) {
  execFileSync(process.execPath, [join(root, 'node_modules', '@sveltejs', 'kit', 'svelte-kit.js'), 'sync'], {
    cwd: root,
    stdio: 'inherit',
  });
}

export default defineConfig({
  root,
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    // Each test starts Chromium and installs the service worker (5–10 s here); a first run also builds.
    testTimeout: 120_000,
    expect: { requireAssertions: true },
    fileParallelism: false,
  },
});
