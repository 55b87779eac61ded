/**
 * The metrics of one raftkv node (DESIGN.md §9) behind a small typed facade, so that the server
 * states what happened (`setRole('leader')`, `observeFsyncSeconds(s)`) and never touches
 * prom-client. Every metric lives in the node's own {@link Registry}, never in prom-client's
 * global one, so two nodes in one process (tests, the local launcher) do not share series.
 * This file must not decide when something is counted: the server's loop, storage observer and
 * gRPC services call the facade.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { LogIndex, NodeId, Term } from '../common/index.js';
import { LATENCY_BUCKETS_SECONDS, SNAPSHOT_BUCKETS_SECONDS } from './metric-buckets.js';

/**
 * The values of the `role` label of `raftkv_raft_role`: the core's four roles. A learner is not a
 * role here: it runs as a follower that does not vote, and membership (not the role gauge) says
 * whether a member is a learner.
 */
export const NODE_ROLES = ['follower', 'preCandidate', 'candidate', 'leader'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** Why a node started an election (the `reason` label; both series exist from the start). */
export const ELECTION_REASONS = ['electionTimeout', 'leadershipTransfer'] as const;
export type ElectionReason = (typeof ELECTION_REASONS)[number];

/** Options of {@link createNodeMetrics}. */
export interface NodeMetricsOptions {
  /** The registry to fill; a new one by default. Never pass prom-client's global `register`. */
  readonly registry?: Registry;
  /** The `version` label of `raftkv_build_info`; `unknown` by default. */
  readonly version?: string;
  /** Also collect prom-client's default process and Node.js metrics; off by default. */
  readonly isProcessMetricsEnabled?: boolean;
  /** An apply at least this long counts in `raftkv_server_slow_apply_total`; 0.1 s by default. */
  readonly slowApplySeconds?: number;
}

/** The node's metrics. Methods never throw for valid numbers and may be called at any rate. */
export interface NodeMetrics {
  /** The registry every metric lives in (for tests and for merging; the server uses `text`). */
  readonly registry: Registry;
  /** The `Content-Type` of {@link NodeMetrics.text}'s output. */
  readonly contentType: string;
  /** Every metric in the Prometheus text exposition format, for `GET /metrics`. */
  text(): Promise<string>;

  /** Sets `raftkv_raft_role{role}` (1 for `role`, 0 for the others) and `raftkv_server_is_leader`. */
  setRole(role: NodeRole): void;
  /**
   * The leader this node knows (0: none). Sets `raftkv_server_has_leader` and counts
   * `raftkv_server_leader_changes_seen_total` when a leader appears that differs from the one
   * known before (as etcd does: losing a leader and finding it again counts).
   */
  setLeader(leaderId: NodeId): void;
  setTerm(term: Term): void;
  setCommitIndex(index: LogIndex): void;
  setAppliedIndex(index: LogIndex): void;
  setLastLogIndex(index: LogIndex): void;
  /** Proposals waiting for commit (`raftkv_raft_proposals_pending`). */
  setProposalsPending(count: number): void;

  /** This node became (pre-)candidate. */
  electionStarted(reason: ElectionReason): void;
  proposalsCommitted(count: number): void;
  proposalsFailed(count: number): void;
  /** One WAL fdatasync took `seconds`; also counts `raftkv_wal_fsyncs_total`. */
  observeFsyncSeconds(seconds: number): void;
  /** Writing one snapshot file (through its rename and directory sync) took `seconds`. */
  observeSnapshotSaveSeconds(seconds: number): void;
  /** A snapshot received from the leader was installed. */
  snapshotInstalled(): void;
  /** Applying one batch of committed entries took `seconds`; slow ones are counted. */
  observeApplySeconds(seconds: number): void;
  /** `count` linearizable reads were asked of the leader again: their request went unanswered. */
  readIndexRetried(count: number): void;

  /** A round trip to `peer` (a heartbeat and its answer) took `seconds`. */
  observePeerRoundTripSeconds(peer: NodeId, seconds: number): void;
  /** The leader's match index of follower `peer`. */
  setFollowerMatchIndex(peer: NodeId, index: LogIndex): void;
  /** Drops every `peer`-labelled series of a member that left the configuration. */
  removePeer(peer: NodeId): void;
  /** Drops all follower match indexes (this node stopped being leader). */
  clearFollowerMatchIndexes(): void;

  /**
   * One client call finished. `method` is the gRPC method path without the leading slash
   * (`etcdserverpb.KV/Range`); `code` the status name (`OK`, `INVALID_ARGUMENT`, ...).
   */
  grpcHandled(method: string, code: string, seconds: number): void;
}

const SLOW_APPLY_SECONDS_DEFAULT = 0.1;

/** Builds every node metric in `options.registry` (a new registry by default). */
export function createNodeMetrics(options: NodeMetricsOptions = {}): NodeMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const slowApplySeconds = options.slowApplySeconds ?? SLOW_APPLY_SECONDS_DEFAULT;
  const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers });
  const counter = (name: string, help: string): Counter => new Counter({ name, help, registers });

  const term = gauge('raftkv_raft_term', 'Current Raft term of this node.');
  const role = new Gauge({
    name: 'raftkv_raft_role',
    help: 'Raft role of this node: 1 for the current role, 0 for the others.',
    labelNames: ['role'],
    registers,
  });
  const commitIndex = gauge('raftkv_raft_commit_index', 'Highest log index known committed.');
  const appliedIndex = gauge('raftkv_raft_applied_index', 'Highest log index applied.');
  const lastLogIndex = gauge('raftkv_raft_last_log_index', 'Index of the last entry in the log.');
  const hasLeader = gauge('raftkv_server_has_leader', '1 if this node knows a leader, else 0.');
  const isLeader = gauge('raftkv_server_is_leader', '1 if this node is the leader, else 0.');
  const leaderChanges = counter(
    'raftkv_server_leader_changes_seen_total',
    'Times this node saw a new leader.',
  );
  const electionsStarted = new Counter({
    name: 'raftkv_raft_elections_started_total',
    help: 'Elections (pre-vote or vote) this node started, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const proposalsCommittedTotal = counter(
    'raftkv_raft_proposals_committed_total',
    'Proposals committed (entries this node saw committed).',
  );
  const proposalsFailedTotal = counter(
    'raftkv_raft_proposals_failed_total',
    'Proposals that failed: refused, dropped or timed out.',
  );
  const proposalsPending = gauge('raftkv_raft_proposals_pending', 'Proposals waiting for commit.');
  const fsyncDuration = new Histogram({
    name: 'raftkv_wal_fsync_duration_seconds',
    help: 'Duration of WAL fdatasync calls.',
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers,
  });
  const fsyncs = counter('raftkv_wal_fsyncs_total', 'WAL fdatasync calls completed.');
  const snapshotSaveDuration = new Histogram({
    name: 'raftkv_snapshot_save_duration_seconds',
    help: 'Duration of writing a snapshot file until it is durable.',
    buckets: [...SNAPSHOT_BUCKETS_SECONDS],
    registers,
  });
  const snapshotInstalls = counter(
    'raftkv_snapshot_install_total',
    'Snapshots received from the leader and installed.',
  );
  const slowApplies = counter(
    'raftkv_server_slow_apply_total',
    `Applies of committed entries that took ${slowApplySeconds} s or longer.`,
  );
  const readIndexRetries = counter(
    'raftkv_server_read_index_retries_total',
    'Linearizable reads a follower asked the leader for again after no answer came.',
  );
  const peerRoundTrip = new Histogram({
    name: 'raftkv_peer_round_trip_time_seconds',
    help: 'Round trip time of messages to each peer.',
    labelNames: ['peer'],
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers,
  });
  const followerMatchIndex = new Gauge({
    name: 'raftkv_raft_follower_match_index',
    help: "The leader's match index of each follower (only on the leader).",
    labelNames: ['peer'],
    registers,
  });
  const grpcHandledTotal = new Counter({
    name: 'raftkv_grpc_handled_total',
    help: 'Client gRPC calls completed, by method and status code.',
    labelNames: ['method', 'code'],
    registers,
  });
  const grpcHandling = new Histogram({
    name: 'raftkv_grpc_handling_seconds',
    help: 'Time from receiving a client gRPC call to sending its answer.',
    labelNames: ['method'],
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers,
  });
  const buildInfo = new Gauge({
    name: 'raftkv_build_info',
    help: 'Always 1; the version label names the running raftkv build.',
    labelNames: ['version'],
    registers,
  });

  buildInfo.set({ version: options.version ?? 'unknown' }, 1);

  for (const reason of ELECTION_REASONS) electionsStarted.inc({ reason }, 0);
  if (options.isProcessMetricsEnabled === true) collectDefaultMetrics({ register: registry });

  let knownLeaderId: NodeId = 0;
  const setRole = (current: NodeRole): void => {
    for (const candidate of NODE_ROLES)
      role.set({ role: candidate }, candidate === current ? 1 : 0);
    isLeader.set(current === 'leader' ? 1 : 0);
  };
  setRole('follower');
  hasLeader.set(0);

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    setRole,
    setLeader(leaderId) {
      if (leaderId !== 0 && leaderId !== knownLeaderId) leaderChanges.inc();
      knownLeaderId = leaderId;
      hasLeader.set(leaderId === 0 ? 0 : 1);
    },
    setTerm: (value) => term.set(value),
    setCommitIndex: (value) => commitIndex.set(value),
    setAppliedIndex: (value) => appliedIndex.set(value),
    setLastLogIndex: (value) => lastLogIndex.set(value),
    setProposalsPending: (count) => proposalsPending.set(count),
    electionStarted: (reason) => electionsStarted.inc({ reason }),
    proposalsCommitted: (count) => proposalsCommittedTotal.inc(count),
    proposalsFailed: (count) => proposalsFailedTotal.inc(count),
    observeFsyncSeconds(seconds) {
      fsyncDuration.observe(seconds);
      fsyncs.inc();
    },
    observeSnapshotSaveSeconds: (seconds) => snapshotSaveDuration.observe(seconds),
    snapshotInstalled: () => snapshotInstalls.inc(),
    observeApplySeconds(seconds) {
      if (seconds >= slowApplySeconds) slowApplies.inc();
    },
    readIndexRetried: (count) => readIndexRetries.inc(count),
    observePeerRoundTripSeconds: (peer, seconds) =>
      peerRoundTrip.observe({ peer: String(peer) }, seconds),
    setFollowerMatchIndex: (peer, index) => followerMatchIndex.set({ peer: String(peer) }, index),
    removePeer(peer) {
      const labels = { peer: String(peer) };
      peerRoundTrip.remove(labels);
      followerMatchIndex.remove(labels);
    },
    clearFollowerMatchIndexes: () => followerMatchIndex.reset(),
    grpcHandled(method, code, seconds) {
      grpcHandledTotal.inc({ method, code });
      grpcHandling.observe({ method }, seconds);
    },
  };
}
