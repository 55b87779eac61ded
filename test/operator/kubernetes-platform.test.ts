/**
 * KubernetesPlatform with the real @kubernetes/client-node against the loopback fake API server:
 * what lands in the API (objects, content types, field manager), ownership, observation, status
 * writes, deletes, events and the monitoring switches.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { NotOwnedError } from '../../src/operator/kubernetes-errors.js';
import {
  DEFAULT_DASHBOARD_PATH,
  KubernetesPlatform,
  withExistingClaimTemplates,
} from '../../src/operator/kubernetes-platform.js';
import type { DesiredWorkload } from '../../src/operator/platform.js';
import type { RaftCluster, RaftClusterStatus } from '../../src/operator/raft-cluster.js';
import { managersOf } from './fake-api-patch.js';
import { FakeApiServer } from './fake-api-server.js';
import {
  RecordingLogger,
  raftClusterManifest,
  validateManifest,
} from './kubernetes-test-support.js';

const NS = 'prod';
const DESIRED: DesiredWorkload = {
  replicas: 3,
  initialReplicas: 3,
  initialClusterState: 'new',
  quorum: 2,
};
const STS = 'apps/v1/statefulsets';
const SERVICES = 'v1/services';
const PDBS = 'policy/v1/poddisruptionbudgets';
const CONFIG_MAPS = 'v1/configmaps';
const MONITORS = 'monitoring.coreos.com/v1/servicemonitors';
const CLUSTERS = 'raftkv.io/v1alpha1/raftclusters';

let fake: FakeApiServer;
let logger: RecordingLogger;
let workDir: string;
let dashboardPath: string;

beforeEach(async () => {
  fake = await FakeApiServer.start();
  logger = new RecordingLogger();
  workDir = await mkdtemp(path.join(tmpdir(), 'raftkv-k8s-platform-'));
  dashboardPath = path.join(workDir, 'raftkv.json');
  await writeFile(dashboardPath, '{"title":"raftkv"}');
});

afterEach(async () => {
  await fake.close();
  await rm(workDir, { recursive: true, force: true });
});

function platformFor(server: FakeApiServer = fake): KubernetesPlatform {
  return new KubernetesPlatform({
    kubeConfig: server.kubeConfig(),
    logger,
    dashboardPath,
    instanceName: 'operator-0',
    nowMs: () => Date.UTC(2025, 0, 2, 3, 4, 5, 678),
  });
}

/** Creates the RaftCluster in the fake and returns it as the operator sees it. */
function createCluster(name = 'kv', spec: Record<string, unknown> = {}): RaftCluster {
  return fake.put(raftClusterManifest(name, NS, spec)) as unknown as RaftCluster;
}

function stored(key: string, name: string): Record<string, unknown> {
  const object = fake.object(key, NS, name);
  if (object === undefined) throw new Error(`${key} ${name} not stored`);
  return object;
}

function resourceVersionOf(object: Record<string, unknown>): unknown {
  return (object.metadata as { resourceVersion?: unknown }).resourceVersion;
}

const monitoringOn = {
  monitoring: { serviceMonitor: { enabled: true }, dashboard: { enabled: true } },
};

