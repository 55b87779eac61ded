/**
 * Proves the boundary checks of `npm run lint` can fail: ESLint's purity rules for src/raft and
 * src/kv (eslint.config.js), and dependency-cruiser's module table (.dependency-cruiser.cjs), run
 * against code that breaks them. A check that never fails would pass this suite only if these
 * tests fail, so a rule that is misspelled, scoped to the wrong files or shadowed shows up here.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cruise, type IConfiguration, type ICruiseResult } from 'dependency-cruiser';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('ESLint purity rules for the pure core', () => {
  let eslint: ESLint;

  beforeAll(() => {
    eslint = new ESLint({ cwd: repoRoot });
  });

  /** Lints `code` as if it lived at `filePath`; returns "ruleId: message" for every problem. */
  async function lint(code: string, filePath: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    expect(result).toBeDefined();
    return result!.messages.map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
  }

  const raftFile = 'src/raft/boundary-fixture.ts';

  it.each([
    [
      'a node: builtin',
      "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'a bare builtin',
      "import { join } from 'path';\nexport const f = join;",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'an npm package',
      "import x from 'lodash';\nexport const f = x;",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'import = require',
      "import fs = require('fs');\nexport const f = fs;",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'another module',
      "import { x } from '../kv/index.js';\nexport const f = x;",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'a common file other than its index',
      "import { assert } from '../common/assert.js';\nexport const f = assert;",
      '@typescript-eslint/no-restricted-imports',
    ],
    [
      'a non-normalized path out of the module',
      "import { x } from './../kv/index.js';\nexport const f = x;",
      '@typescript-eslint/no-restricted-imports',
    ],
    ['Math.random()', 'export const r = Math.random();', 'no-restricted-properties'],
    ['Date.now()', 'export const t = Date.now();', 'no-restricted-properties'],
    ['new Date()', 'export const t = new Date();', 'no-restricted-globals'],
    ['setTimeout', 'setTimeout(() => {}, 1);', 'no-restricted-globals'],
    ['process', 'export const e = process.env;', 'no-restricted-globals'],
    ['globalThis', "export const t = globalThis['setTimeout'];", 'no-restricted-globals'],
    ['an async function', 'export async function f(): Promise<void> {}', 'no-restricted-syntax'],
    [
      'an async method',
      'export class C {\n  async m(): Promise<void> {}\n}',
      'no-restricted-syntax',
    ],
    [
      'new Promise',
      'export const p = new Promise<void>((resolve) => resolve());',
      'no-restricted-syntax',
    ],
    ['dynamic import()', "export const m = import('./x.js');", 'no-restricted-syntax'],
  ])('rejects %s in src/raft', async (_what, code, ruleId) => {
    const messages = await lint(code, raftFile);
    // Exactly one report from the expected rule: the patterns are disjoint.
    expect(messages.filter((m) => m.startsWith(`${ruleId}: `))).toHaveLength(1);
  });

  it('reports Date.now() with both the property and the global rule', async () => {
    const messages = await lint('export const t = Date.now();', raftFile);
    expect(messages.map((m) => m.split(':')[0]).sort()).toEqual([
      'no-restricted-globals',
      'no-restricted-properties',
    ]);
  });

  it.each([
    ['../common/index.js from src/raft', "import { assert } from '../common/index.js';", raftFile],
    [
      '../../common/index.js from a raft sub-module',
      "import { assert } from '../../common/index.js';",
      'src/raft/quorum/boundary-fixture.ts',
    ],
    [
      'a sibling file of raft from a sub-module',
      "import { assert } from '../raft-options.js';",
      'src/raft/quorum/boundary-fixture.ts',
    ],
    [
      '../common/index.js from src/kv',
      "import { assert } from '../common/index.js';",
      'src/kv/boundary-fixture.ts',
    ],
  ])('accepts %s', async (_what, importLine, filePath) => {
    expect(await lint(`${importLine}\nassert(true);\n`, filePath)).toEqual([]);
  });

  it.each([
    ['src/kv importing src/raft', "import { x } from '../raft/index.js';", 'src/kv/a.ts'],
    [
      'a raft sub-module leaving the module',
      "import { x } from '../../kv/index.js';",
      'src/raft/quorum/a.ts',
    ],
    [
      'a raft sub-module importing a common file',
      "import { x } from '../../common/ids.js';",
      'src/raft/quorum/a.ts',
    ],
    [
      'a raft sub-sub-module',
      "import { x } from '../../../storage/index.js';",
      'src/raft/a/b/c.ts',
    ],
  ])('rejects %s', async (_what, importLine, filePath) => {
    const messages = await lint(`${importLine}\nexport const f = x;\n`, filePath);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^@typescript-eslint\/no-restricted-imports: /);
  });

  it('allows node:fs, timers and async in src/storage', async () => {
    const code = [
      "import { readFileSync } from 'node:fs';",
      'export async function load(path: string): Promise<Uint8Array> {',
      '  await new Promise((resolve) => setTimeout(resolve, Date.now() % 2));',
      '  return readFileSync(path);',
      '}',
    ].join('\n');
    expect(await lint(code, 'src/storage/boundary-fixture.ts')).toEqual([]);
  });

  it('allows vitest and fast-check in unit tests of the core', async () => {
    const code = [
      "import fc from 'fast-check';",
      "import { expect, it } from 'vitest';",
      "it('works', () => expect(fc).toBeDefined());",
    ].join('\n');
    expect(await lint(code, 'src/raft/quorum/boundary-fixture.test.ts')).toEqual([]);
  });

  it('limits function length in src/raft', async () => {
    const body = Array.from({ length: 71 }, (_, i) => `  sum += ${i};`).join('\n');
    const code = `export function long(): number {\n  let sum = 0;\n${body}\n  return sum;\n}\n`;
    const messages = await lint(code, raftFile);
    expect(messages.some((m) => m.startsWith('max-lines-per-function: '))).toBe(true);
  });
});

