/**
 * What one reconcile pass observed of a cluster, in the shape the membership plan reads: the
 * desired size, the workload (StatefulSet, pods, volume claims) and the Raft configuration with
 * each member's own answer. Built by the reconciler from the platform and the members' etcd
 * Cluster and Maintenance APIs; pure data.
 */
import type { WorkloadObservation } from './platform.js';

/** A member's own answer to Maintenance.Status. */
export interface MemberAnswer {
  /** The cluster the member belongs to (the header's cluster id). */
  readonly clusterId: bigint;
  /** The member id that answered (the header's member id). */
  readonly memberId: bigint;
  readonly leaderId: bigint;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly isLearner: boolean;
}

/** One member of the Raft configuration. */
export interface MemberView {
  readonly id: bigint;
  /** The ordinal its peer URL belongs to; null for a member this operator did not add. */
  readonly ordinal: number | null;
  readonly isLearner: boolean;
  /** Its pod's answer, if the pod answered as this member. */
  readonly answer: MemberAnswer | null;
  /** Since when (ms) the member has not answered as itself; null while it answers. */
  readonly silentSinceMs: number | null;
}

export interface ClusterView {
  readonly desiredReplicas: number;
  readonly workload: WorkloadObservation;
  /** The Raft configuration; null when no member could list it (no quorum, no pods). */
  readonly members: readonly MemberView[] | null;
  /** The leader as the members report it; 0n when none is known. */
  readonly leaderId: bigint;
  /**
   * The cluster this RaftCluster is: the one it was seen to be before, else the one most pods
   * answer for; null while unknown. A pod answering for another cluster holds foreign storage.
   */
  readonly clusterId: bigint | null;
  /** Each pod's answer to Status by ordinal (whatever member id it answered as). */
  readonly podAnswers: ReadonlyMap<number, MemberAnswer>;
  /** Per learner id: the leader's commit index it must reach before promotion. */
  readonly catchUpTargets: ReadonlyMap<bigint, number>;
  /** Ordinals whose pod and claim this operator reset and that have not joined since. */
  readonly resetOrdinals: ReadonlySet<number>;
  readonly nowMs: number;
  /** A member silent this long is replaced. */
  readonly unhealthyAfterMs: number;
  /** Replacements of each ordinal so far (each one doubles its unhealthy time). */
  readonly replacements: ReadonlyMap<number, number>;
}
