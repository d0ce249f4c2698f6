import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { paraglideVitePlugin } from '@inlang/paraglide-js';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * @vite-pwa/sveltekit generates the service worker in `closeBundle` even when the build has failed, and
 * its own error then ("ENOENT … _app/version.json") is the only one Vite prints: the real one (a missing
 * module, a syntax error) is hidden. Skip that step when the bundle failed. Vite calls `closeBundle`
 * twice after a failure, once without the error, so the failure is remembered from `buildEnd`.
 */
function keepBuildErrorsVisible(plugins: Plugin[]): Plugin[] {
  for (const plugin of plugins) {
    const hook = plugin.closeBundle;
    if (plugin.name !== 'vite-plugin-pwa:sveltekit:build' || !hook || typeof hook === 'function') continue;
    // Only the hooks this wrapper adds; a version of the plugin with its own would need a new look.
    if (plugin.buildStart || plugin.buildEnd) continue;
    let failed = false;
    plugin.buildStart = () => {
      failed = false;
    };
    plugin.buildEnd = (error) => {
      failed = error !== undefined;
    };
    const generate = hook.handler;
    hook.handler = function (this, error) {
      return failed || error ? undefined : generate.call(this, error);
    };
  }
  return plugins;
}

export default defineConfig({
  plugins: [
    // Compiles messages/*.json into typed message functions (src/lib/paraglide, generated, not committed).
    paraglideVitePlugin({
      project: './project.inlang',
      outdir: './src/lib/paraglide',
      strategy: ['localStorage', 'preferredLanguage', 'baseLocale'],
    }),
    sveltekit(),
    // The service worker (workbox, generateSW) that makes the whole app work offline. It is the only
    // service worker mechanism: there is no src/service-worker.ts.
    keepBuildErrorsVisible(
      SvelteKitPWA({
        strategies: 'generateSW',
        // An update waits until the person presses "Reload to update" (src/lib/pwa/UpdatePrompt.svelte):
        // skipping waiting by itself could reload the page in the middle of someone's edit.
        registerType: 'prompt',
        // src/lib/pwa/pwa.svelte.ts registers the worker through `virtual:pwa-register`.
        injectRegister: false,
        // SvelteKit's relative base would register `./sw.js` with scope `./`: from a first visit at a
        // deep link (/deals/D1) that is /deals/sw.js, which does not exist. The worker is at the root.
        base: '/',
        scope: '/',
        // SvelteKit renders no index.html through Vite, so nothing would inject the link: src/app.html has it.
        manifest: {
          id: '/',
          name: 'Partner KPI',
          short_name: 'Partner KPI',
          description: 'Log leads and deals and see your channel partner KPIs, offline.',
          lang: 'en',
          display: 'standalone',
          start_url: '/',
          scope: '/',
          theme_color: '#0f4c81',
          background_color: '#f4f6f8',
          icons: [
            { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
            { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
            { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          ],
        },
        kit: {
          // adapter-static writes the SPA fallback (svelte.config.js) only after the service worker is
          // generated; `spa` makes the plugin precache it anyway, with a revision taken from
          // _app/version.json, and `adapterFallback` makes it the navigation fallback ('index.html').
          // A navigateFallback of '/' would not work: '/' is not in the precache of an app that
          // prerenders nothing, and workbox refuses to install with a fallback it has not precached.
          adapterFallback: 'index.html',
          spa: true,
        },
        workbox: {
          // The whole app shell, so that every route loads offline. Paths are relative to
          // .svelte-kit/output, where the plugin looks before the adapter copies files to build/.
          globPatterns: [
            'client/**/*.{js,css,html,svg,png,ico,webp,woff2,webmanifest}',
            'prerendered/**/*.{html,json}',
          ],
          // Navigations to server endpoints must reach the server, not the app shell.
          navigateFallbackDenylist: [/^\/healthz$/],
          cleanupOutdatedCaches: true,
          // The first worker takes charge of the page that installed it, so that the page is controlled
          // from the first visit on and a later update always waits for the person's "Reload to update".
          // (An uncontrolled page would see the update activate at once, with no reload to show it.)
          // Never `skipWaiting`: see registerType.
          clientsClaim: true,
        },
        // No service worker under `vite dev`: it would cache modules that Vite is still changing.
        devOptions: { enabled: false },
      }),
    ),
  ],
  // The plugin-timing report is noise on these small shared machines; warnings still print.
  build: { rolldownOptions: { checks: { pluginTimings: false } } },
  test: {
    expect: { requireAssertions: true },
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          exclude: ['**/*.svelte.test.ts'],
        },
      },
      {
        // Files named *.svelte.test.ts test what runes make reactive: compiled as the browser runs
        // them, with Svelte's browser runtime (in the node project `$effect` never runs).
        extends: true,
        resolve: { conditions: ['browser'] },
        test: {
          name: 'client',
          include: ['test/unit/**/*.svelte.test.ts'],
          environment: './test/support/svelte-client-environment.ts',
        },
      },
    ],
  },
});
