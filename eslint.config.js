// The layer rules of ../README.md ("Layout"), checked by `npm run check`: which folder may import
// what. Formatting is Prettier's business, not ESLint's; the rules here are about structure and
// a few mistakes the type checker does not see.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** `no-restricted-imports` patterns: the group of imports a layer may not make, and why. */
const forbid = (message, ...group) => ({ group, message });

const dexie = forbid('IndexedDB is reached only through src/lib/store.', 'dexie', 'dexie/*');
const yjs = forbid(
  'Yjs is used only in src/lib/sync (and the server).',
  'yjs',
  'yjs/*',
  'y-websocket',
  'y-protocols',
  'y-protocols/*',
);
const store = forbid(
  'Screens and components go through services and the session, never the store.',
  '$lib/store',
  '$lib/store/*',
  '**/store/*',
);
const upper = forbid(
  'Domain and KPI code is the bottom layer: it imports nothing of the app, the store, the sync layer or the screens.',
  '**/app/*',
  '$lib/app/*',
  '**/store/*',
  '$lib/store/*',
  '**/sync/*',
  '$lib/sync/*',
  '**/ui/*',
  '$lib/ui/*',
  '$app/*',
  'svelte',
  'svelte/*',
);
const serverOnly = forbid(
  'The server reuses only the pure modules of src/lib: domain, kpi, sync, demo and csv.',
  '**/src/lib/app/*',
  '**/src/lib/store/*',
  '**/src/lib/ui/*',
  '**/src/lib/pwa/*',
  '**/src/lib/i18n/*',
  '**/src/lib/paraglide/*',
  '**/src/lib/console/*',
  '**/src/lib/leads/*',
  '**/src/lib/deals/*',
  '**/src/lib/cli/*',
  '$lib/*',
  '$app/*',
  'svelte',
  'svelte/*',
  'dexie',
);
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  {
    ignores: [
      'build/',
      '.svelte-kit/',
      'node_modules/',
      'src/lib/paraglide/',
      'test-results/',
      'bench-results/',
      'data/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  // Formatting is Prettier's (`prettier --check` in `npm run check`): no ESLint rule may disagree with it.
  prettier,
  ...svelte.configs['flat/prettier'],
  importX.flatConfigs.typescript,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      // Import cycles make load order matter and layers leak into each other.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // The app is served at the root (no `paths.base`): its plain hrefs are already resolved.
      'svelte/no-navigation-without-resolve': 'off',
      // It flags every Map or Set made in a .svelte.ts file, also fresh values that are returned or
      // derived whole (never mutated in place), which is how this code uses them.
      'svelte/prefer-svelte-reactivity': 'off',
      // `_`-prefixed names are deliberately unused (destructuring a field away).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  // The layers, from the bottom.
  { files: ['src/lib/domain/**', 'src/lib/kpi/**'], rules: restrict(upper, dexie, yjs) },
  { files: ['src/lib/csv/**', 'src/lib/demo/**', 'src/lib/cli/**'], rules: restrict(dexie, yjs, store) },
  {
    files: ['src/lib/sync/**'],
    rules: restrict(
      dexie,
      forbid('The sync layer sits below the store and the app.', '**/store/*', '**/app/*', '**/ui/*'),
    ),
  },
  {
    files: [
      'src/lib/app/**',
      'src/lib/console/**',
      'src/lib/leads/**',
      'src/lib/deals/**',
      'src/lib/pwa/**',
      'src/lib/i18n/**',
    ],
    rules: restrict(dexie, yjs),
  },
  {
    files: ['src/lib/store/**'],
    rules: {
      // The store keeps the documents' updates; what a write does to a document, and which writes
      // make one transaction, is the sync layer's (partner-doc.ts `writeTogether`, sync SPEC S10).
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='transact']",
          message: 'The store does not start Yjs transactions: write through src/lib/sync (writeTogether).',
        },
      ],
    },
  },
  { files: ['src/routes/**', 'src/lib/ui/**'], rules: restrict(dexie, yjs, store) },
  { files: ['server/**'], rules: restrict(serverOnly) },
);
