/**
 * The manifests of every object a `RaftCluster` owns (docs/decisions/0011-operator-contract.md,
 * "What the operator owns"), built as plain JSON objects ready for server-side apply: the
 * StatefulSet, the headless peer Service, the client Service, the PodDisruptionBudget and, when
 * switched on, the ServiceMonitor and the Grafana dashboard ConfigMap.
 *
 * Pure: no I/O, no clock. It decides nothing about membership; the reconcile passes the replicas,
 * the initial cluster size and the quorum in a `DesiredWorkload`. Only types come from
 * `@kubernetes/client-node`.
 */
import type {
  V1Affinity,
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1EnvVarSource,
  V1OwnerReference,
  V1PodDisruptionBudget,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1Service,
  V1StatefulSet,
  V1Toleration,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';

import type { DesiredWorkload } from './platform.js';
import {
  CLIENT_PORT,
  HTTP_PORT,
  PEER_PORT,
  RAFT_CLUSTER_API_VERSION,
  RAFT_CLUSTER_KIND,
  type RaftCluster,
  type ResolvedSpec,
  peerServiceName,
  resolveSpec,
  selectorLabels,
  standardLabels,
} from './raft-cluster.js';

/** Name of the node container in every pod. */
export const CONTAINER_NAME = 'raftkv';
/** Name of the volume claim template; claims are `data-NAME-K`. */
export const DATA_VOLUME_NAME = 'data';
/** Where the data volume is mounted; the node keeps its files in `data/` below it. */
export const DATA_MOUNT_PATH = '/var/lib/raftkv';
/** The key of the dashboard JSON in the dashboard ConfigMap. */
export const DASHBOARD_CONFIG_MAP_KEY = 'raftkv.json';
/** The uid and gid of the `node` user in the image. */
export const NODE_USER_ID = 1000;
/**
 * Extra label telling the two Services apart, so that the ServiceMonitor selects the peer
 * Service only (the standard labels are the same on both).
 */
export const SERVICE_ROLE_LABEL = 'raftkv.io/service';

/** The StatefulSet env var holding the initial cluster size; `observe` reads it back. */
export const INITIAL_CLUSTER_SIZE_ENV = 'RAFTKV_INITIAL_CLUSTER_SIZE';
export const INITIAL_CLUSTER_STATE_ENV = 'RAFTKV_INITIAL_CLUSTER_STATE';

/** A `monitoring.coreos.com/v1` ServiceMonitor, as much of it as the operator writes. */
export interface ServiceMonitorManifest {
  readonly apiVersion: 'monitoring.coreos.com/v1';
  readonly kind: 'ServiceMonitor';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Record<string, string>;
    readonly ownerReferences: V1OwnerReference[];
  };
  readonly spec: {
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly namespaceSelector: { readonly matchNames: string[] };
    readonly endpoints: {
      readonly port: string;
      readonly path: string;
      readonly interval: string;
      readonly scheme: 'http';
    }[];
  };
}

/** Every object of one cluster; the optional ones are absent when switched off. */
export interface OwnedObjects {
  readonly statefulSet: V1StatefulSet;
  readonly peerService: V1Service;
  readonly clientService: V1Service;
  readonly podDisruptionBudget: V1PodDisruptionBudget;
  readonly serviceMonitor: ServiceMonitorManifest | undefined;
  readonly dashboardConfigMap: V1ConfigMap | undefined;
}

/** The name of the dashboard ConfigMap of cluster `clusterName`. */
export function dashboardConfigMapName(clusterName: string): string {
  return `${clusterName}-dashboard`;
}

/** The volume claim of ordinal `ordinal`, as the StatefulSet controller names it. */
export function claimName(clusterName: string, ordinal: number): string {
  return `${DATA_VOLUME_NAME}-${clusterName}-${ordinal}`;
}

/** `NS/NAME/UID`: unique per cluster incarnation, so a re-created cluster never mixes logs. */
export function initialClusterToken(cluster: RaftCluster): string {
  return `${cluster.metadata.namespace}/${cluster.metadata.name}/${cluster.metadata.uid}`;
}