describe('KubernetesPlatform.applyWorkload', () => {
  it('creates every owned object by server-side apply, each a valid manifest', async () => {
    const cluster = createCluster('kv', monitoringOn);
    await platformFor().applyWorkload(cluster, DESIRED);

    const objects = [
      stored(STS, 'kv'),
      stored(SERVICES, 'kv-peers'),
      stored(SERVICES, 'kv'),
      stored(PDBS, 'kv'),
      stored(MONITORS, 'kv'),
      stored(CONFIG_MAPS, 'kv-dashboard'),
    ];
    for (const object of objects) {
      await validateManifest(object);
      const metadata = object.metadata as Record<string, unknown>;
      expect(metadata.ownerReferences).toEqual([
        expect.objectContaining({ uid: cluster.metadata.uid, controller: true }),
      ]);
      expect(managersOf(object)).toEqual(['raftkv-operator']);
    }
    expect((stored(STS, 'kv').spec as { replicas: number }).replicas).toBe(3);
    expect((stored(PDBS, 'kv').spec as { minAvailable: number }).minAvailable).toBe(2);
    expect(
      (stored(CONFIG_MAPS, 'kv-dashboard').data as Record<string, string>)['raftkv.json'],
    ).toBe('{"title":"raftkv"}');

    const patches = fake.requests.filter((request) => request.method === 'PATCH');
    expect(patches).toHaveLength(6);
    for (const patch of patches) {
      expect(patch.contentType).toBe('application/apply-patch+yaml');
      expect(patch.query).toMatchObject({ fieldManager: 'raftkv-operator', force: 'true' });
    }
    expect(patches.map((patch) => patch.path)).toEqual([
      `/api/v1/namespaces/${NS}/services/kv-peers`,
      `/api/v1/namespaces/${NS}/services/kv`,
      `/apis/apps/v1/namespaces/${NS}/statefulsets/kv`,
      `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/kv`,
      `/apis/monitoring.coreos.com/v1/namespaces/${NS}/servicemonitors/kv`,
      `/api/v1/namespaces/${NS}/configmaps/kv-dashboard`,
    ]);
  });

  it('is idempotent: applying the same thing again changes nothing', async () => {
    const cluster = createCluster('kv', monitoringOn);
    const platform = platformFor();
    await platform.applyWorkload(cluster, DESIRED);
    const keys: [string, string][] = [
      [STS, 'kv'],
      [SERVICES, 'kv-peers'],
      [SERVICES, 'kv'],
      [PDBS, 'kv'],
      [MONITORS, 'kv'],
      [CONFIG_MAPS, 'kv-dashboard'],
    ];
    const before = keys.map(([key, name]) => resourceVersionOf(stored(key, name)));
    const globalVersion = fake.resourceVersion;
    await platform.applyWorkload(cluster, DESIRED);
    expect(keys.map(([key, name]) => resourceVersionOf(stored(key, name)))).toEqual(before);
    expect(fake.resourceVersion).toBe(globalVersion);
  });

  it('updates replicas and the disruption budget as the desired workload changes', async () => {
    const cluster = createCluster();
    const platform = platformFor();
    await platform.applyWorkload(cluster, DESIRED);
    const generation = (stored(STS, 'kv').metadata as { generation: number }).generation;
    await platform.applyWorkload(cluster, {
      replicas: 4,
      initialReplicas: 3,
      initialClusterState: 'new',
      quorum: 3,
    });
    const statefulSet = stored(STS, 'kv');
    expect((statefulSet.spec as { replicas: number }).replicas).toBe(4);
    expect((statefulSet.metadata as { generation: number }).generation).toBe(generation + 1);
    expect((stored(PDBS, 'kv').spec as { minAvailable: number }).minAvailable).toBe(3);
    const observation = await platform.observe(cluster);
    expect(observation).toMatchObject({
      replicas: 4,
      initialReplicas: 3,
      initialClusterState: 'new',
      isOwned: true,
    });
  });

  it('keeps the claim templates of an existing StatefulSet, which cannot change', async () => {
    const cluster = createCluster('kv', { storage: { size: '1Gi' } });
    const platform = platformFor();
    await platform.applyWorkload(cluster, DESIRED);
    const resized = { ...cluster, spec: { storage: { size: '9Gi' } } };
    await platform.applyWorkload(resized, DESIRED);
    await platform.applyWorkload(resized, DESIRED);
    const templates = (stored(STS, 'kv').spec as { volumeClaimTemplates: unknown[] })
      .volumeClaimTemplates;
    expect(templates).toEqual([
      expect.objectContaining({
        spec: expect.objectContaining({ resources: { requests: { storage: '1Gi' } } }),
      }),
    ]);
    expect(logger.matching('warn', 'storage size and class are fixed')).toHaveLength(1);
  });

  it('refuses to touch a StatefulSet it does not control', async () => {
    const cluster = createCluster();
    fake.put({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'kv', namespace: NS },
      spec: { replicas: 5, selector: { matchLabels: { app: 'other' } } },
    });
    const platform = platformFor();
    const observation = await platform.observe(cluster);
    expect(observation).toMatchObject({ isOwned: false, replicas: 5, initialReplicas: null });
    await expect(platform.applyWorkload(cluster, DESIRED)).rejects.toBeInstanceOf(NotOwnedError);
    expect(fake.requestsTo('PATCH', '/')).toHaveLength(0);
    expect((stored(STS, 'kv').spec as { replicas: number }).replicas).toBe(5);
  });

  it('refuses a Service controlled by an earlier cluster of the same name', async () => {
    const cluster = createCluster();
    fake.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kv-peers',
        namespace: NS,
        ownerReferences: [
          {
            apiVersion: 'raftkv.io/v1alpha1',
            kind: 'RaftCluster',
            name: 'kv',
            uid: 'old',
            controller: true,
          },
        ],
      },
      spec: { clusterIP: 'None' },
    });
    const error = await platformFor()
      .applyWorkload(cluster, DESIRED)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotOwnedError);
    expect((error as NotOwnedError).kind).toBe('Service');
    expect((error as NotOwnedError).objectKey).toBe(`${NS}/kv-peers`);
    expect(fake.requestsTo('PATCH', '/')).toHaveLength(0);
  });
});

