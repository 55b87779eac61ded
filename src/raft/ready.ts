/**
 * The Ready record: everything the core asks its shell to do after some input, listed in the
 * order the shell must do it. The core never performs I/O itself.
 *
 * Obligations, in order, for one Ready:
 *  1. If `snapshot` is set, persist it (and reset the state machine from it) before anything else.
 *  2. Persist `entries` (replacing any stored entries at the same or higher indexes) and
 *     `hardState`. If `mustSync` is true these writes must be durable (fsync) before step 3.
 *  3. Send `messages`. Vote grants and append acknowledgements in it promise that step 2 is
 *     durable, which is why sending waits for it.
 *  4. Apply `committedEntries` to the state machine in order; serve `readStates` once the applied
 *     index reaches each one's `index`.
 *  5. Call `advance()` on the node. Until then the node hands out no new Ready.
 */
import type { LogIndex, NodeId } from '../common/index.js';
import type { Entry, HardState, Snapshot } from './entry.js';
import type { Message } from './message.js';

/** The four roles of a node (Raft §5.2, with the PreVote phase of thesis §9.6). */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the shell may want to observe; it is never persisted. */
export interface SoftState {
  readonly leaderId: NodeId;
  readonly role: Role;
}

/** A completed ReadIndex request: reads with this context are linearizable once applied >= index. */
export interface ReadState {
  readonly index: LogIndex;
  readonly readContext: string;
}

/** See the module comment for the order in which the fields must be handled. */
export interface Ready {
  /** Set when role or known leader changed since the last Ready. */
  readonly softState: SoftState | null;
  /** Set when term, vote or commit index changed since the last Ready; persist it. */
  readonly hardState: HardState | null;
  /** An incoming snapshot to persist and restore before applying anything. */
  readonly snapshot: Snapshot | null;
  /** Entries to append to stable storage, truncating any stored suffix they conflict with. */
  readonly entries: readonly Entry[];
  /** Whether steps 1 and 2 must be fsynced before `messages` are sent. */
  readonly mustSync: boolean;
  /** Messages to send after the writes above are durable. Delivery may fail or reorder. */
  readonly messages: readonly Message[];
  /** Entries known committed and not yet handed out, to apply in order. */
  readonly committedEntries: readonly Entry[];
  /** Read requests whose read index is now confirmed. */
  readonly readStates: readonly ReadState[];
}

/** Whether a hard state differs from another (used to decide what a Ready must carry). */
export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.votedFor === b.votedFor && a.commitIndex === b.commitIndex;
}

/** Whether persisting this hard state change needs an fsync: term and vote do, commit does not. */
export function isSyncNeeded(previous: HardState, next: HardState, entryCount: number): boolean {
  return entryCount > 0 || previous.term !== next.term || previous.votedFor !== next.votedFor;
}
