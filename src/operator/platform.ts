/**
 * The only way the operator reaches the world it manages (DESIGN.md §8): Kubernetes through
 * `KubernetesPlatform`, or real processes on this machine through `LocalPlatform`. The reconcile
 * logic sees nothing else, so the same code scales a StatefulSet and a local cluster.
 *
 * Every method is idempotent: applying what is already there, deleting what is already gone and
 * writing an unchanged status all succeed.
 */
import type { RaftCluster, RaftClusterStatus } from './raft-cluster.js';

/**
 * The `code` of the error a platform throws when an object it would write exists and is not
 * controlled by the cluster (never adopted; the status says `Degraded` / `NotOwned`).
 */
export const NOT_OWNED_CODE = 'OPERATOR_NOT_OWNED';

/** One pod (or local member process) of a cluster. */
export interface PodObservation {
  readonly name: string;
  readonly ordinal: number;
  /** The container runs (Kubernetes phase Running and the container started). */
  readonly isRunning: boolean;
  /** Passes its readiness probe (`/readyz`: has a leader and caught up). */
  readonly isReady: boolean;
  /** Being deleted. */
  readonly isTerminating: boolean;
  /** Container restarts so far (a crash loop shows here). */
  readonly restartCount: number;
}

/** What exists of a cluster's workload now. */
export interface WorkloadObservation {
  /** The StatefulSet's `spec.replicas`; null when there is no StatefulSet yet. */
  readonly replicas: number | null;
  /** The initial cluster size the existing StatefulSet was created with; null if none. */
  readonly initialReplicas: number | null;
  /** The `--initial-cluster-state` its pods get; null if none. */
  readonly initialClusterState: InitialClusterState | null;
  /** False when an object of the cluster's name exists that this cluster does not control. */
  readonly isOwned: boolean;
  readonly pods: readonly PodObservation[];
  /** Ordinals that have a volume claim (or local data directory). */
  readonly claimOrdinals: readonly number[];
}

/**
 * `new` lets the founding ordinals (below the initial size) found the cluster on empty storage;
 * `existing` makes every pod on empty storage wait to be added. The operator switches to
 * `existing` once the cluster exists, so that a founder whose storage was reset can never found a
 * second cluster (its peers might all be unreachable for the moment it asks).
 */
export type InitialClusterState = 'new' | 'existing';

/** What the reconcile wants the workload to be. */
export interface DesiredWorkload {
  readonly replicas: number;
  /** Frozen at creation: voters that found the cluster together. */
  readonly initialReplicas: number;
  readonly initialClusterState: InitialClusterState;
  /** `minAvailable` of the disruption budget. */
  readonly quorum: number;
}

export interface PlatformEvent {
  readonly type: 'Normal' | 'Warning';
  /** PascalCase, e.g. `MemberAdded`. */
  readonly reason: string;
  readonly message: string;
}

export interface Platform {
  /** Creates or updates every object the cluster owns (server-side apply). */
  applyWorkload(cluster: RaftCluster, desired: DesiredWorkload): Promise<void>;
  observe(cluster: RaftCluster): Promise<WorkloadObservation>;
  /** Deletes one pod (its StatefulSet recreates it). */
  deletePod(cluster: RaftCluster, ordinal: number): Promise<void>;
  /** Deletes the volume claim (local: data directory) of one ordinal. */
  deleteClaim(cluster: RaftCluster, ordinal: number): Promise<void>;
  /**
   * Deletes ordinal `ordinal`'s pod (if any) and its volume claim, so that its pod, if the
   * StatefulSet keeps it, starts again on empty storage. Each platform orders the two deletions
   * as it must (Kubernetes: the claim first, which its protection finalizer holds until the pod
   * is gone, then the pod; local: stop the process, then remove its directory).
   */
  resetOrdinal(cluster: RaftCluster, ordinal: number): Promise<void>;
  /** Writes `status` through the status subresource. */
  writeStatus(cluster: RaftCluster, status: RaftClusterStatus): Promise<void>;
  recordEvent(cluster: RaftCluster, event: PlatformEvent): Promise<void>;
  /** Where the operator reaches ordinal `ordinal`'s client API (`host:port`). */
  clientEndpoint(cluster: RaftCluster, ordinal: number): string;
  /** The peer URL ordinal `ordinal` serves at, as registered with `MemberAdd`. */
  peerUrl(cluster: RaftCluster, ordinal: number): string;
}

/** The source of `RaftCluster` objects and of the events that should wake their reconcile. */
export interface ClusterSource {
  /** Every cluster the operator watches, as last seen. */
  list(): readonly RaftCluster[];
  /** The cluster with this `namespace/name` key as last seen, or undefined if gone. */
  get(key: string): RaftCluster | undefined;
  /**
   * Starts watching; `onChange(key)` is called for a cluster whose own object or any owned
   * object changed. Resolves once the first list is in (`list()` is complete).
   */
  start(onChange: (key: string) => void): Promise<void>;
  stop(): Promise<void>;
}

/** A coordination.k8s.io/v1 Lease as the elector needs it. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** Milliseconds since the epoch. */
  readonly acquireTimeMs: number;
  readonly renewTimeMs: number;
  readonly leaseTransitions: number;
  /** Opaque version for optimistic concurrency. */
  readonly resourceVersion: string;
}

/** Thrown by `LeaseStore.create` / `replace` when someone else wrote first (HTTP 409). */
export class LeaseConflictError extends Error {
  constructor(message = 'lease changed concurrently') {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

/** Storage of one named Lease. */
export interface LeaseStore {
  /** The lease, or null if it does not exist. */
  get(): Promise<LeaseRecord | null>;
  /** Creates it; LeaseConflictError if it exists. */
  create(record: Omit<LeaseRecord, 'resourceVersion'>): Promise<LeaseRecord>;
  /** Replaces it if still at `resourceVersion`; LeaseConflictError otherwise. */
  replace(record: LeaseRecord): Promise<LeaseRecord>;
}
