/**
 * The RaftCluster CRD (charts/raftkv/crds/): a valid apiextensions.k8s.io/v1 object with the
 * names, subresources and printer columns of decision 0011; its schema's defaults are exactly
 * what the operator's resolveSpec assumes; it accepts the RaftClusters the chart renders and a
 * full status, and refuses out-of-range and misspelt values.
 */
import { describe, expect, it } from 'vitest';

import { type RaftClusterSpec, resolveSpec } from '../../src/operator/raft-cluster.js';
import {
  crdSchema,
  FEATURE_RICH_VALUES,
  field,
  findObject,
  loadCrd,
  raftClusterValidator,
  renderChart,
  validateWithModels,
} from './chart-helpers.js';

const crd = loadCrd();
const version = field(crd, 'spec', 'versions', 0) as Record<string, unknown>;

function raftCluster(spec: unknown, status?: unknown): Record<string, unknown> {
  return {
    apiVersion: 'raftkv.io/v1alpha1',
    kind: 'RaftCluster',
    metadata: { name: 'kv', namespace: 'data' },
    spec,
    ...(status === undefined ? {} : { status }),
  };
}

/** A spec with every default filled in by the schema, as the API server stores it. */
function defaulted(spec: unknown): RaftClusterSpec {
  const object = raftCluster(structuredClone(spec));
  const validate = raftClusterValidator(true);
  expect(validate(object), JSON.stringify(validate.errors)).toBe(true);
  return object.spec as RaftClusterSpec;
}