describe('dependency-cruiser module table', () => {
  /** A small tree: one legal import of each kind and one violation of each checked kind. */
  const fixture: Record<string, string> = {
    'src/common/index.ts':
      'export function assert(condition: boolean): void {\n  if (!condition) throw new Error();\n}\n',
    'src/raft/log.ts':
      "import { assert } from '../common/index.js';\nexport interface Entry { readonly index: number }\nexport function check(entry: Entry): void { assert(entry.index > 0); }\n",
    'src/raft/index.ts': "export * from './log.js';\n",
    'src/raft/uses-storage.ts':
      "import { wal } from '../storage/index.js';\nexport const f = wal;\n",
    'src/raft/uses-crypto.ts':
      "import { randomInt } from 'node:crypto';\nexport const f = randomInt;\n",
    'src/raft/cycle-a.ts':
      "import { b } from './cycle-b.js';\nexport const a = (): number => b();\n",
    'src/raft/cycle-b.ts':
      "import { a } from './cycle-a.js';\nexport const b = (): number => a();\n",
    'src/storage/index.ts': "export * from './wal.js';\n",
    'src/storage/wal.ts':
      "import { readFileSync } from 'node:fs';\nimport type { Entry } from '../raft/index.js';\nexport const wal = (path: string): Entry[] => [{ index: readFileSync(path).length }];\n",
    'src/storage/uses-raft-value.ts':
      "import { check } from '../raft/index.js';\nexport const f = check;\n",
    'src/storage/uses-server.ts': "import { f } from '../server/index.js';\nexport const g = f;\n",
    'src/storage/uses-net.ts': "import { connect } from 'node:net';\nexport const f = connect;\n",
    'src/server/index.ts':
      "import { check } from '../raft/log.js';\nimport { wal } from '../storage/index.js';\nexport const f = [check, wal];\n",
    'src/kv/index.ts': "import type { Entry } from '../raft/index.js';\nexport type E = Entry;\n",
    'bench/deep.ts': "import { check } from '../src/raft/log.js';\nexport const f = check;\n",
    'test/deep.ts': "import { check } from '../src/raft/log.js';\nexport const f = check;\n",
  };
  let fixtureRoot: string;
  let result: ICruiseResult;

  beforeAll(async () => {
    fixtureRoot = await mkdtemp(join(tmpdir(), 'raftkv-depcruise-'));
    for (const [path, text] of Object.entries(fixture)) {
      await mkdir(dirname(join(fixtureRoot, path)), { recursive: true });
      await writeFile(join(fixtureRoot, path), text);
    }
    const require = createRequire(import.meta.url);
    const config = require(join(repoRoot, '.dependency-cruiser.cjs')) as IConfiguration;
    const { tsConfig: _tsConfig, ...options } = config.options ?? {};
    const reported = await cruise(['src', 'test', 'bench'], {
      ...options,
      baseDir: fixtureRoot,
      validate: true,
      ruleSet: { forbidden: config.forbidden ?? [] },
    });
    expect(typeof reported.output).toBe('object');
    result = reported.output as ICruiseResult;
  });

  afterAll(async () => {
    await rm(fixtureRoot, { recursive: true, force: true });
  });

  it('reports exactly the forbidden imports of the fixture', () => {
    const violations = result.summary.violations
      .map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)
      .sort();
    expect(violations).toEqual(
      [
        'bench-only-via-index: bench/deep.ts -> src/raft/log.ts',
        'cross-module-only-via-index: src/server/index.ts -> src/raft/log.ts',
        // A cycle is reported once, from the file the cruise met first.
        'no-circular: src/raft/cycle-a.ts -> src/raft/cycle-b.ts',
        'raft-imports-only-allowed-builtins: src/raft/uses-crypto.ts -> crypto',
        'raft-imports-only-allowed-modules: src/raft/uses-storage.ts -> src/storage/index.ts',
        'kv-imports-only-allowed-modules: src/kv/index.ts -> src/raft/index.ts',
        'storage-imports-raft-types-only: src/storage/uses-raft-value.ts -> src/raft/index.ts',
        'storage-imports-only-allowed-modules: src/storage/uses-server.ts -> src/server/index.ts',
        'storage-imports-only-allowed-builtins: src/storage/uses-net.ts -> net',
      ].sort(),
    );
    expect(result.summary.error).toBe(violations.length);
  });
});
