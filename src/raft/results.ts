/**
 * What the core answers to requests from the shell: typed results instead of exceptions, since a
 * dropped proposal is an ordinary operational outcome, not a bug.
 */
import type { LogIndex, NodeId, Term } from '../common/index.js';

/** Why a proposal or read request was not accepted. */
export type DropReason =
  | 'noLeader'
  | 'notLeader'
  | 'leadershipTransferInProgress'
  | 'configurationChangeInProgress'
  | 'invalidConfigurationChange'
  | 'uncommittedBytesLimit'
  | 'pendingReadRequestsLimit'
  | 'notMember';

/** The outcome of `propose` / `proposeConfChange`. */
export type ProposeResult =
  /** Appended to the leader's log at (index, term); it commits unless leadership is lost. */
  | { readonly kind: 'appended'; readonly index: LogIndex; readonly term: Term }
  /** Sent to the leader; the shell learns the outcome by watching applied entries. */
  | { readonly kind: 'forwarded'; readonly leaderId: NodeId }
  | { readonly kind: 'dropped'; readonly reason: DropReason; readonly leaderId: NodeId };

/** The outcome of `readIndex`. The confirmed read arrives later in `Ready.readStates`. */
export type ReadIndexResult =
  | { readonly kind: 'pending' }
  | { readonly kind: 'forwarded'; readonly leaderId: NodeId }
  | { readonly kind: 'dropped'; readonly reason: DropReason; readonly leaderId: NodeId };

/** The outcome of `transferLeadership`. */
export type TransferResult =
  | { readonly kind: 'started'; readonly targetId: NodeId }
  | {
      readonly kind: 'rejected';
      readonly reason: 'notLeader' | 'targetNotVoter' | 'alreadyLeader' | 'transferInProgress';
    };

/** A dropped outcome, shared by proposals and reads. */
export function dropped(
  reason: DropReason,
  leaderId: NodeId,
): { readonly kind: 'dropped'; readonly reason: DropReason; readonly leaderId: NodeId } {
  return { kind: 'dropped', reason, leaderId };
}
