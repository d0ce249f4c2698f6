import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [sveltekit()],
  test: {
    expect: { requireAssertions: true },
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
  },
});
