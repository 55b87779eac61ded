/**
 * Every knob of one simulation run, and how a seed chooses them ("swarm testing": each seed
 * draws its own cluster size, fault rates and flow-control limits, so a sweep covers calm and
 * violent runs, tiny and default message caps, rare and frequent crashes). The choice uses its
 * own PRNG stream, so it never shifts any other stream. Callers may override any part.
 */
import type { DeliberateBugs, Prng } from '../../src/raft/index.js';
import { IN_FLIGHT_MESSAGES_MAX_DEFAULT, type NetworkOptions } from './network.js';
import { chance, intBetween, pick } from './seed-streams.js';

/** Shape of the cluster and of every core in it. */
export interface ClusterOptions {
  /** Founding voters, ids 1..votersInitialCount. */
  readonly votersInitialCount: number;
  /** Node ids ever used are 1..nodeIdsMax; ids are never reused (a lost member rejoins anew). */
  readonly nodeIdsMax: number;
  /** Most members (voters and learners) at once. */
  readonly membersMax: number;
  /** Fewest voters a removal may leave. */
  readonly votersMin: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly isPreVoteEnabled: boolean;
  readonly isCheckQuorumEnabled: boolean;
  readonly inflightMessagesMax: number;
  readonly appendRequestBytesMax: number;
  readonly committedEntriesBytesMax: number;
  readonly uncommittedBytesMax: number;
  readonly pendingReadRequestsMax: number;
  readonly deliberateBugs: DeliberateBugs;
}

/** Crash and clock faults. Probabilities are per tick unless noted. */
export interface FaultOptions {
  /** A running node crashes (one at most per tick). */
  readonly crashProbability: number;
  /** Crashes wait while this many nodes are down. */
  readonly crashedNodesMax: number;
  readonly restartDelayTicksMin: number;
  readonly restartDelayTicksMax: number;
  /** Per Ready with messages: the node crashes after persisting, before sending. */
  readonly crashBeforeSendProbability: number;
  /** Per unsynced write at a crash: it reached the disk anyway (a prefix survives). */
  readonly unsyncedWriteSurvivalProbability: number;
  /** Per node and tick: its clock misses the tick (clock drift between nodes). */
  readonly tickSkipProbability: number;
}

/** When nodes compact their logs into snapshots. */
export interface CompactionOptions {
  /** Applied entries beyond the snapshot before a node considers compacting. */
  readonly entriesThreshold: number;
  /** Per node and tick once over the threshold. */
  readonly probability: number;
}

/** The membership changes the driver may propose. */
export type MembershipAction =
  | 'addLearner'
  | 'promoteLearner'
  | 'removeVoter'
  | 'removeLearner'
  | 'replaceVoter'
  | 'addTwoVoters'
  | 'removeTwoVoters';

/** How often membership changes and leadership transfers happen. Per tick. */
export interface MembershipOptions {
  readonly changeProbability: number;
  readonly actionWeights: Readonly<Record<MembershipAction, number>>;
  readonly transferProbability: number;
  /**
   * A node that left the membership keeps running for up to this long before it is shut down,
   * possibly unaware that it was removed: it must not disrupt the rest (thesis §4.2.3).
   */
  readonly departedLingerTicksMax: number;
}

/** The kinds of client operation. */
export type OperationKind = 'put' | 'get' | 'delete' | 'getThroughLog';

/** The client workload. */
export interface WorkloadOptions {
  readonly clientsCount: number;
  readonly keysCount: number;
  /** A client gives up on an operation after this long; it stays incomplete in the history. */
  readonly operationTimeoutTicks: number;
  /** Pause between a client's operations, drawn from [0, thinkTicksMax]. */
  readonly thinkTicksMax: number;
  readonly operationWeights: Readonly<Record<OperationKind, number>>;
}

/** Everything one run needs besides its seed. */
export interface SimulationOptions {
  readonly cluster: ClusterOptions;
  readonly network: NetworkOptions;
  readonly faults: FaultOptions;
  readonly compaction: CompactionOptions;
  readonly membership: MembershipOptions;
  readonly workload: WorkloadOptions;
  /** Ticks of the safety phase (faults and membership changes on). */
  readonly safetyTicks: number;
  /**
   * Ticks the liveness phase allows for a new proposal to commit, before the allowance for
   * replicating the uncommitted backlog at the configured flow-control rate (liveness.ts).
   */
  readonly livenessTicksMax: number;
}

/**
 * How violent the faults of a run are. 'swarm' draws every rate per seed, from calm to rough.
 * 'crashHeavy' keeps the seed's other choices but makes nodes crash often, one Ready in five
 * between persisting and sending, with single-entry append requests: a new leader's entries then
 * often stay on its own disk, the setting of Raft's Figure 8, where bugs in the commit and vote
 * rules show up end to end.
 */
export type FaultProfile = 'swarm' | 'crashHeavy';

/** Ticks of the safety phase unless overridden. */
export const SAFETY_TICKS_DEFAULT = 2_000;

/** Liveness bound, in election timeouts. */
export const LIVENESS_ELECTION_TIMEOUTS_MAX = 40;

/** Draws the options of one run from its `options` PRNG stream. */
export function deriveSimulationOptions(
  prng: Prng,
  deliberateBugs: DeliberateBugs,
  safetyTicks: number,
  profile: FaultProfile = 'swarm',
): SimulationOptions {
  const options = deriveSwarmOptions(prng, deliberateBugs, safetyTicks);
  return profile === 'crashHeavy' ? intensifyCrashes(options) : options;
}

