import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [sveltekit()],
  // The plugin-timing report is noise on these small shared machines; warnings still print.
  build: { rolldownOptions: { checks: { pluginTimings: false } } },
  test: {
    expect: { requireAssertions: true },
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
  },
});
