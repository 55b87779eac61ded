/**
 * The `RaftCluster` custom resource (raftkv.io/v1alpha1) as the operator reads and writes it, and
 * the defaults it applies to an absent spec field (docs/decisions/0011-operator-contract.md; the
 * CRD's schema in charts/raftkv/crds/ states the same defaults). Pure types and functions.
 */

export const RAFT_CLUSTER_GROUP = 'raftkv.io';
export const RAFT_CLUSTER_VERSION = 'v1alpha1';
export const RAFT_CLUSTER_API_VERSION = `${RAFT_CLUSTER_GROUP}/${RAFT_CLUSTER_VERSION}`;
export const RAFT_CLUSTER_KIND = 'RaftCluster';
export const RAFT_CLUSTER_PLURAL = 'raftclusters';
/** The field manager of every server-side apply and status write. */
export const FIELD_MANAGER = 'raftkv-operator';

/** Ports every member serves (the node's defaults). */
export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;
export const HTTP_PORT = 2381;

export type AntiAffinityPreset = 'soft' | 'hard' | 'none';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type PullPolicy = 'IfNotPresent' | 'Always' | 'Never';

/** Kubernetes objects the spec passes through untouched (affinity, tolerations, resources...). */
export type OpaqueObject = Record<string, unknown>;

export interface RaftClusterSpec {
  readonly replicas?: number;
  /** The image, with or without a tag; without one, `version` is its tag. */
  readonly image?: string;
  /** The raftkv version to run: the image's tag when `image` names none. */
  readonly version?: string;
  readonly imagePullPolicy?: PullPolicy;
  readonly imagePullSecrets?: readonly { readonly name: string }[];
  readonly storage?: { readonly size?: string; readonly storageClassName?: string };
  readonly resources?: OpaqueObject;
  readonly scheduling?: {
    readonly antiAffinity?: AntiAffinityPreset;
    readonly affinity?: OpaqueObject;
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly OpaqueObject[];
    readonly priorityClassName?: string;
    readonly topologySpreadConstraints?: readonly OpaqueObject[];
  };
  readonly raft?: {
    readonly tickIntervalMs?: number;
    readonly electionTimeoutTicks?: number;
    readonly heartbeatIntervalTicks?: number;
    readonly snapshotEntriesThreshold?: number;
  };
  readonly requestTimeoutMs?: number;
  readonly clusterDomain?: string;
  readonly logLevel?: LogLevel;
  readonly podTemplate?: {
    readonly metadata?: {
      readonly labels?: Readonly<Record<string, string>>;
      readonly annotations?: Readonly<Record<string, string>>;
    };
  };
  readonly monitoring?: {
    readonly serviceMonitor?: {
      readonly enabled?: boolean;
      readonly interval?: string;
      readonly labels?: Readonly<Record<string, string>>;
    };
    readonly dashboard?: {
      readonly enabled?: boolean;
      readonly labels?: Readonly<Record<string, string>>;
    };
  };
}

export type MemberRole = 'Leader' | 'Follower' | 'Learner';

export interface MemberStatus {
  /** Pod name, `NAME-K`. */
  readonly name: string;
  /** Member id, 16 hex digits; empty when the pod has no member. */
  readonly id: string;
  readonly role: MemberRole;
  readonly voter: boolean;
  readonly healthy: boolean;
  readonly appliedIndex: number;
}

export type ConditionType = 'Available' | 'Progressing' | 'Degraded';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A `metav1.Condition`. */
export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly observedGeneration: number;
  /** RFC 3339 time, seconds precision. */
  readonly lastTransitionTime: string;
  readonly reason: string;
  readonly message: string;
}

/** The membership step last completed, for people watching a scale operation. */
export interface LastStep {
  readonly action: string;
  readonly member: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
}

