/**
 * A Vitest environment for unit tests of what runes make reactive: Node, but the app's modules are
 * compiled for the client, as the browser runs them. (In Vitest's default `node` environment they
 * are compiled for the server, where `$effect` never runs and `$derived` is computed anew on every
 * read, so a test there cannot tell whether a change reaches the screens.) vite.config.ts gives it
 * to the files named `*.svelte.test.ts`, with Svelte's browser runtime.
 */
import type { Environment } from 'vitest/environments';

export default {
  name: 'svelte-client',
  viteEnvironment: 'client',
  setup: () => ({ teardown: () => {} }),
} satisfies Environment;
