/**
 * Majority quorums over one voter set: the commit index a majority has acknowledged and the
 * outcome of an election (Raft thesis §3.4, §3.6). Pure functions of their arguments. This module
 * owns no state and must not know about joint configurations, progress or messages; callers pass
 * lookups so the hot path allocates nothing.
 */
import type { LogIndex, NodeId } from '../../common/index.js';

/** The outcome of counting votes: decided either way, or still open. */
export type VoteResult = 'won' | 'lost' | 'pending';

/** Tells the highest log index a voter is known to hold, or `undefined` if unknown. */
export type AckedIndexLookup = (id: NodeId) => LogIndex | undefined;

/**
 * The committed index reported for an empty voter set. It is the identity of `min`, so the empty
 * outgoing half of a non-joint configuration never holds back the incoming half.
 */
export const COMMITTED_INDEX_UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** Voter sets up to this size sort in a reused buffer; larger ones grow it once. */
const SCRATCH_VOTERS_COUNT_INITIAL = 16;

// NB: shared scratch space is safe because the core is synchronous and these functions never
// call back into each other while the buffer is in use (the lookup only reads progress).
let scratchIndexes = new Float64Array(SCRATCH_VOTERS_COUNT_INITIAL);

/** The number of votes that makes a majority of `votersCount` voters. */
function quorumCount(votersCount: number): number {
  return Math.floor(votersCount / 2) + 1;
}

/**
 * Returns the largest log index that a majority of `voters` has acknowledged.
 *
 * A voter for which `acked` returns `undefined` counts as having acknowledged index 0. An empty
 * voter set returns {@link COMMITTED_INDEX_UNBOUNDED}. `voters` must hold distinct ids. The caller
 * still has to check the entry's term before committing it (§3.6.2); this is only a count.
 */
export function majorityCommittedIndex(
  voters: readonly NodeId[],
  acked: AckedIndexLookup,
): LogIndex {
  const votersCount = voters.length;
  if (votersCount === 0) {
    return COMMITTED_INDEX_UNBOUNDED;
  }
  if (scratchIndexes.length < votersCount) {
    scratchIndexes = new Float64Array(votersCount * 2);
  }
  const indexes = scratchIndexes;
  // Insertion sort, ascending: voter sets are small, and this keeps the path allocation-free.
  for (let i = 0; i < votersCount; i++) {
    const index = acked(voters[i] as NodeId) ?? 0;
    let position = i;
    while (position > 0 && (indexes[position - 1] as number) > index) {
      indexes[position] = indexes[position - 1] as number;
      position--;
    }
    indexes[position] = index;
  }
  // The quorum's smallest member sits quorumCount places from the top; every voter at or above
  // that position holds at least its index.
  return indexes[votersCount - quorumCount(votersCount)] as number;
}

/**
 * Counts `votes` among `voters` and decides the election.
 *
 * `votes` maps a voter to whether it granted its vote; voters missing from it have not answered,
 * and entries for ids outside `voters` are ignored. The result is 'won' once granted votes reach
 * a majority, 'lost' once a majority can no longer be reached even if every missing voter grants,
 * and 'pending' otherwise. An empty voter set wins, so an empty outgoing half never blocks.
 */
export function majorityVoteResult(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (voters.length === 0) {
    return 'won';
  }
  let grantedCount = 0;
  let missingCount = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) {
      missingCount++;
    } else if (vote) {
      grantedCount++;
    }
  }
  const quorum = quorumCount(voters.length);
  if (grantedCount >= quorum) {
    return 'won';
  }
  if (grantedCount + missingCount >= quorum) {
    return 'pending';
  }
  return 'lost';
}
