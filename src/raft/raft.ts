/**
 * The state of one Raft participant and its role transitions (§5.2): become follower,
 * pre-candidate, candidate or leader. Message handlers live in roles/, ticking in tick.ts, the
 * term rules in step.ts. Everything here is synchronous and deterministic: time is the tick
 * count, randomness comes from the injected Prng, output is queued in `outbox`.
 */
import {
  assert,
  type Logger,
  NO_NODE,
  type NodeId,
  SILENT_LOGGER,
  type Term,
} from '../common/index.js';
import { type ConfigurationState, isVoter } from './configuration.js';
import { enterJoint, leaveJoint } from './confchange/index.js';
import type { Message } from './message.js';
import { type RaftOptions, type ResolvedRaftOptions, resolveRaftOptions } from './raft-options.js';
import { RaftLog } from './raft-log.js';
import { ReadIndexQueue } from './read-index-queue.js';
import type { ReadState, Role } from './ready.js';
import { ProgressTracker } from './progress-tracker.js';

/** A read waiting for the new leader's first commit in its term (thesis §6.4 step 1). */
export interface ReadAwaitingCommit {
  readonly readContext: string;
  readonly requesterId: NodeId;
}

/** Why a node became a follower; logged with the term. */
export type FollowerReason =
  | 'start'
  | 'higherTerm'
  | 'leaderSeen'
  | 'electionLost'
  | 'quorumLost'
  | 'removedFromConfiguration';

/** One participant's mutable state. Roles and handlers operate on it. */
export class Raft {
  readonly id: NodeId;
  readonly options: ResolvedRaftOptions;
  readonly logger: Logger;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  term: Term;
  votedFor: NodeId;
  role: Role = 'follower';
  leaderId: NodeId = NO_NODE;
  electionElapsedTicks = 0;
  heartbeatElapsedTicks = 0;
  randomizedElectionTimeoutTicks = 0;
  /** Target of a leadership transfer in progress (§3.10 of the thesis); NO_NODE if none. */
  leadershipTransfereeId: NodeId = NO_NODE;
  /** Index of the latest configuration entry appended by this leader; none may follow it
   *  until it is applied (one change in flight). */
  pendingConfigurationIndex = 0;
  /** Bytes of proposals this leader appended that are not yet handed out for applying. */
  uncommittedBytes = 0;
  readonly readIndexQueue = new ReadIndexQueue();
  readsAwaitingCommit: ReadAwaitingCommit[] = [];
  /** Set when the leader appended entries that followers have not been sent yet. Appends are
   *  broadcast once per Ready, so many proposals share one append request. */
  isAppendBroadcastPending = false;
  /** Set when reads were queued that the next heartbeat round must confirm. */
  isReadHeartbeatPending = false;
  /** Proposals a follower will forward to its leader with the next Ready. Bounded by the
   *  uncommitted-bytes limit. */
  forwardedCommands: Uint8Array[] = [];
  forwardedBytes = 0;
  /** Messages to send, in order; taken by the next Ready. */
  outbox: Message[] = [];
  /** Confirmed reads; taken by the next Ready. */
  readStates: ReadState[] = [];

  constructor(options: RaftOptions) {
    this.options = resolveRaftOptions(options, SILENT_LOGGER);
    this.id = this.options.id;
    this.logger = this.options.logger;
    const { storage } = this.options;
    const initial = storage.initialState();
    this.log = new RaftLog(storage, initial.hardState.commitIndex, this.options.appliedIndex);
    this.tracker = new ProgressTracker({
      inflightMessagesMax: this.options.inflightMessagesMax,
      inflightBytesMax: this.options.inflightBytesMax,
    });
    this.tracker.setConfiguration(
      configurationAtApplied(this.log, initial.configuration),
      this.log.lastIndex(),
    );
    this.term = initial.hardState.term;
    this.votedFor = initial.hardState.votedFor;
    this.becomeFollower(this.term, NO_NODE, 'start');
  }

  /**
   * Queues a message. Callers write `from`, `to` and `term` out rather than spreading a shared
   * header: object spread on this path cost a quarter of the core's time (bench:core).
   */
  send(message: Message): void {
    assert(message.to !== this.id, 'a node never sends to itself');
    this.outbox.push(message);
  }

