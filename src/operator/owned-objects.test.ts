import type { V1Container, V1EnvVar, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import {
  DASHBOARD_CONFIG_MAP_KEY,
  INITIAL_CLUSTER_SIZE_ENV,
  SERVICE_ROLE_LABEL,
  buildOwnedObjects,
  claimName,
  controllerReference,
  isControlledBy,
} from './owned-objects.js';
import type { DesiredWorkload } from './platform.js';
import type { RaftCluster, RaftClusterSpec } from './raft-cluster.js';

const DESIRED: DesiredWorkload = {
  replicas: 3,
  initialReplicas: 3,
  initialClusterState: 'new',
  quorum: 2,
};

function clusterWith(spec: RaftClusterSpec = {}): RaftCluster {
  return {
    apiVersion: 'raftkv.io/v1alpha1',
    kind: 'RaftCluster',
    metadata: { name: 'kv', namespace: 'prod', uid: 'uid-1', generation: 1 },
    spec,
  };
}

/** Validates `manifest` against the kubernetes-models (or prometheus-operator) schema. */
async function validate(manifest: object): Promise<void> {
  const kind = (manifest as { kind: string }).kind;
  const modules: Record<string, () => Promise<Record<string, unknown>>> = {
    StatefulSet: () => import('kubernetes-models/apps/v1/StatefulSet'),
    Service: () => import('kubernetes-models/v1/Service'),
    ConfigMap: () => import('kubernetes-models/v1/ConfigMap'),
    PodDisruptionBudget: () => import('kubernetes-models/policy/v1/PodDisruptionBudget'),
    ServiceMonitor: () =>
      import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'),
  };
  const load = modules[kind];
  if (load === undefined) throw new Error(`no model for ${kind}`);
  const Model = (await load())[kind] as new (data: unknown) => { validate(): void };
  // A JSON round trip first: what the API server receives, not the in-memory object.
  new Model(JSON.parse(JSON.stringify(manifest))).validate();
}

function containerOf(statefulSet: V1StatefulSet): V1Container {
  const container = statefulSet.spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error('no container');
  return container;
}

function envOf(statefulSet: V1StatefulSet): Map<string, V1EnvVar> {
  return new Map((containerOf(statefulSet).env ?? []).map((variable) => [variable.name, variable]));
}

describe('buildOwnedObjects', () => {
  it('builds valid manifests with the contract defaults', async () => {
    const objects = buildOwnedObjects(clusterWith(), DESIRED, undefined);
    for (const manifest of [
      objects.statefulSet,
      objects.peerService,
      objects.clientService,
      objects.podDisruptionBudget,
    ]) {
      await validate(manifest);
      expect(manifest.metadata?.namespace).toBe('prod');
      expect(manifest.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'raftkv.io/v1alpha1',
          kind: 'RaftCluster',
          name: 'kv',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(manifest.metadata?.labels).toMatchObject({
        'app.kubernetes.io/name': 'raftkv',
        'app.kubernetes.io/instance': 'kv',
        'app.kubernetes.io/component': 'node',
        'app.kubernetes.io/part-of': 'raftkv',
        'app.kubernetes.io/managed-by': 'raftkv-operator',
      });
    }
    expect(objects.serviceMonitor).toBeUndefined();
    expect(objects.dashboardConfigMap).toBeUndefined();
  });

  it('shapes the StatefulSet as decision 0011 says', () => {
    const { statefulSet } = buildOwnedObjects(clusterWith(), DESIRED, undefined);
    const spec = statefulSet.spec;
    expect(statefulSet.metadata?.name).toBe('kv');
    expect(spec?.replicas).toBe(3);
    expect(spec?.serviceName).toBe('kv-peers');
    expect(spec?.podManagementPolicy).toBe('Parallel');
    expect(spec?.updateStrategy).toEqual({ type: 'RollingUpdate' });
    expect(spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    expect(spec?.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'raftkv',
      'app.kubernetes.io/instance': 'kv',
      'app.kubernetes.io/component': 'node',
    });
    const claim = spec?.volumeClaimTemplates?.[0];
    expect(claim?.metadata?.name).toBe('data');
    expect(claim?.spec?.resources?.requests).toEqual({ storage: '1Gi' });
    expect(claim?.spec).not.toHaveProperty('storageClassName');
    const pod = spec?.template.spec;
    expect(pod?.terminationGracePeriodSeconds).toBe(30);
    expect(pod?.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual(
      [
        {
          weight: 100,
          podAffinityTerm: {
            labelSelector: { matchLabels: spec?.selector.matchLabels },
            topologyKey: 'kubernetes.io/hostname',
          },
        },
      ],
    );
    const container = containerOf(statefulSet);
    expect(container.name).toBe('raftkv');
    expect(container.image).toBe('raftkv:0.1.0');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.args).toEqual(['serve']);
    expect(container.ports?.map((port) => [port.name, port.containerPort])).toEqual([
      ['client', 2379],
      ['peer', 2380],
      ['http', 2381],
    ]);
    expect(container.startupProbe).toMatchObject({
      httpGet: { path: '/livez', port: 'http' },
      periodSeconds: 2,
      failureThreshold: 150,
    });
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/livez', port: 'http' });
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/raftkv' });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container).not.toHaveProperty('resources');
  });

  it('passes identity, timings and log settings to the node as RAFTKV_* variables', () => {
    const cluster = clusterWith({
      clusterDomain: 'example.internal',
      logLevel: 'debug',
      requestTimeoutMs: 7000,
      raft: {
        tickIntervalMs: 50,
        electionTimeoutTicks: 20,
        heartbeatIntervalTicks: 2,
        snapshotEntriesThreshold: 500,
      },
    });
    const env = envOf(
      buildOwnedObjects(
        cluster,
        { replicas: 5, initialReplicas: 3, initialClusterState: 'new', quorum: 3 },
        undefined,
      ).statefulSet,
    );
    const valueOf = (name: string): string | undefined => env.get(name)?.value;
    expect(env.get('RAFTKV_HOSTNAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.get('RAFTKV_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    expect(valueOf('RAFTKV_PEER_SERVICE')).toBe('kv-peers');
    expect(valueOf('RAFTKV_CLUSTER_DOMAIN')).toBe('example.internal');
    expect(valueOf('RAFTKV_DATA_DIR')).toBe('/var/lib/raftkv/data');
    expect(valueOf(INITIAL_CLUSTER_SIZE_ENV)).toBe('3');
    expect(valueOf('RAFTKV_INITIAL_CLUSTER_TOKEN')).toBe('prod/kv/uid-1');
    expect(valueOf('RAFTKV_INITIAL_CLUSTER_STATE')).toBe('new');
    expect(valueOf('RAFTKV_TICK_INTERVAL_MS')).toBe('50');
    expect(valueOf('RAFTKV_ELECTION_TIMEOUT_TICKS')).toBe('20');
    expect(valueOf('RAFTKV_HEARTBEAT_INTERVAL_TICKS')).toBe('2');
    expect(valueOf('RAFTKV_SNAPSHOT_ENTRIES_THRESHOLD')).toBe('500');
    expect(valueOf('RAFTKV_REQUEST_TIMEOUT_MS')).toBe('7000');
    expect(valueOf('RAFTKV_LOG_LEVEL')).toBe('debug');
    expect(valueOf('RAFTKV_LOG_FORMAT')).toBe('json');
    // Every variable is one the node documents (`raftkv help serve`): RAFTKV_ + a flag name.
    for (const name of env.keys()) expect(name).toMatch(/^RAFTKV_[A-Z_]+$/);
  });

  it('applies the anti-affinity presets, and an explicit affinity replaces them', () => {
    const podOf = (spec: RaftClusterSpec) =>
      buildOwnedObjects(clusterWith(spec), DESIRED, undefined).statefulSet.spec?.template.spec;
    const hard = podOf({ scheduling: { antiAffinity: 'hard' } })?.affinity?.podAntiAffinity;
    expect(hard?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey).toBe(
      'kubernetes.io/hostname',
    );
    expect(hard).not.toHaveProperty('preferredDuringSchedulingIgnoredDuringExecution');
    expect(podOf({ scheduling: { antiAffinity: 'none' } })).not.toHaveProperty('affinity');
    const custom = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } };
    expect(podOf({ scheduling: { antiAffinity: 'hard', affinity: custom } })?.affinity).toEqual(
      custom,
    );
  });

  it('passes the scheduling, image, storage and resource fields through', async () => {
    const cluster = clusterWith({
      image: 'registry.example/raftkv:1.2.3',
      imagePullPolicy: 'Always',
      imagePullSecrets: [{ name: 'pull' }],
      storage: { size: '5Gi', storageClassName: 'fast' },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      scheduling: {
        nodeSelector: { disk: 'ssd' },
        tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
        priorityClassName: 'high',
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: { 'app.kubernetes.io/instance': 'kv' } },
          },
        ],
      },
      podTemplate: {
        metadata: {
          labels: { team: 'storage', 'app.kubernetes.io/instance': 'hijack' },
          annotations: { 'example.com/scrape': 'yes' },
        },
      },
    });
    const { statefulSet } = buildOwnedObjects(cluster, DESIRED, undefined);
    await validate(statefulSet);
    const template = statefulSet.spec?.template;
    const container = containerOf(statefulSet);
    expect(container.image).toBe('registry.example/raftkv:1.2.3');
    expect(container.imagePullPolicy).toBe('Always');
    expect(container.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '256Mi' },
    });
    expect(template?.spec?.imagePullSecrets).toEqual([{ name: 'pull' }]);
    expect(template?.spec?.nodeSelector).toEqual({ disk: 'ssd' });
    expect(template?.spec?.tolerations).toHaveLength(1);
    expect(template?.spec?.priorityClassName).toBe('high');
    expect(template?.spec?.topologySpreadConstraints?.[0]?.maxSkew).toBe(1);
    // A user's label is added, but cannot change a label that selects the pods.
    expect(template?.metadata?.labels?.team).toBe('storage');
    expect(template?.metadata?.labels?.['app.kubernetes.io/instance']).toBe('kv');
    expect(template?.metadata?.annotations).toEqual({ 'example.com/scrape': 'yes' });
    const claim = statefulSet.spec?.volumeClaimTemplates?.[0]?.spec;
    expect(claim?.resources?.requests).toEqual({ storage: '5Gi' });
    expect(claim?.storageClassName).toBe('fast');
  });

  it('builds a headless peer Service and a client Service', () => {
    const { peerService, clientService } = buildOwnedObjects(clusterWith(), DESIRED, undefined);
    expect(peerService.metadata?.name).toBe('kv-peers');
    expect(peerService.spec?.clusterIP).toBe('None');
    expect(peerService.spec?.publishNotReadyAddresses).toBe(true);
    expect(peerService.spec?.ports?.map((port) => [port.name, port.port, port.targetPort])).toEqual(
      [
        ['client', 2379, 'client'],
        ['peer', 2380, 'peer'],
        ['metrics', 2381, 'http'],
      ],
    );
    expect(clientService.metadata?.name).toBe('kv');
    expect(clientService.spec?.type).toBe('ClusterIP');
    expect(clientService.spec).not.toHaveProperty('publishNotReadyAddresses');
    expect(clientService.spec?.ports).toEqual([
      { name: 'client', port: 2379, targetPort: 'client', protocol: 'TCP' },
    ]);
    expect(peerService.metadata?.labels?.[SERVICE_ROLE_LABEL]).toBe('peers');
    expect(clientService.metadata?.labels?.[SERVICE_ROLE_LABEL]).toBe('client');
  });

  it('sets the disruption budget to the quorum it is given', () => {
    const { podDisruptionBudget } = buildOwnedObjects(
      clusterWith(),
      { replicas: 5, initialReplicas: 3, initialClusterState: 'new', quorum: 3 },
      undefined,
    );
    expect(podDisruptionBudget.spec?.minAvailable).toBe(3);
    expect(podDisruptionBudget.spec?.selector?.matchLabels?.['app.kubernetes.io/instance']).toBe(
      'kv',
    );
  });

  it('builds the ServiceMonitor and the dashboard ConfigMap when switched on', async () => {
    const cluster = clusterWith({
      monitoring: {
        serviceMonitor: { enabled: true, interval: '30s', labels: { release: 'kps' } },
        dashboard: { enabled: true },
      },
    });
    const objects = buildOwnedObjects(cluster, DESIRED, '{"title":"raftkv"}');
    const monitor = objects.serviceMonitor;
    const configMap = objects.dashboardConfigMap;
    if (monitor === undefined || configMap === undefined) throw new Error('missing objects');
    await validate(monitor);
    await validate(configMap);
    expect(monitor.metadata.name).toBe('kv');
    expect(monitor.metadata.labels.release).toBe('kps');
    expect(monitor.spec.selector.matchLabels).toMatchObject({
      'app.kubernetes.io/instance': 'kv',
      [SERVICE_ROLE_LABEL]: 'peers',
    });
    expect(monitor.spec.endpoints).toEqual([
      { port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' },
    ]);
    expect(monitor.spec.namespaceSelector.matchNames).toEqual(['prod']);
    expect(configMap.metadata?.name).toBe('kv-dashboard');
    expect(configMap.metadata?.labels?.grafana_dashboard).toBe('1');
    expect(configMap.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('raftkv-operator');
    expect(configMap.data?.[DASHBOARD_CONFIG_MAP_KEY]).toBe('{"title":"raftkv"}');
  });

  it('leaves the dashboard out when its text is unavailable', () => {
    const cluster = clusterWith({ monitoring: { dashboard: { enabled: true, labels: {} } } });
    expect(buildOwnedObjects(cluster, DESIRED, undefined).dashboardConfigMap).toBeUndefined();
  });
});

describe('ownership helpers', () => {
  it('names claims as the StatefulSet controller does', () => {
    expect(claimName('kv', 4)).toBe('data-kv-4');
  });

  it('recognizes only a controller reference with the cluster uid', () => {
    const cluster = clusterWith();
    expect(isControlledBy([controllerReference(cluster)], 'uid-1')).toBe(true);
    expect(isControlledBy([controllerReference(cluster)], 'uid-2')).toBe(false);
    expect(isControlledBy([{ ...controllerReference(cluster), controller: false }], 'uid-1')).toBe(
      false,
    );
    expect(isControlledBy(undefined, 'uid-1')).toBe(false);
  });
});
