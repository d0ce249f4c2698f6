import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A single-page app: every route renders on the device, and unknown paths fall back to index.html
    // so that deep links work offline once the service worker has the shell.
    adapter: adapter({ fallback: 'index.html' }),
  },
};
