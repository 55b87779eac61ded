/**
 * The generated plain files under deploy/ are what the chart renders today (like a snapshot:
 * `node scripts/render-manifests.mjs` regenerates them), and they are valid: deploy/raftkv.yaml
 * object by object, deploy/prometheus/raftkv-rules.yaml as a rule file. Also the kind config.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import {
  field,
  findObject,
  type KubeObject,
  parseManifests,
  raftClusterValidator,
  ROOT,
  validateWithModels,
} from './chart-helpers.js';

const read = (...parts: string[]) => readFileSync(path.join(ROOT, ...parts), 'utf8');

describe('the generated files under deploy/', () => {
  it('are what the chart renders (run node scripts/render-manifests.mjs if not)', () => {
    const result = spawnSync(
      process.execPath,
      [path.join(ROOT, 'scripts', 'render-manifests.mjs'), '--check'],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('deploy/raftkv.yaml holds the CRD, the operator and a RaftCluster, all valid', async () => {
    const objects = parseManifests(read('deploy', 'raftkv.yaml'));
    expect(objects[0]?.kind).toBe('CustomResourceDefinition');
    expect(objects.map((object) => object.kind).sort()).toEqual([
      'CustomResourceDefinition',
      'Deployment',
      'RaftCluster',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const validateCluster = raftClusterValidator();
    for (const object of objects) {
      if (object.kind === 'RaftCluster') {
        expect(validateCluster(object), JSON.stringify(validateCluster.errors)).toBe(true);
      } else {
        await validateWithModels(object);
      }
    }
    expect(findObject(objects, 'RaftCluster').metadata.name).toBe('raftkv');
    expect(field(findObject(objects, 'RoleBinding'), 'subjects', 0, 'namespace')).toBe('default');
  });

  it('deploy/prometheus/raftkv-rules.yaml is a rule file of unscoped alerts', () => {
    const rules = field(
      parse(read('deploy', 'prometheus', 'raftkv-rules.yaml')),
      'groups',
      0,
      'rules',
    ) as {
      alert: string;
      expr: string;
      for: string;
      labels: { severity: string };
    }[];
    expect(rules.map((rule) => rule.alert)).toContain('RaftkvNoLeader');
    for (const rule of rules) {
      expect(rule.expr, rule.alert).not.toContain('namespace=');
      expect(rule.for, rule.alert).toMatch(/^\d+m$/);
    }
  });
});

describe('deploy/kind/kind-config.yaml', () => {
  it('is a kind cluster of one control plane and two workers', () => {
    const config = parse(read('deploy', 'kind', 'kind-config.yaml')) as KubeObject & {
      nodes: { role: string }[];
    };
    expect(config.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(config.kind).toBe('Cluster');
    expect(config.nodes.map((node) => node.role)).toEqual(['control-plane', 'worker', 'worker']);
  });
});