/** The controller reference every owned object carries. */
export function controllerReference(cluster: RaftCluster): V1OwnerReference {
  return {
    apiVersion: RAFT_CLUSTER_API_VERSION,
    kind: RAFT_CLUSTER_KIND,
    name: cluster.metadata.name,
    uid: cluster.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * True when `ownerReferences` holds a controller reference to the cluster with `uid`. An object
 * of the right name controlled by something else (or by an earlier cluster of the same name) is
 * not ours.
 */
export function isControlledBy(
  ownerReferences: readonly V1OwnerReference[] | undefined,
  uid: string,
): boolean {
  return (ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === uid);
}

/** Builds every object `cluster` owns; `dashboardJson` is the dashboard file's text. */
export function buildOwnedObjects(
  cluster: RaftCluster,
  desired: DesiredWorkload,
  dashboardJson: string | undefined,
): OwnedObjects {
  const spec = resolveSpec(cluster.spec);
  return {
    statefulSet: buildStatefulSet(cluster, desired),
    peerService: buildPeerService(cluster),
    clientService: buildClientService(cluster),
    podDisruptionBudget: buildPodDisruptionBudget(cluster, desired),
    serviceMonitor: spec.serviceMonitor.enabled ? buildServiceMonitor(cluster) : undefined,
    dashboardConfigMap:
      spec.dashboard.enabled && dashboardJson !== undefined
        ? buildDashboardConfigMap(cluster, dashboardJson)
        : undefined,
  };
}

function metadataOf(
  cluster: RaftCluster,
  name: string,
  extraLabels: Readonly<Record<string, string>> = {},
): {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: V1OwnerReference[];
} {
  return {
    name,
    namespace: cluster.metadata.namespace,
    // Standard labels last: a user's label must not change what selects the pods.
    labels: { ...extraLabels, ...standardLabels(cluster.metadata.name) },
    ownerReferences: [controllerReference(cluster)],
  };
}

/** The StatefulSet `NAME`. */
export function buildStatefulSet(cluster: RaftCluster, desired: DesiredWorkload): V1StatefulSet {
  const name = cluster.metadata.name;
  const spec = resolveSpec(cluster.spec);
  const labels = standardLabels(name);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadataOf(cluster, name),
    spec: {
      replicas: desired.replicas,
      serviceName: peerServiceName(name),
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      // The operator deletes a removed member's claim itself, after the removal (0011).
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: selectorLabels(name) },
      template: {
        metadata: {
          labels: { ...spec.podLabels, ...labels },
          ...(Object.keys(spec.podAnnotations).length > 0
            ? { annotations: { ...spec.podAnnotations } }
            : {}),
        },
        spec: {
          // The node hands over leadership on SIGTERM; 30 s covers the transfer and a flush.
          terminationGracePeriodSeconds: 30,
          // Service links would add RAFTKV_SERVICE_HOST and friends for a cluster named raftkv,
          // which the node reports as unknown variables.
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [nodeContainer(cluster, spec, desired)],
          volumes: [{ name: 'tmp', emptyDir: {} }],
          ...schedulingOf(name, spec),
          ...(spec.imagePullSecrets.length > 0
            ? { imagePullSecrets: spec.imagePullSecrets.map((secret) => ({ name: secret.name })) }
            : {}),
        },
      },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: DATA_VOLUME_NAME, labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: spec.storageSize } },
            ...(spec.storageClassName !== undefined
              ? { storageClassName: spec.storageClassName }
              : {}),
          },
        },
      ],
    },
  };
}

