/**
 * `helm lint --strict` of the chart with its default values and every ci/*-values.yaml, and
 * values.schema.json at work: a typo'd key, a wrong type or an out-of-range number fails lint and
 * template. Also scripts/helm.mjs: it passes arguments through to Helm and keeps its exit code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { CHART, helm, helmBinary, ROOT, templateArguments } from './chart-helpers.js';

const CI_VALUES = readdirSync(path.join(CHART, 'ci'))
  .filter((file) => file.endsWith('-values.yaml'))
  .map((file) => path.join(CHART, 'ci', file));

function lint(extraArguments: readonly string[] = []) {
  const result = helm(['lint', '--strict', CHART, ...extraArguments]);
  return { ...result, output: result.stdout + result.stderr };
}

describe('scripts/helm.mjs', () => {
  it('prints the path of a Helm 3.17 binary', () => {
    const version = execFileSync(helmBinary(), ['version', '--short'], { encoding: 'utf8' });
    expect(version).toMatch(/^v3\.17\./);
  });

  it('runs helm with its arguments and exits with helm’s exit code', () => {
    const script = path.join(ROOT, 'scripts', 'helm.mjs');
    const passing = spawnSync(process.execPath, [script, 'lint', CHART], { encoding: 'utf8' });
    expect(passing.status, passing.stdout + passing.stderr).toBe(0);
    const failing = spawnSync(process.execPath, [script, 'lint', CHART, '--set=replicaCont=3'], {
      encoding: 'utf8',
    });
    expect(failing.status).toBe(1);
  });
});

describe('helm lint --strict', () => {
  it('passes with the default values', () => {
    const result = lint();
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('0 chart(s) failed');
  });

  it('finds the ci values files', () => {
    expect(CI_VALUES.length).toBeGreaterThan(0);
  });

  it.each(CI_VALUES.map((file) => [path.basename(file), file]))('passes with %s', (_, file) => {
    const result = lint([`--values=${file}`]);
    expect(result.status, result.output).toBe(0);
  });
});

describe('values.schema.json', () => {
  it.each([
    [
      'a typo in a top-level key',
      'replicaCont=3',
      'Additional property replicaCont is not allowed',
    ],
    [
      'a typo in a nested key',
      'operator.leaderElection.leaseDuration=15',
      'Additional property leaseDuration is not allowed',
    ],
    ['a string for an integer', 'replicaCount=three', 'Expected: integer, given: string'],
    [
      'a string for a boolean',
      'metrics.podMonitor.enabled=yes',
      'Expected: boolean, given: string',
    ],
    ['too many replicas', 'replicaCount=10', 'Must be less than or equal to 9'],
    ['no replicas', 'replicaCount=0', 'Must be greater than or equal to 1'],
    ['an unknown anti-affinity preset', 'podAntiAffinityPreset=strict', 'must be one of'],
    ['an unknown log level', 'logLevel=trace', 'must be one of'],
    ['a malformed volume size', 'persistence.size=lots', 'Does not match pattern'],
    ['a reserved label', 'commonLabels.app\\.kubernetes\\.io/name=x', 'Property name'],
  ])('rejects %s in lint and template', (_, pair, message) => {
    const linted = lint([`--set=${pair}`]);
    expect(linted.status).not.toBe(0);
    expect(linted.output).toContain(message);
    const rendered = helm(templateArguments({ set: [pair] }));
    expect(rendered.status).not.toBe(0);
    expect(rendered.stderr).toContain(message);
  });

  it('rejects a heartbeat interval not shorter than the election timeout', () => {
    const rendered = helm(
      templateArguments({
        set: ['raft.heartbeatIntervalTicks=10', 'raft.electionTimeoutTicks=10'],
      }),
    );
    expect(rendered.status).not.toBe(0);
    expect(rendered.stderr).toContain('heartbeatIntervalTicks must be less than');
  });
});