/** The 'crashHeavy' profile applied to options drawn by the swarm. */
function intensifyCrashes(options: SimulationOptions): SimulationOptions {
  return {
    ...options,
    cluster: { ...options.cluster, appendRequestBytesMax: 1 },
    faults: {
      ...options.faults,
      crashProbability: 0.05,
      crashBeforeSendProbability: 0.2,
      crashedNodesMax: 2,
      restartDelayTicksMin: 1,
      restartDelayTicksMax: 15,
    },
  };
}

function deriveSwarmOptions(
  prng: Prng,
  deliberateBugs: DeliberateBugs,
  safetyTicks: number,
): SimulationOptions {
  const cluster = deriveClusterOptions(prng, deliberateBugs);
  return {
    cluster,
    network: deriveNetworkOptions(prng),
    faults: deriveFaultOptions(prng, cluster),
    compaction: {
      entriesThreshold: pick(prng, [5, 20, 50, 200]),
      probability: pick(prng, [0.05, 0.2, 1]),
    },
    membership: deriveMembershipOptions(prng),
    workload: {
      clientsCount: intBetween(prng, 2, 6),
      keysCount: intBetween(prng, 1, 4),
      operationTimeoutTicks: cluster.electionTimeoutTicks * pick(prng, [3, 6, 10]),
      thinkTicksMax: pick(prng, [0, 3, 10]),
      operationWeights: { put: 40, get: 35, delete: 10, getThroughLog: 5 },
    },
    safetyTicks,
    livenessTicksMax: LIVENESS_ELECTION_TIMEOUTS_MAX * cluster.electionTimeoutTicks,
  };
}

function deriveClusterOptions(prng: Prng, deliberateBugs: DeliberateBugs): ClusterOptions {
  const votersInitialCount = pick(prng, [3, 3, 5]);
  return {
    votersInitialCount,
    nodeIdsMax: votersInitialCount + 8,
    membersMax: 7,
    votersMin: 3,
    electionTimeoutTicks: pick(prng, [5, 10, 10, 20]),
    heartbeatIntervalTicks: pick(prng, [1, 2]),
    isPreVoteEnabled: pick(prng, [true, true, false]),
    isCheckQuorumEnabled: pick(prng, [true, true, false]),
    inflightMessagesMax: pick(prng, [1, 4, 256]),
    // 1 byte: every append request carries exactly one entry.
    appendRequestBytesMax: pick(prng, [1, 300, 1024 * 1024]),
    committedEntriesBytesMax: pick(prng, [1, 16 * 1024 * 1024]),
    // Small caps make the leader drop proposals and reads (typed reasons the clients see).
    uncommittedBytesMax: pick(prng, [512, 64 * 1024, 64 * 1024 * 1024]),
    pendingReadRequestsMax: pick(prng, [1, 16, 4096]),
    deliberateBugs,
  };
}

function deriveNetworkOptions(prng: Prng): NetworkOptions {
  const oneWayDelayMaxTicks = pick(prng, [1, 2, 3, 5]);
  return {
    oneWayDelayMinTicks: 1,
    oneWayDelayMaxTicks,
    delayLongProbability: pick(prng, [0, 0.001, 0.01]),
    delayLongTicksMax: pick(prng, [60, 300]),
    lossProbability: pick(prng, [0, 0.01, 0.05, 0.15]),
    duplicationProbability: pick(prng, [0, 0.01, 0.05]),
    partitionProbability: pick(prng, [0, 0.002, 0.01, 0.03]),
    unpartitionProbability: pick(prng, [0.01, 0.03, 0.1]),
    partitionStabilityTicksMin: pick(prng, [5, 20, 50]),
    unpartitionStabilityTicksMin: pick(prng, [5, 20, 50]),
    partitionModeWeights: {
      symmetric: 3,
      oneWay: 2,
      leaderIsolation: chance(prng, 0.5) ? 3 : 1,
    },
    inFlightMessagesMax: IN_FLIGHT_MESSAGES_MAX_DEFAULT,
  };
}

function deriveFaultOptions(prng: Prng, cluster: ClusterOptions): FaultOptions {
  return {
    crashProbability: pick(prng, [0, 0.002, 0.005, 0.02, 0.05]),
    crashedNodesMax: pick(prng, [1, 2, cluster.votersInitialCount]),
    restartDelayTicksMin: 1,
    restartDelayTicksMax: pick(prng, [5, 30, 100]),
    crashBeforeSendProbability: pick(prng, [0, 0.001, 0.01, 0.05, 0.2]),
    unsyncedWriteSurvivalProbability: pick(prng, [0, 0.5]),
    tickSkipProbability: pick(prng, [0, 0.02, 0.1]),
  };
}

function deriveMembershipOptions(prng: Prng): MembershipOptions {
  return {
    // Never 0: every seed mixes membership changes into its faults.
    changeProbability: pick(prng, [0.002, 0.005, 0.01, 0.03]),
    actionWeights: {
      addLearner: 3,
      promoteLearner: 3,
      removeVoter: 2,
      removeLearner: 1,
      replaceVoter: 2,
      addTwoVoters: 1,
      removeTwoVoters: 1,
    },
    transferProbability: pick(prng, [0, 0.002, 0.01]),
    departedLingerTicksMax: pick(prng, [0, 50, 500]),
  };
}