export interface RaftClusterStatus {
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly selector?: string;
  readonly initialReplicas?: number;
  /** The Raft cluster id, 16 hex digits, once the cluster exists. */
  readonly clusterId?: string;
  readonly leader?: string;
  readonly leaderId?: string;
  readonly term?: number;
  readonly members?: readonly MemberStatus[];
  readonly lastStep?: LastStep;
  readonly conditions?: readonly Condition[];
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RaftCluster {
  readonly apiVersion: typeof RAFT_CLUSTER_API_VERSION;
  readonly kind: typeof RAFT_CLUSTER_KIND;
  readonly metadata: ObjectMeta;
  readonly spec: RaftClusterSpec;
  readonly status?: RaftClusterStatus;
}

/** The spec with every default filled in. */
export interface ResolvedSpec {
  readonly replicas: number;
  readonly image: string;
  readonly imagePullPolicy: PullPolicy;
  readonly imagePullSecrets: readonly { readonly name: string }[];
  readonly storageSize: string;
  readonly storageClassName: string | undefined;
  readonly resources: OpaqueObject | undefined;
  readonly antiAffinity: AntiAffinityPreset;
  readonly affinity: OpaqueObject | undefined;
  readonly nodeSelector: Readonly<Record<string, string>> | undefined;
  readonly tolerations: readonly OpaqueObject[] | undefined;
  readonly priorityClassName: string | undefined;
  readonly topologySpreadConstraints: readonly OpaqueObject[] | undefined;
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly snapshotEntriesThreshold: number;
  readonly requestTimeoutMs: number;
  readonly clusterDomain: string;
  readonly logLevel: LogLevel;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly serviceMonitor: {
    readonly enabled: boolean;
    readonly interval: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly dashboard: {
    readonly enabled: boolean;
    readonly labels: Readonly<Record<string, string>>;
  };
}

/** The image repository and version a RaftCluster runs by default. */
export const DEFAULT_IMAGE_REPOSITORY = 'raftkv';
export const DEFAULT_VERSION = '0.1.0';
export const DEFAULT_IMAGE = `${DEFAULT_IMAGE_REPOSITORY}:${DEFAULT_VERSION}`;

/** `image` with `version` as its tag, unless it already names a tag or a digest. */
export function imageOf(image: string, version: string): string {
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const hasTagOrDigest = image.includes('@') || lastSegment.includes(':');
  return hasTagOrDigest ? image : `${image}:${version}`;
}
export const REPLICAS_MAX = 9;

/** Fills every absent field of `spec` with its default. */
export function resolveSpec(spec: RaftClusterSpec): ResolvedSpec {
  return {
    replicas: spec.replicas ?? 3,
    image: imageOf(spec.image ?? DEFAULT_IMAGE_REPOSITORY, spec.version ?? DEFAULT_VERSION),
    imagePullPolicy: spec.imagePullPolicy ?? 'IfNotPresent',
    imagePullSecrets: spec.imagePullSecrets ?? [],
    storageSize: spec.storage?.size ?? '1Gi',
    storageClassName: spec.storage?.storageClassName,
    resources: spec.resources,
    antiAffinity: spec.scheduling?.antiAffinity ?? 'soft',
    affinity: spec.scheduling?.affinity,
    nodeSelector: spec.scheduling?.nodeSelector,
    tolerations: spec.scheduling?.tolerations,
    priorityClassName: spec.scheduling?.priorityClassName,
    topologySpreadConstraints: spec.scheduling?.topologySpreadConstraints,
    tickIntervalMs: spec.raft?.tickIntervalMs ?? 100,
    electionTimeoutTicks: spec.raft?.electionTimeoutTicks ?? 10,
    heartbeatIntervalTicks: spec.raft?.heartbeatIntervalTicks ?? 1,
    snapshotEntriesThreshold: spec.raft?.snapshotEntriesThreshold ?? 10_000,
    requestTimeoutMs: spec.requestTimeoutMs ?? 5000,
    clusterDomain: spec.clusterDomain ?? 'cluster.local',
    logLevel: spec.logLevel ?? 'info',
    podLabels: spec.podTemplate?.metadata?.labels ?? {},
    podAnnotations: spec.podTemplate?.metadata?.annotations ?? {},
    serviceMonitor: {
      enabled: spec.monitoring?.serviceMonitor?.enabled ?? false,
      interval: spec.monitoring?.serviceMonitor?.interval ?? '15s',
      labels: spec.monitoring?.serviceMonitor?.labels ?? {},
    },
    dashboard: {
      enabled: spec.monitoring?.dashboard?.enabled ?? false,
      labels: spec.monitoring?.dashboard?.labels ?? { grafana_dashboard: '1' },
    },
  };
}

/** `namespace/name`, the work queue's key. */
export function clusterKey(cluster: {
  readonly metadata: Pick<ObjectMeta, 'name' | 'namespace'>;
}): string {
  return `${cluster.metadata.namespace}/${cluster.metadata.name}`;
}

/** The headless Service that gives the pods their peer DNS names. */
export function peerServiceName(clusterName: string): string {
  return `${clusterName}-peers`;
}

/** The pod (and member) name of ordinal `ordinal`. */
export function memberName(clusterName: string, ordinal: number): string {
  return `${clusterName}-${ordinal}`;
}

/** The ordinal of a member name `NAME-K`, or null if it is not one of this cluster's. */
export function ordinalOf(clusterName: string, name: string): number | null {
  const prefix = `${clusterName}-`;
  if (!name.startsWith(prefix)) return null;
  const rest = name.slice(prefix.length);
  if (!/^(0|[1-9][0-9]*)$/.test(rest)) return null;
  return Number(rest);
}

/** Votes needed among `voters` voters. */
export function quorumOf(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The labels every owned object carries; the first three select the pods. */
export function standardLabels(clusterName: string): Record<string, string> {
  return {
    ...selectorLabels(clusterName),
    'app.kubernetes.io/part-of': 'raftkv',
    'app.kubernetes.io/managed-by': 'raftkv-operator',
  };
}

export function selectorLabels(clusterName: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'raftkv',
    'app.kubernetes.io/instance': clusterName,
    'app.kubernetes.io/component': 'node',
  };
}

/** The selector as `status.selector` writes it (`k=v,k=v`). */
export function selectorString(clusterName: string): string {
  return Object.entries(selectorLabels(clusterName))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