describe('the RaftCluster CRD', () => {
  it('is a valid CustomResourceDefinition', async () => {
    await validateWithModels(crd);
  });

  it('has the names, scope and version of decision 0011', () => {
    expect(crd.metadata.name).toBe('raftclusters.raftkv.io');
    expect(field(crd, 'spec', 'group')).toBe('raftkv.io');
    expect(field(crd, 'spec', 'scope')).toBe('Namespaced');
    expect(field(crd, 'spec', 'names')).toEqual({
      kind: 'RaftCluster',
      listKind: 'RaftClusterList',
      plural: 'raftclusters',
      singular: 'raftcluster',
      shortNames: ['rkv'],
      categories: ['raftkv'],
    });
    expect(field(crd, 'spec', 'versions')).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true });
  });

  it('has the status and scale subresources', () => {
    expect(version.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
  });

  it('prints replicas, members, ready, leader, term, availability and age', () => {
    const columns = version.additionalPrinterColumns as { name: string; jsonPath: string }[];
    expect(columns.map((column) => [column.name, column.jsonPath])).toEqual([
      ['Replicas', '.spec.replicas'],
      ['Members', '.status.replicas'],
      ['Ready', '.status.readyReplicas'],
      ['Leader', '.status.leader'],
      ['Term', '.status.term'],
      ['Available', '.status.conditions[?(@.type=="Available")].status'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('keys the members by name and the conditions by type, which they require', () => {
    const status = field(crdSchema(), 'properties', 'status', 'properties');
    expect(field(status, 'members', 'x-kubernetes-list-type')).toBe('map');
    expect(field(status, 'members', 'x-kubernetes-list-map-keys')).toEqual(['name']);
    expect(field(status, 'members', 'items', 'required')).toContain('name');
    expect(field(status, 'conditions', 'x-kubernetes-list-type')).toBe('map');
    expect(field(status, 'conditions', 'x-kubernetes-list-map-keys')).toEqual(['type']);
    expect(field(status, 'conditions', 'items', 'required')).toEqual(
      expect.arrayContaining(['type', 'status', 'lastTransitionTime', 'reason', 'message']),
    );
  });

  it('is structural: every object schema lists its fields or preserves unknown ones', () => {
    const loose: string[] = [];
    const visit = (schema: unknown, where: string): void => {
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if (node.type === undefined && where !== '') loose.push(`${where}: no type`);
      if (
        node.type === 'object' &&
        node.properties === undefined &&
        node.additionalProperties === undefined &&
        node['x-kubernetes-preserve-unknown-fields'] !== true &&
        where !== '.metadata'
      ) {
        loose.push(`${where}: an object without fields`);
      }
      for (const [name, child] of Object.entries(
        (node.properties ?? {}) as Record<string, unknown>,
      )) {
        visit(child, `${where}.${name}`);
      }
      if (node.items !== undefined) visit(node.items, `${where}[]`);
    };
    visit(crdSchema(), '');
    expect(loose).toEqual([]);
  });
});

describe('the CRD schema’s defaults', () => {
  it('are the ones resolveSpec applies to an absent field', () => {
    const resolved = resolveSpec({});
    expect(resolved.image).toBe('raftkv:0.1.0');
    expect(defaulted({})).toEqual({
      replicas: resolved.replicas,
      image: 'raftkv',
      version: '0.1.0',
      imagePullPolicy: resolved.imagePullPolicy,
      storage: { size: resolved.storageSize },
      scheduling: { antiAffinity: resolved.antiAffinity },
      raft: {
        tickIntervalMs: resolved.tickIntervalMs,
        electionTimeoutTicks: resolved.electionTimeoutTicks,
        heartbeatIntervalTicks: resolved.heartbeatIntervalTicks,
        snapshotEntriesThreshold: resolved.snapshotEntriesThreshold,
      },
      requestTimeoutMs: resolved.requestTimeoutMs,
      clusterDomain: resolved.clusterDomain,
      logLevel: resolved.logLevel,
      monitoring: {
        serviceMonitor: {
          enabled: resolved.serviceMonitor.enabled,
          interval: resolved.serviceMonitor.interval,
        },
        dashboard: { enabled: resolved.dashboard.enabled, labels: resolved.dashboard.labels },
      },
    });
  });

  it('change nothing resolveSpec would decide, for partial specs too', () => {
    for (const spec of [
      {},
      { replicas: 5, raft: { tickIntervalMs: 50 } },
      { version: '0.2.0' },
      { image: 'registry.example/raftkv', version: '0.2.0' },
      { image: 'registry.example:5000/raftkv:0.3.0', version: '0.2.0' },
      { monitoring: { serviceMonitor: { enabled: true } } },
      { storage: { storageClassName: 'fast' }, scheduling: { nodeSelector: { zone: 'a' } } },
    ] satisfies RaftClusterSpec[]) {
      expect(resolveSpec(defaulted(spec)), JSON.stringify(spec)).toEqual(resolveSpec(spec));
    }
  });
});

describe('the CRD schema', () => {
  const validate = raftClusterValidator();

  it.each([
    ['default', []],
    ['feature-rich', [FEATURE_RICH_VALUES]],
  ])('accepts the RaftCluster the chart renders with %s values', (_, valuesFiles) => {
    const cluster = findObject(renderChart({ valuesFiles }), 'RaftCluster');
    expect(validate(cluster), JSON.stringify(validate.errors)).toBe(true);
  });

  it('accepts a full status', () => {
    const cluster = raftCluster(
      { replicas: 3 },
      {
        observedGeneration: 4,
        replicas: 3,
        readyReplicas: 3,
        selector:
          'app.kubernetes.io/name=raftkv,app.kubernetes.io/instance=kv,app.kubernetes.io/component=node',
        initialReplicas: 3,
        leader: 'kv-1',
        leaderId: '0000000000000002',
        term: 7,
        members: [
          {
            name: 'kv-0',
            id: '0000000000000001',
            role: 'Follower',
            voter: true,
            healthy: true,
            appliedIndex: 120,
          },
          {
            name: 'kv-1',
            id: '0000000000000002',
            role: 'Leader',
            voter: true,
            healthy: true,
            appliedIndex: 120,
          },
          {
            name: 'kv-2',
            id: '0000000000000003',
            role: 'Learner',
            voter: false,
            healthy: true,
            appliedIndex: 80,
          },
        ],
        lastStep: {
          action: 'AddLearner',
          member: 'kv-2',
          startedAt: '2025-01-02T03:04:05Z',
          durationSeconds: 1.5,
        },
        conditions: [
          {
            type: 'Available',
            status: 'True',
            observedGeneration: 4,
            lastTransitionTime: '2025-01-02T03:04:05Z',
            reason: 'QuorumAvailable',
            message: '3 of 3 members healthy',
          },
          {
            type: 'Progressing',
            status: 'True',
            observedGeneration: 4,
            lastTransitionTime: '2025-01-02T03:04:05Z',
            reason: 'LearnerCatchingUp',
            message: '',
          },
        ],
      },
    );
    expect(validate(cluster), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['no members', { replicas: 0 }],
    ['ten members', { replicas: 10 }],
    ['a fractional replica count', { replicas: 2.5 }],
    ['an unknown pull policy', { imagePullPolicy: 'Sometimes' }],
    ['an empty image', { image: '' }],
    ['a malformed volume size', { storage: { size: '1 GB' } }],
    ['an unknown anti-affinity preset', { scheduling: { antiAffinity: 'strict' } }],
    ['a zero tick', { raft: { tickIntervalMs: 0 } }],
    ['a one-tick election timeout', { raft: { electionTimeoutTicks: 1 } }],
    ['an unknown log level', { logLevel: 'trace' }],
    ['a malformed scrape interval', { monitoring: { serviceMonitor: { interval: '15 seconds' } } }],
    ['a non-string label', { monitoring: { dashboard: { labels: { grafana_dashboard: 1 } } } }],
    ['a malformed cluster domain', { clusterDomain: 'Cluster_Local' }],
  ])('refuses %s', (_, spec) => {
    expect(validate(raftCluster(spec))).toBe(false);
  });

  it.each([
    ['an unknown condition status', { status: 'Maybe', reason: 'QuorumAvailable' }],
    ['a reason that is not CamelCase', { status: 'True', reason: 'quorum available' }],
  ])('refuses a condition with %s', (_, condition) => {
    const cluster = raftCluster(
      {},
      {
        conditions: [
          {
            type: 'Available',
            lastTransitionTime: '2025-01-02T03:04:05Z',
            message: '',
            ...condition,
          },
        ],
      },
    );
    expect(validate(cluster)).toBe(false);
  });

  it('refuses a member with an unknown role', () => {
    const cluster = raftCluster({}, { members: [{ name: 'kv-0', role: 'Candidate' }] });
    expect(validate(cluster)).toBe(false);
  });

  it('states the heartbeat-before-election-timeout rule for the API server (CEL)', () => {
    const rules = field(
      crdSchema(),
      'properties',
      'spec',
      'properties',
      'raft',
      'x-kubernetes-validations',
    );
    expect(rules).toEqual([
      expect.objectContaining({
        rule: expect.stringContaining('self.heartbeatIntervalTicks < self.electionTimeoutTicks'),
      }),
    ]);
  });
});