describe('KubernetesPlatform monitoring switches', () => {
  it('deletes the ServiceMonitor and the dashboard when switched off, and again is fine', async () => {
    const cluster = createCluster('kv', monitoringOn);
    const platform = platformFor();
    await platform.applyWorkload(cluster, DESIRED);
    const off = { ...cluster, spec: {} };
    await platform.applyWorkload(off, DESIRED);
    expect(fake.object(MONITORS, NS, 'kv')).toBeUndefined();
    expect(fake.object(CONFIG_MAPS, NS, 'kv-dashboard')).toBeUndefined();
    await platform.applyWorkload(off, DESIRED);
    expect(fake.object(STS, NS, 'kv')).toBeDefined();
  });

  it('leaves a ServiceMonitor and ConfigMap of the same name that it does not control', async () => {
    const cluster = createCluster();
    fake.put({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'kv', namespace: NS },
      spec: { selector: {}, endpoints: [] },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kv-dashboard', namespace: NS },
      data: {},
    });
    await platformFor().applyWorkload(cluster, DESIRED);
    expect(fake.object(MONITORS, NS, 'kv')).toBeDefined();
    expect(fake.object(CONFIG_MAPS, NS, 'kv-dashboard')).toBeDefined();
    expect(fake.requestsTo('DELETE', '/')).toHaveLength(0);
  });

  it('logs once and carries on when the Prometheus Operator CRDs are absent', async () => {
    const server = await FakeApiServer.start({ absentResources: [MONITORS] });
    try {
      const cluster = server.put(
        raftClusterManifest('kv', NS, monitoringOn),
      ) as unknown as RaftCluster;
      const platform = platformFor(server);
      await platform.applyWorkload(cluster, DESIRED);
      await platform.applyWorkload(cluster, DESIRED);
      expect(server.object(STS, NS, 'kv')).toBeDefined();
      expect(server.object(CONFIG_MAPS, NS, 'kv-dashboard')).toBeDefined();
      expect(logger.matching('warn', 'ServiceMonitor not created')).toHaveLength(1);
      // Switched off with no CRD: nothing to delete, no error.
      await platform.applyWorkload({ ...cluster, spec: {} }, DESIRED);
    } finally {
      await server.close();
    }
  });

  it('skips the dashboard (logged once) when its file cannot be read', async () => {
    const cluster = createCluster('kv', { monitoring: { dashboard: { enabled: true } } });
    const platform = new KubernetesPlatform({
      kubeConfig: fake.kubeConfig(),
      logger,
      dashboardPath: path.join(workDir, 'missing.json'),
    });
    await platform.applyWorkload(cluster, DESIRED);
    await platform.applyWorkload(cluster, DESIRED);
    expect(fake.object(CONFIG_MAPS, NS, 'kv-dashboard')).toBeUndefined();
    expect(fake.object(STS, NS, 'kv')).toBeDefined();
    expect(logger.matching('warn', 'dashboard ConfigMap not applied')).toHaveLength(1);
  });
});

