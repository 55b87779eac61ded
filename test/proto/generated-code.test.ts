/**
 * The committed code in src/generated must be what `npm run proto` makes from proto/ today, so a
 * proto edit without regeneration (or a hand edit of generated code) fails the suite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

const GENERATED_DIRECTORY = 'src/generated';

function listFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (directory: string): void => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(relative(root, path));
    }
  };
  walk(root);
  return files.sort();
}

describe('generated protobuf code', () => {
  const outputDirectory = mkdtempSync(join(tmpdir(), 'raftkv-proto-'));
  afterAll(() => rmSync(outputDirectory, { recursive: true, force: true }));

  it('matches a fresh `buf generate` of proto/', () => {
    execFileSync('npx', ['buf', 'generate', '-o', outputDirectory], { stdio: 'pipe' });
    const freshRoot = join(outputDirectory, GENERATED_DIRECTORY);
    const fresh = listFiles(freshRoot);
    expect(fresh).toEqual(listFiles(GENERATED_DIRECTORY));
    for (const file of fresh) {
      const message = `${file} is stale: run npm run proto`;
      expect(readFileSync(join(GENERATED_DIRECTORY, file), 'utf8'), message).toBe(
        readFileSync(join(freshRoot, file), 'utf8'),
      );
    }
  }, 60_000);
});
