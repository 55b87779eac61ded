/**
 * The messages Raft peers exchange, as a discriminated union on `kind`. The transport module maps
 * them to and from the wire; the core only ever sees these plain records.
 *
 * Every message carries the sender's current term; the receiver handles term changes before it
 * looks at the kind (Raft §5.1).
 */
import type { LogIndex, NodeId, Term } from '../common/index.js';
import type { Entry, Snapshot } from './entry.js';

/** Fields shared by every message. */
interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/** A (pre-)candidate asks for a vote. For pre-votes `term` is the term it would campaign in. */
export interface VoteRequest extends MessageBase {
  readonly kind: 'voteRequest' | 'preVoteRequest';
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  /** Set when the election follows a leadership transfer: voters skip their leader lease. */
  readonly isLeadershipTransfer: boolean;
}

/** The answer to a vote or pre-vote request. */
export interface VoteResponse extends MessageBase {
  readonly kind: 'voteResponse' | 'preVoteResponse';
  readonly isGranted: boolean;
}

/** The leader replicates entries following (`prevLogIndex`, `prevLogTerm`). */
export interface AppendRequest extends MessageBase {
  readonly kind: 'appendRequest';
  readonly prevLogIndex: LogIndex;
  readonly prevLogTerm: Term;
  readonly entries: readonly Entry[];
  readonly leaderCommit: LogIndex;
}

/**
 * A follower's answer to an append request or an installed snapshot.
 *
 * Accepted: `index` is the last index now known to match the leader's log. Rejected: `index` is
 * the `prevLogIndex` that did not match, and (`hintIndex`, `hintTerm`) is the follower's best
 * guess of the last entry that could match, so the leader can skip a whole term at once.
 */
export interface AppendResponse extends MessageBase {
  readonly kind: 'appendResponse';
  readonly isRejected: boolean;
  readonly index: LogIndex;
  readonly hintIndex: LogIndex;
  readonly hintTerm: Term;
}

/** The leader's periodic heartbeat; `readContext` ties it to a ReadIndex round. */
export interface HeartbeatRequest extends MessageBase {
  readonly kind: 'heartbeatRequest';
  readonly leaderCommit: LogIndex;
  readonly readContext: string | null;
}

/** A follower acknowledges a heartbeat, echoing its read context. */
export interface HeartbeatResponse extends MessageBase {
  readonly kind: 'heartbeatResponse';
  readonly readContext: string | null;
}

/** The leader sends a snapshot to a follower whose next entry it has compacted away. */
export interface InstallSnapshotRequest extends MessageBase {
  readonly kind: 'installSnapshotRequest';
  readonly snapshot: Snapshot;
}

/** The leader tells a caught-up transfer target to campaign at once (thesis §3.10). */
export interface TimeoutNowRequest extends MessageBase {
  readonly kind: 'timeoutNowRequest';
}

/** A follower forwards client proposals to the leader it knows. */
export interface ForwardedProposal extends MessageBase {
  readonly kind: 'forwardedProposal';
  readonly commands: readonly Uint8Array[];
}

/** A follower forwards a linearizable read request to the leader. */
export interface ReadIndexRequest extends MessageBase {
  readonly kind: 'readIndexRequest';
  readonly readContext: string;
}

/** The leader answers a forwarded read with the index that is safe to read at. */
export interface ReadIndexResponse extends MessageBase {
  readonly kind: 'readIndexResponse';
  readonly readContext: string;
  readonly readIndex: LogIndex;
}

/** Any message between peers. */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | InstallSnapshotRequest
  | TimeoutNowRequest
  | ForwardedProposal
  | ReadIndexRequest
  | ReadIndexResponse;

/** The `kind` of any message. */
export type MessageKind = Message['kind'];