function podManifest(
  name: string,
  status: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      labels: {
        'app.kubernetes.io/name': 'raftkv',
        'app.kubernetes.io/instance': name.replace(/-\d+$/, ''),
        'app.kubernetes.io/component': 'node',
      },
      ...extra,
    },
    spec: { containers: [{ name: 'raftkv', image: 'raftkv:0.1.0' }] },
    status,
  };
}

function runningStatus(isReady: boolean, restartCount = 0): Record<string, unknown> {
  return {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }],
    containerStatuses: [
      {
        name: 'raftkv',
        image: 'raftkv:0.1.0',
        imageID: '',
        ready: isReady,
        started: true,
        restartCount,
        state: { running: { startedAt: '2025-01-01T00:00:00Z' } },
      },
    ],
  };
}

function claimManifest(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: NS },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  };
}

describe('KubernetesPlatform.observe', () => {
  it('reports no StatefulSet, no pods and no claims for a new cluster', async () => {
    const cluster = createCluster();
    expect(await platformFor().observe(cluster)).toEqual({
      replicas: null,
      initialReplicas: null,
      initialClusterState: null,
      isOwned: true,
      pods: [],
      claimOrdinals: [],
    });
  });

  it('reads replicas, pods by label and claims by name', async () => {
    const cluster = createCluster();
    const platform = platformFor();
    await platform.applyWorkload(cluster, {
      replicas: 4,
      initialReplicas: 3,
      initialClusterState: 'new',
      quorum: 3,
    });
    fake.put(podManifest('kv-0', runningStatus(true)));
    fake.put(podManifest('kv-1', runningStatus(false, 4)));
    fake.put(podManifest('kv-2', { phase: 'Pending' }));
    fake.put(
      podManifest('kv-3', runningStatus(true), {
        deletionTimestamp: '2025-01-01T00:00:00Z',
      }),
    );
    fake.put(podManifest('other-0', runningStatus(true)));
    for (const claim of [
      'data-kv-0',
      'data-kv-1',
      'data-kv-7',
      'data-kv-1-0',
      'data-other-0',
      'logs-kv-0',
    ]) {
      fake.put(claimManifest(claim));
    }
    for (const object of fake.objects('v1/pods', NS)) await validateManifest(object);

    const observation = await platform.observe(cluster);
    expect(observation.replicas).toBe(4);
    expect(observation.initialReplicas).toBe(3);
    expect(observation.isOwned).toBe(true);
    expect(observation.claimOrdinals).toEqual([0, 1, 7]);
    expect(observation.pods).toEqual([
      {
        name: 'kv-0',
        ordinal: 0,
        isRunning: true,
        isReady: true,
        isTerminating: false,
        restartCount: 0,
      },
      {
        name: 'kv-1',
        ordinal: 1,
        isRunning: true,
        isReady: false,
        isTerminating: false,
        restartCount: 4,
      },
      {
        name: 'kv-2',
        ordinal: 2,
        isRunning: false,
        isReady: false,
        isTerminating: false,
        restartCount: 0,
      },
      {
        name: 'kv-3',
        ordinal: 3,
        isRunning: true,
        isReady: true,
        isTerminating: true,
        restartCount: 0,
      },
    ]);
    expect(fake.requestsTo('GET', `/api/v1/namespaces/${NS}/pods`).at(-1)?.query).toEqual({
      labelSelector:
        'app.kubernetes.io/name=raftkv,app.kubernetes.io/instance=kv,app.kubernetes.io/component=node',
    });
  });

  it('counts a container that has not passed its startup probe as not running', async () => {
    const cluster = createCluster();
    const status = runningStatus(false);
    const [container] = status.containerStatuses as Record<string, unknown>[];
    fake.put(
      podManifest('kv-0', { ...status, containerStatuses: [{ ...container, started: false }] }),
    );
    const [pod] = (await platformFor().observe(cluster)).pods;
    expect(pod?.isRunning).toBe(false);
  });
});