function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: NODE_USER_ID,
    runAsGroup: NODE_USER_ID,
    fsGroup: NODE_USER_ID,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function nodeContainer(
  cluster: RaftCluster,
  spec: ResolvedSpec,
  desired: DesiredWorkload,
): V1Container {
  return {
    name: CONTAINER_NAME,
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    args: ['serve'],
    env: nodeEnv(cluster, spec, desired),
    ports: [
      { name: 'client', containerPort: CLIENT_PORT, protocol: 'TCP' },
      { name: 'peer', containerPort: PEER_PORT, protocol: 'TCP' },
      { name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' },
    ],
    // A long startup allowance covers WAL replay and snapshot install (5 minutes); liveness never
    // depends on a leader, so an election does not restart followers.
    startupProbe: httpProbe('/livez', { periodSeconds: 2, failureThreshold: 150 }),
    livenessProbe: httpProbe('/livez', { periodSeconds: 10, failureThreshold: 3 }),
    readinessProbe: httpProbe('/readyz', { periodSeconds: 5, failureThreshold: 2 }),
    volumeMounts: [
      { name: DATA_VOLUME_NAME, mountPath: DATA_MOUNT_PATH },
      // The root filesystem is read-only; Node may still want a scratch directory.
      { name: 'tmp', mountPath: '/tmp' },
    ],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NODE_USER_ID,
      runAsGroup: NODE_USER_ID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(spec.resources !== undefined
      ? { resources: spec.resources as V1ResourceRequirements }
      : {}),
  };
}

function httpProbe(
  path: string,
  timing: { readonly periodSeconds: number; readonly failureThreshold: number },
): V1Probe {
  return {
    httpGet: { path, port: 'http', scheme: 'HTTP' },
    periodSeconds: timing.periodSeconds,
    failureThreshold: timing.failureThreshold,
    timeoutSeconds: 5,
  };
}

function fieldRef(fieldPath: string): V1EnvVarSource {
  return { fieldRef: { apiVersion: 'v1', fieldPath } };
}

/** The node's flags as `RAFTKV_*` variables (`raftkv help serve`). */
export function nodeEnv(
  cluster: RaftCluster,
  spec: ResolvedSpec,
  desired: DesiredWorkload,
): V1EnvVar[] {
  const value = (name: string, text: string | number): V1EnvVar => ({ name, value: String(text) });
  return [
    { name: 'RAFTKV_HOSTNAME', valueFrom: fieldRef('metadata.name') },
    { name: 'RAFTKV_NAMESPACE', valueFrom: fieldRef('metadata.namespace') },
    value('RAFTKV_PEER_SERVICE', peerServiceName(cluster.metadata.name)),
    value('RAFTKV_CLUSTER_DOMAIN', spec.clusterDomain),
    value('RAFTKV_DATA_DIR', `${DATA_MOUNT_PATH}/data`),
    value('RAFTKV_CLIENT_PORT', CLIENT_PORT),
    value('RAFTKV_PEER_PORT', PEER_PORT),
    value('RAFTKV_HTTP_PORT', HTTP_PORT),
    value(INITIAL_CLUSTER_SIZE_ENV, desired.initialReplicas),
    value('RAFTKV_INITIAL_CLUSTER_TOKEN', initialClusterToken(cluster)),
    value(INITIAL_CLUSTER_STATE_ENV, desired.initialClusterState),
    value('RAFTKV_TICK_INTERVAL_MS', spec.tickIntervalMs),
    value('RAFTKV_ELECTION_TIMEOUT_TICKS', spec.electionTimeoutTicks),
    value('RAFTKV_HEARTBEAT_INTERVAL_TICKS', spec.heartbeatIntervalTicks),
    value('RAFTKV_SNAPSHOT_ENTRIES_THRESHOLD', spec.snapshotEntriesThreshold),
    value('RAFTKV_REQUEST_TIMEOUT_MS', spec.requestTimeoutMs),
    value('RAFTKV_LOG_LEVEL', spec.logLevel),
    value('RAFTKV_LOG_FORMAT', 'json'),
  ];
}

/** The anti-affinity preset on `kubernetes.io/hostname`, or the spec's own affinity. */
export function affinityOf(clusterName: string, spec: ResolvedSpec): V1Affinity | undefined {
  if (spec.affinity !== undefined) return spec.affinity as V1Affinity;
  const term = {
    labelSelector: { matchLabels: selectorLabels(clusterName) },
    topologyKey: 'kubernetes.io/hostname',
  };
  switch (spec.antiAffinity) {
    case 'none':
      return undefined;
    case 'soft':
      return {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }],
        },
      };
    case 'hard':
      return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  }
}

