/**
 * A read-only picture of a core, for the shell's metrics, the CLI and tests.
 */
import type { LogIndex, NodeId, Term } from '../common/index.js';
import type { ConfigurationState } from './configuration.js';
import type { Role } from './ready.js';

/** The leader's view of one member's replication. */
export interface ProgressStatus {
  readonly matchIndex: LogIndex;
  readonly nextIndex: LogIndex;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly isLearner: boolean;
  readonly isRecentlyActive: boolean;
}

/** A snapshot of a core's state at one moment. */
export interface Status {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly votedFor: NodeId;
  /** 0 when no leader is known. */
  readonly leaderId: NodeId;
  readonly commitIndex: LogIndex;
  /** Highest index handed out for applying and acknowledged by `advance()`. */
  readonly appliedIndex: LogIndex;
  readonly firstIndex: LogIndex;
  readonly lastIndex: LogIndex;
  /** Membership as of `appliedIndex`: what a snapshot taken at that index must record. */
  readonly configuration: ConfigurationState;
  /** Target of a leadership transfer in progress; 0 if none. */
  readonly leadershipTransfereeId: NodeId;
  /** Per member, only on the leader. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus> | null;
}
