/// <reference path="../node_modules/@vite-pwa/sveltekit/node_modules/vite-plugin-pwa/vanillajs.d.ts" />
// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {}
}
export {};