function schedulingOf(
  clusterName: string,
  spec: ResolvedSpec,
): {
  affinity?: V1Affinity;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  priorityClassName?: string;
  topologySpreadConstraints?: V1TopologySpreadConstraint[];
} {
  const affinity = affinityOf(clusterName, spec);
  return {
    ...(affinity !== undefined ? { affinity } : {}),
    ...(spec.nodeSelector !== undefined ? { nodeSelector: { ...spec.nodeSelector } } : {}),
    ...(spec.tolerations !== undefined
      ? { tolerations: spec.tolerations.map((toleration) => toleration as V1Toleration) }
      : {}),
    ...(spec.priorityClassName !== undefined ? { priorityClassName: spec.priorityClassName } : {}),
    ...(spec.topologySpreadConstraints !== undefined
      ? {
          topologySpreadConstraints: spec.topologySpreadConstraints.map(
            (constraint) => constraint as unknown as V1TopologySpreadConstraint,
          ),
        }
      : {}),
  };
}

/** The headless Service `NAME-peers` that gives every pod its DNS name, Ready or not. */
export function buildPeerService(cluster: RaftCluster): V1Service {
  const name = cluster.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(cluster, peerServiceName(name), { [SERVICE_ROLE_LABEL]: 'peers' }),
    spec: {
      clusterIP: 'None',
      // Peers must resolve each other before any pod is Ready (there is no leader yet).
      publishNotReadyAddresses: true,
      selector: selectorLabels(name),
      ports: [
        { name: 'client', port: CLIENT_PORT, targetPort: 'client', protocol: 'TCP' },
        { name: 'peer', port: PEER_PORT, targetPort: 'peer', protocol: 'TCP' },
        { name: 'metrics', port: HTTP_PORT, targetPort: 'http', protocol: 'TCP' },
      ],
    },
  };
}

/** The client Service `NAME`: port 2379 of Ready pods only. */
export function buildClientService(cluster: RaftCluster): V1Service {
  const name = cluster.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(cluster, name, { [SERVICE_ROLE_LABEL]: 'client' }),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(name),
      ports: [{ name: 'client', port: CLIENT_PORT, targetPort: 'client', protocol: 'TCP' }],
    },
  };
}

/** The PodDisruptionBudget `NAME`: never fewer than a quorum of the configuration. */
export function buildPodDisruptionBudget(
  cluster: RaftCluster,
  desired: DesiredWorkload,
): V1PodDisruptionBudget {
  const name = cluster.metadata.name;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadataOf(cluster, name),
    spec: { minAvailable: desired.quorum, selector: { matchLabels: selectorLabels(name) } },
  };
}

/** The ServiceMonitor `NAME`: scrapes `/metrics` of every pod through the peer Service. */
export function buildServiceMonitor(cluster: RaftCluster): ServiceMonitorManifest {
  const name = cluster.metadata.name;
  const spec = resolveSpec(cluster.spec);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: metadataOf(cluster, name, spec.serviceMonitor.labels),
    spec: {
      selector: { matchLabels: { ...selectorLabels(name), [SERVICE_ROLE_LABEL]: 'peers' } },
      namespaceSelector: { matchNames: [cluster.metadata.namespace] },
      endpoints: [
        {
          port: 'metrics',
          path: '/metrics',
          interval: spec.serviceMonitor.interval,
          scheme: 'http',
        },
      ],
    },
  };
}

/** The ConfigMap `NAME-dashboard` the Grafana sidecar picks up by its labels. */
export function buildDashboardConfigMap(cluster: RaftCluster, dashboardJson: string): V1ConfigMap {
  const spec = resolveSpec(cluster.spec);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadataOf(
      cluster,
      dashboardConfigMapName(cluster.metadata.name),
      spec.dashboard.labels,
    ),
    data: { [DASHBOARD_CONFIG_MAP_KEY]: dashboardJson },
  };
}
