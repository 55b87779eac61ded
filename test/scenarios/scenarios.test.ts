/**
 * Runs every scenario file in test/scenarios/raft/ and compares it, rendered with the actual
 * outputs, with the file itself. `npx vitest run test/scenarios -u` rewrites the files (review
 * the diff like code); a plain run, and CI always, fails on any difference without writing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { runScenario } from './harness/run-scenario.js';

const SCENARIO_DIRECTORY = fileURLToPath(new URL('./raft/', import.meta.url));

const scenarioNames = readdirSync(SCENARIO_DIRECTORY)
  .filter((name) => name.endsWith('.txt'))
  .sort();

describe('raft scenarios', () => {
  it('finds scenario files', () => {
    expect(scenarioNames.length).toBeGreaterThan(0);
  });

  it.each(scenarioNames)('%s', async (name) => {
    const path = join(SCENARIO_DIRECTORY, name);
    const rendered = runScenario(readFileSync(path, 'utf8'));
    await expect(rendered).toMatchFileSnapshot(path);
  });
});