  /** Whether this node may campaign: it is a voter in the configuration it has applied. */
  isPromotable(): boolean {
    return isVoter(this.tracker.configuration, this.id);
  }

  isPastElectionTimeout(): boolean {
    return this.electionElapsedTicks >= this.randomizedElectionTimeoutTicks;
  }

  becomeFollower(term: Term, leaderId: NodeId, reason: FollowerReason): void {
    const previousRole = this.role;
    this.reset(term);
    this.role = 'follower';
    this.leaderId = leaderId;
    if (previousRole !== 'follower' || reason !== 'leaderSeen') {
      this.logRoleChange(reason, previousRole);
    }
  }

  /** Pre-candidates ask for votes for term+1 without raising their own term (thesis §9.6). */
  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    const previousRole = this.role;
    this.tracker.resetVotes();
    this.role = 'preCandidate';
    this.leaderId = NO_NODE;
    this.logRoleChange('electionTimeout', previousRole);
  }

  becomeCandidate(reason: 'electionTimeout' | 'leadershipTransfer'): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    const previousRole = this.role;
    this.reset(this.term + 1);
    this.votedFor = this.id;
    this.role = 'candidate';
    this.logRoleChange(reason, previousRole);
  }

  /** Role bookkeeping of winning an election; roles/leader.ts appends the no-op entry. */
  becomeLeaderState(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    const previousRole = this.role;
    this.reset(this.term);
    this.role = 'leader';
    this.leaderId = this.id;
    const lastIndex = this.log.lastIndex();
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.isRecentlyActive = true;
      self.maybeUpdate(lastIndex);
    }
    // Any configuration entry in the uncommitted tail may be pending: allow no new change
    // until everything up to here is applied.
    this.pendingConfigurationIndex = lastIndex;
    this.logRoleChange('electionWon', previousRole);
  }

  /** Resets volatile per-term state; a new term also clears the vote. */
  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term;
      this.votedFor = NO_NODE;
    }
    this.leaderId = NO_NODE;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.resetRandomizedElectionTimeout();
    this.leadershipTransfereeId = NO_NODE;
    this.tracker.resetVotes();
    this.tracker.resetProgress(this.log.lastIndex());
    this.pendingConfigurationIndex = 0;
    this.uncommittedBytes = 0;
    this.readIndexQueue.clear();
    this.readsAwaitingCommit = [];
    this.isAppendBroadcastPending = false;
    this.isReadHeartbeatPending = false;
    this.forwardedCommands = [];
    this.forwardedBytes = 0;
  }

  /** Draws the next election timeout from [base, 2 * base) (§5.2). */
  resetRandomizedElectionTimeout(): void {
    const base = this.options.electionTimeoutTicks;
    this.randomizedElectionTimeoutTicks = base + this.options.prng.nextInt(base);
  }

  private logRoleChange(reason: string, previousRole: Role): void {
    this.logger.info(
      { nodeId: this.id, term: this.term, role: this.role, previousRole, reason },
      `became ${this.role}`,
    );
  }
}

/**
 * The membership as of the applied index: the snapshot's, plus every configuration entry between
 * the snapshot and the applied index (they took effect when they were applied before a restart).
 */
function configurationAtApplied(log: RaftLog, snapshotConfiguration: ConfigurationState) {
  let configuration = snapshotConfiguration;
  const snapshotIndex = log.firstIndex() - 1;
  if (log.applied <= snapshotIndex) return configuration;
  const entries = log.slice(snapshotIndex + 1, log.applied + 1, Number.MAX_SAFE_INTEGER);
  assert(entries !== 'compacted', 'entries after the snapshot must be stored');
  for (const entry of entries) {
    if (entry.kind !== 'configurationChange') continue;
    const { changes } = entry.change;
    const next =
      changes.length === 0 ? leaveJoint(configuration) : enterJoint(configuration, entry.change);
    if ('kind' in next) assert(false, `stored configuration change is invalid: ${next.message}`);
    configuration = next;
  }
  return configuration;
}
