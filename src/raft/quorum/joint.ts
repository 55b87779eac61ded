/**
 * Joint quorums (Raft thesis §4.3): while a configuration is joint, every decision needs a
 * majority of the incoming voters and, separately, a majority of the outgoing voters. Built only
 * from the majority functions; owns no state and must not inspect configurations itself. Outside
 * a joint configuration callers pass an empty outgoing set, which never constrains the result.
 */
import type { LogIndex, NodeId } from '../../common/index.js';
import {
  type AckedIndexLookup,
  type VoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
} from './majority.js';

/**
 * Returns the largest log index acknowledged by a majority of `incoming` and by a majority of
 * `outgoing`: the smaller of the two majority indexes. With both sets empty the result is
 * `COMMITTED_INDEX_UNBOUNDED`, which the caller must treat as "no voters", not as an index.
 */
export function jointCommittedIndex(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  acked: AckedIndexLookup,
): LogIndex {
  const incomingIndex = majorityCommittedIndex(incoming, acked);
  const outgoingIndex = majorityCommittedIndex(outgoing, acked);
  return Math.min(incomingIndex, outgoingIndex);
}

/**
 * Decides an election under a joint configuration: 'won' only when both halves won, 'lost' as
 * soon as either half lost, 'pending' otherwise. A voter in both halves casts one vote that
 * counts in each.
 */
export function jointVoteResult(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const incomingResult = majorityVoteResult(incoming, votes);
  const outgoingResult = majorityVoteResult(outgoing, votes);
  if (incomingResult === 'lost' || outgoingResult === 'lost') {
    return 'lost';
  }
  if (incomingResult === 'won' && outgoingResult === 'won') {
    return 'won';
  }
  return 'pending';
}