describe('KubernetesPlatform deletes', () => {
  it('deletes pods and claims, and deleting what is gone succeeds', async () => {
    const cluster = createCluster();
    const platform = platformFor();
    fake.put(podManifest('kv-1', runningStatus(true)));
    fake.put(claimManifest('data-kv-1'));
    await platform.deletePod(cluster, 1);
    await platform.deleteClaim(cluster, 1);
    expect(fake.objects('v1/pods', NS)).toEqual([]);
    expect(fake.objects('v1/persistentvolumeclaims', NS)).toEqual([]);
    await platform.deletePod(cluster, 1);
    await platform.deleteClaim(cluster, 1);
    await platform.resetOrdinal(cluster, 1);
  });

  it('resets an ordinal by deleting its claim first, then its pod', async () => {
    const cluster = createCluster();
    fake.put(podManifest('kv-2', runningStatus(true)));
    fake.put(claimManifest('data-kv-2'));
    await platformFor().resetOrdinal(cluster, 2);
    expect(fake.requestsTo('DELETE', '/').map((request) => request.path)).toEqual([
      `/api/v1/namespaces/${NS}/persistentvolumeclaims/data-kv-2`,
      `/api/v1/namespaces/${NS}/pods/kv-2`,
    ]);
    expect(fake.objects('v1/pods', NS)).toEqual([]);
  });

  it('propagates errors other than not found', async () => {
    const cluster = createCluster();
    fake.failNext(
      { method: 'DELETE', pathPrefix: `/api/v1/namespaces/${NS}/pods/` },
      403,
      'Forbidden',
    );
    await expect(platformFor().deletePod(cluster, 0)).rejects.toMatchObject({ code: 403 });
  });
});

describe('KubernetesPlatform.writeStatus', () => {
  const status: RaftClusterStatus = {
    observedGeneration: 1,
    replicas: 3,
    readyReplicas: 3,
    selector:
      'app.kubernetes.io/name=raftkv,app.kubernetes.io/instance=kv,app.kubernetes.io/component=node',
    initialReplicas: 3,
    leader: 'kv-0',
    leaderId: '0000000000000001',
    term: 2,
    members: [
      {
        name: 'kv-0',
        id: '0000000000000001',
        role: 'Leader',
        voter: true,
        healthy: true,
        appliedIndex: 10,
      },
    ],
    conditions: [
      {
        type: 'Available',
        status: 'True',
        observedGeneration: 1,
        lastTransitionTime: '2025-01-02T03:04:05Z',
        reason: 'QuorumAvailable',
        message: '3 of 3 voters healthy',
      },
    ],
  };

  it('writes status through /status only, and it round-trips', async () => {
    const cluster = createCluster('kv', { replicas: 3 });
    await platformFor().writeStatus(cluster, status);
    const object = stored(CLUSTERS, 'kv');
    expect(object.status).toEqual(status);
    expect(object.spec).toEqual({ replicas: 3 });
    expect((object.metadata as { generation: number }).generation).toBe(1);
    const [request] = fake.requestsTo('PATCH', '/');
    expect(request?.path).toBe(`/apis/raftkv.io/v1alpha1/namespaces/${NS}/raftclusters/kv/status`);
    expect(request?.contentType).toBe('application/merge-patch+json');
  });

  it('replaces the whole status: fields left out are removed', async () => {
    const cluster = createCluster();
    const platform = platformFor();
    await platform.writeStatus(cluster, status);
    const seen = stored(CLUSTERS, 'kv') as unknown as RaftCluster;
    const smaller: RaftClusterStatus = { observedGeneration: 2, replicas: 0, conditions: [] };
    await platform.writeStatus(seen, smaller);
    expect(stored(CLUSTERS, 'kv').status).toEqual(smaller);
  });

  it('writing an unchanged status succeeds without a new version', async () => {
    const cluster = createCluster();
    const platform = platformFor();
    await platform.writeStatus(cluster, status);
    const version = resourceVersionOf(stored(CLUSTERS, 'kv'));
    await platform.writeStatus(cluster, status);
    expect(resourceVersionOf(stored(CLUSTERS, 'kv'))).toBe(version);
  });

  it('ignores a cluster deleted meanwhile', async () => {
    const cluster = createCluster();
    fake.remove(CLUSTERS, NS, 'kv');
    await platformFor().writeStatus(cluster, status);
    expect(logger.matching('debug', 'cluster is gone')).toHaveLength(1);
  });
});

