/**
 * How a core is configured. Every timing is in logical ticks: the shell decides how long a tick
 * is (the node uses 100 ms by default) and calls `tick()` that often.
 */
import { assert, type Logger, type LogIndex, type NodeId } from '../common/index.js';
import type { LogStorage } from './log-storage.js';
import type { Prng } from './prng.js';

/**
 * Deliberately broken behaviours, used only by tests that prove the simulator's checkers catch
 * real bugs. Production code never sets them.
 */
export interface DeliberateBugs {
  /** Commit an entry of an earlier term by counting its replicas (violates Raft Figure 8). */
  readonly isCommitByCountingPreviousTerm?: boolean;
  /** Grant votes without asking the shell to fsync the vote first. */
  readonly isVoteGrantedWithoutSync?: boolean;
}

/** Options for {@link RawNode.create}. */
export interface RaftOptions {
  /** This node's id; > 0. */
  readonly id: NodeId;
  /** The persisted log; the core reads it, the shell writes it. */
  readonly storage: LogStorage;
  /** Randomness for election timeouts. Inject a seeded one for reproducible runs. */
  readonly prng: Prng;
  readonly logger?: Logger;
  /** Base election timeout; the actual one is drawn from [base, 2*base). */
  readonly electionTimeoutTicks?: number;
  /** Leader heartbeat interval; must be smaller than the election timeout. */
  readonly heartbeatIntervalTicks?: number;
  /** Run a pre-vote round before raising the term (thesis §9.6). */
  readonly isPreVoteEnabled?: boolean;
  /** Leader steps down without a quorum's contact in an election timeout; voters keep a lease. */
  readonly isCheckQuorumEnabled?: boolean;
  /** Append requests in flight to one follower before the leader waits for acknowledgements. */
  readonly inflightMessagesMax?: number;
  /** Cap on entry bytes in flight to one follower (0: no cap beyond the message count). */
  readonly inflightBytesMax?: number;
  /** Cap on the entry bytes carried by one append request (at least one entry is always sent). */
  readonly appendRequestBytesMax?: number;
  /** Cap on bytes of proposals appended but not yet committed, beyond which proposals drop. */
  readonly uncommittedBytesMax?: number;
  /** Read requests the leader queues while it has not yet committed an entry in its term. */
  readonly pendingReadRequestsMax?: number;
  /** Index already applied by the state machine (after a restart); defaults to the snapshot. */
  readonly appliedIndex?: LogIndex;
  /** Cap on entry bytes handed out in one Ready's committedEntries. */
  readonly committedEntriesBytesMax?: number;
  readonly deliberateBugs?: DeliberateBugs;
}

/** Options with every default filled in. */
export type ResolvedRaftOptions = Required<Omit<RaftOptions, 'appliedIndex'>> & {
  readonly appliedIndex: LogIndex | null;
};

export const ELECTION_TIMEOUT_TICKS_DEFAULT = 10;
export const HEARTBEAT_INTERVAL_TICKS_DEFAULT = 1;
export const INFLIGHT_MESSAGES_MAX_DEFAULT = 256;
export const APPEND_REQUEST_BYTES_MAX_DEFAULT = 1024 * 1024;
export const UNCOMMITTED_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
export const PENDING_READ_REQUESTS_MAX_DEFAULT = 4096;
export const COMMITTED_ENTRIES_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;

/** Fills defaults and checks the options make sense. */
export function resolveRaftOptions(
  options: RaftOptions,
  silentLogger: Logger,
): ResolvedRaftOptions {
  const resolved: ResolvedRaftOptions = {
    id: options.id,
    storage: options.storage,
    prng: options.prng,
    logger: options.logger ?? silentLogger,
    electionTimeoutTicks: options.electionTimeoutTicks ?? ELECTION_TIMEOUT_TICKS_DEFAULT,
    heartbeatIntervalTicks: options.heartbeatIntervalTicks ?? HEARTBEAT_INTERVAL_TICKS_DEFAULT,
    isPreVoteEnabled: options.isPreVoteEnabled ?? true,
    isCheckQuorumEnabled: options.isCheckQuorumEnabled ?? true,
    inflightMessagesMax: options.inflightMessagesMax ?? INFLIGHT_MESSAGES_MAX_DEFAULT,
    inflightBytesMax: options.inflightBytesMax ?? 0,
    appendRequestBytesMax: options.appendRequestBytesMax ?? APPEND_REQUEST_BYTES_MAX_DEFAULT,
    uncommittedBytesMax: options.uncommittedBytesMax ?? UNCOMMITTED_BYTES_MAX_DEFAULT,
    pendingReadRequestsMax: options.pendingReadRequestsMax ?? PENDING_READ_REQUESTS_MAX_DEFAULT,
    appliedIndex: options.appliedIndex ?? null,
    committedEntriesBytesMax:
      options.committedEntriesBytesMax ?? COMMITTED_ENTRIES_BYTES_MAX_DEFAULT,
    deliberateBugs: options.deliberateBugs ?? {},
  };
  assert(resolved.id > 0, 'node id must be > 0');
  assert(resolved.heartbeatIntervalTicks >= 1, 'heartbeat interval must be >= 1 tick');
  assert(
    resolved.electionTimeoutTicks > resolved.heartbeatIntervalTicks,
    'election timeout must exceed the heartbeat interval',
  );
  assert(resolved.inflightMessagesMax >= 1, 'inflightMessagesMax must be >= 1');
  assert(resolved.appendRequestBytesMax >= 1, 'appendRequestBytesMax must be >= 1');
  return resolved;
}
