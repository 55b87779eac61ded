/**
 * ESLint for raftkv: @eslint/js and typescript-eslint recommended (syntax only, no type-aware
 * rules, to stay fast), plus the purity rules of the consensus core and the state machine
 * (DESIGN.md §2: src/raft and src/kv do no I/O, read no clock, use no timers, no Math.random,
 * nothing async). Module-to-module boundaries on resolved paths are dependency-cruiser's job
 * (.dependency-cruiser.cjs); the import patterns here give the same answer for the pure modules
 * in the editor. Decision record: docs/decisions/0001-tooling.md.
 */
import { builtinModules } from 'node:module';

import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** The pure modules: synchronous, deterministic, importing only themselves and common. */
const PURE_MODULES = ['raft', 'kv'];
/**
 * npm packages a pure module may import: pure data structures only, no I/O, no clock
 * (docs/decisions/0006-kv-ordered-map.md). Kept in step with .dependency-cruiser.cjs.
 */
const PURE_PACKAGES = { raft: [], kv: ['sorted-btree'] };
/**
 * Deepest sub-directory level of a pure module that gets a relative-import block (0 = top).
 * Files nested deeper are checked by dependency-cruiser only.
 */
const MAX_DEPTH = 4;
const TEST_FILES = ['src/**/*.test.ts'];

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const BUILTINS = builtinModules.filter((name) => !name.startsWith('node:')).map(escapeRegex);

/** A negative lookahead excluding the exact package names `module` may import. */
function allowedPackages(module) {
  const names = PURE_PACKAGES[module];
  return names.length === 0 ? '' : `(?!(?:${names.map(escapeRegex).join('|')})$)`;
}

/**
 * Import patterns for a file `depth` directories below `src/<module>/`. Allowed: relative paths
 * that stay inside the module, and `<../ x (depth+1)>common/index.js`. The patterns are disjoint
 * so that one bad import gives one message.
 */
function importPatterns(module, depth) {
  const up = '\\.\\./'.repeat(depth);
  const common = `${'../'.repeat(depth + 1)}common/index.js`;
  return [
    {
      regex: `^(?:node:.*|(?:${BUILTINS.join('|')})(?:/.*)?)$`,
      message: `src/${module} does no I/O: no Node builtins (DESIGN.md §2). The shell passes data in.`,
    },
    {
      regex: `^(?!node:)(?!(?:${BUILTINS.join('|')})(?:/|$))${allowedPackages(module)}[^.]`,
      message: `src/${module} imports no npm packages (except ${PURE_PACKAGES[module].join(', ') || 'none'}) and no absolute paths: only files of its own module and '${common}'.`,
    },
    {
      regex: `^${up}\\.\\.(?:/|$)(?!common/index\\.js$)`,
      message: `This import leaves src/${module}; the only way out is '${common}' (DESIGN.md §2).`,
    },
    {
      regex: '(?:^|/)(?!\\.\\.(?:/|$))[^/]+/\\.\\.(?:/|$)',
      message: "Write relative imports normalized: '../' only at the start.",
    },
  ].map((pattern) => ({ ...pattern, caseSensitive: true }));
}

/** One block per directory depth, since a relative path's meaning depends on it. */
const pureImportBlocks = PURE_MODULES.flatMap((module) =>
  Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => ({
    name: `raftkv/pure-imports/${module}/depth-${depth}`,
    files: [`src/${module}/${'*/'.repeat(depth)}*.ts`],
    ignores: TEST_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: importPatterns(module, depth) },
      ],
    },
  })),
);

const NO_IO = 'the pure core has no clock, timers, I/O or ambient state (DESIGN.md §2)';
const restrictedGlobals = [
  ['Date', 'time is a tick() from the shell'],
  ['setTimeout', 'time is a tick() from the shell'],
  ['setInterval', 'time is a tick() from the shell'],
  ['setImmediate', 'the core is synchronous'],
  ['clearTimeout', 'time is a tick() from the shell'],
  ['clearInterval', 'time is a tick() from the shell'],
  ['clearImmediate', 'the core is synchronous'],
  ['queueMicrotask', 'the core is synchronous'],
  ['process', NO_IO],
  ['performance', 'time is a tick() from the shell'],
  ['crypto', 'randomness is the injected Prng; hashing belongs to the shell'],
  ['fetch', NO_IO],
  ['require', 'import only files of this module and common/index.js'],
  ['Buffer', 'use Uint8Array; Buffer is Node I/O API'],
  ['globalThis', `it reaches around the rules above; ${NO_IO}`],
  ['global', `it reaches around the rules above; ${NO_IO}`],
].map(([name, why]) => ({ name, message: `No ${name} in the pure core: ${why}.` }));

export default defineConfig([
  globalIgnores(['dist/', 'coverage/', 'node_modules/', 'src/generated/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // typescript-eslint's base config sets sourceType 'module' for every file; restore CommonJS
    // (and its require/module globals) for .cjs files such as .dependency-cruiser.cjs.
    name: 'raftkv/commonjs',
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    name: 'raftkv/all',
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    name: 'raftkv/console-allowed',
    // The end-to-end scale test prints each membership step with its time (issue #5's evidence).
    files: [
      'test/sim/main.ts',
      'bench/**',
      'src/cli/**',
      'scripts/**',
      'test/operator/local-scale.test.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    name: 'raftkv/node-scripts',
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...pureImportBlocks,
  {
    name: 'raftkv/pure-core',
    files: PURE_MODULES.map((module) => `src/${module}/**/*.ts`),
    ignores: TEST_FILES,
    rules: {
      'no-restricted-globals': ['error', ...restrictedGlobals],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Use the injected Prng (src/raft/prng.ts).',
        },
        { object: 'Date', property: 'now', message: 'Time is a tick() from the shell.' },
        { object: 'Promise', message: 'The core is synchronous: no promises.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: ':function[async=true], TSEmptyBodyFunctionExpression[async=true]',
          message: 'The core is synchronous: no async functions.',
        },
        { selector: 'AwaitExpression', message: 'The core is synchronous: no await.' },
        {
          selector: 'ForOfStatement[await=true]',
          message: 'The core is synchronous: no for await.',
        },
        {
          selector: "NewExpression[callee.name='Promise']",
          message: 'The core is synchronous: no new Promise.',
        },
        {
          selector: 'ImportExpression',
          message:
            'No dynamic import() in the core: it is asynchronous and escapes the import rules.',
        },
      ],
    },
  },
  {
    name: 'raftkv/raft-size',
    files: ['src/raft/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'max-lines': ['error', { max: 700, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }],
    },
  },
]);