describe('KubernetesPlatform.recordEvent', () => {
  it('creates a core/v1 Event about the RaftCluster', async () => {
    const cluster = createCluster();
    await platformFor().recordEvent(cluster, {
      type: 'Normal',
      reason: 'MemberAdded',
      message: 'added kv-3 as a learner',
    });
    const [event] = fake.objects('v1/events', NS);
    if (event === undefined) throw new Error('no event');
    await validateManifest(event);
    expect(event).toMatchObject({
      type: 'Normal',
      reason: 'MemberAdded',
      message: 'added kv-3 as a learner',
      involvedObject: {
        apiVersion: 'raftkv.io/v1alpha1',
        kind: 'RaftCluster',
        name: 'kv',
        namespace: NS,
        uid: cluster.metadata.uid,
      },
      source: { component: 'raftkv-operator' },
      reportingComponent: 'raftkv-operator',
      reportingInstance: 'operator-0',
      firstTimestamp: '2025-01-02T03:04:05.000Z',
    });
    expect((event.metadata as { name: string }).name).toMatch(/^kv\./);
  });

  it('never throws: a failure is logged', async () => {
    const cluster = createCluster();
    fake.failNext(
      { method: 'POST', pathPrefix: `/api/v1/namespaces/${NS}/events` },
      403,
      'Forbidden',
    );
    await platformFor().recordEvent(cluster, {
      type: 'Warning',
      reason: 'QuorumLost',
      message: 'x',
    });
    expect(logger.matching('warn', 'event not recorded')).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ error: expect.stringContaining('HTTP 403 Forbidden') }),
      }),
    ]);
  });
});

describe('KubernetesPlatform defaults', () => {
  it('finds the dashboard at deploy/grafana/raftkv.json of the package', () => {
    expect(DEFAULT_DASHBOARD_PATH).toBe(
      path.resolve(import.meta.dirname, '../../deploy/grafana/raftkv.json'),
    );
  });

  it('reuses existing claim templates without server-only fields', () => {
    const built = {
      spec: { selector: {}, serviceName: 'x', template: {}, volumeClaimTemplates: [] },
    };
    const existing = {
      spec: {
        ...built.spec,
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', creationTimestamp: null },
            spec: { volumeMode: 'Filesystem' },
            status: { phase: 'Pending' },
          },
        ],
      },
    };
    expect(withExistingClaimTemplates(built, existing as never).spec?.volumeClaimTemplates).toEqual(
      [{ metadata: { name: 'data' }, spec: { volumeMode: 'Filesystem' } }],
    );
    expect(withExistingClaimTemplates(built, undefined)).toBe(built);
  });
});

describe('KubernetesPlatform endpoints', () => {
  it('forms DNS names through the headless Service and the cluster domain', () => {
    const cluster = {
      ...(raftClusterManifest('kv', NS, {
        clusterDomain: 'example.internal',
      }) as unknown as RaftCluster),
      metadata: { name: 'kv', namespace: NS, uid: 'u' },
    };
    const platform = platformFor();
    expect(platform.clientEndpoint(cluster, 2)).toBe(
      'kv-2.kv-peers.prod.svc.example.internal:2379',
    );
    expect(platform.peerUrl(cluster, 2)).toBe(
      'http://kv-2.kv-peers.prod.svc.example.internal:2380',
    );
    const local = new KubernetesPlatform({
      kubeConfig: fake.kubeConfig(),
      logger,
      clientEndpointOf: (_cluster, ordinal) => `127.0.0.1:${23790 + ordinal}`,
    });
    expect(local.clientEndpoint(cluster, 2)).toBe('127.0.0.1:23792');
  });
});
