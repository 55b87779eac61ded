/**
 * Cluster membership as the core sees it: who votes, who only learns, and the changes that move
 * one membership to the next by joint consensus (Raft thesis §4.3). Plain data, no behaviour.
 */
import type { NodeId } from '../common/index.js';

/**
 * The membership in force at some log index.
 *
 * Outside a joint configuration `votersOutgoing` and `learnersNext` are empty. Inside one,
 * decisions need a majority of `voters` (the incoming set) and of `votersOutgoing`.
 * Invariants: no id is both a voter (incoming or outgoing) and a learner; `learnersNext` holds
 * outgoing voters that become learners when the joint configuration is left; every id is > 0.
 */
export interface ConfigurationState {
  /** Incoming voters (the only voters outside a joint configuration). Sorted ascending. */
  readonly voters: readonly NodeId[];
  /** Outgoing voters while joint; empty otherwise. Sorted ascending. */
  readonly votersOutgoing: readonly NodeId[];
  /** Learners: receive the log, never vote, never count toward a quorum. Sorted ascending. */
  readonly learners: readonly NodeId[];
  /** Outgoing voters that turn into learners when the joint configuration is left. */
  readonly learnersNext: readonly NodeId[];
  /** Whether the leader leaves this joint configuration by itself once it is applied. */
  readonly isAutoLeave: boolean;
}

/** One step inside a configuration change. */
export interface MembershipChange {
  readonly kind: 'addVoter' | 'addLearner' | 'removeNode';
  readonly nodeId: NodeId;
}

/**
 * A change of membership as proposed and replicated in a log entry.
 *
 * A non-empty `changes` list enters a joint configuration holding all of them at once (any
 * number of voters and learners); the leader leaves it automatically once it is applied. An empty
 * list is the entry that leaves the joint configuration.
 */
export interface ConfigurationChange {
  readonly changes: readonly MembershipChange[];
}

/** The configuration of a cluster with no members yet (before bootstrap). */
export const EMPTY_CONFIGURATION: ConfigurationState = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  isAutoLeave: false,
};

/** Whether the configuration is joint (an outgoing voter set is present). */
export function isJoint(configuration: ConfigurationState): boolean {
  return configuration.votersOutgoing.length > 0;
}

/** Every member id of the configuration (voters, outgoing voters, learners), sorted, unique. */
export function memberIds(configuration: ConfigurationState): NodeId[] {
  const ids = new Set<NodeId>([
    ...configuration.voters,
    ...configuration.votersOutgoing,
    ...configuration.learners,
    ...configuration.learnersNext,
  ]);
  return [...ids].sort((a, b) => a - b);
}

/** Whether `id` votes in the configuration (incoming or outgoing side). */
export function isVoter(configuration: ConfigurationState, id: NodeId): boolean {
  return configuration.voters.includes(id) || configuration.votersOutgoing.includes(id);
}
