/**
 * Tests for majority quorums: examples, then properties comparing each function with a
 * deliberately naive version (brute force over candidate indexes, enumeration of missing votes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogIndex, NodeId } from '../../common/index.js';
import {
  type AckedIndexLookup,
  COMMITTED_INDEX_UNBOUNDED,
  majorityCommittedIndex,
  majorityVoteResult,
  type VoteResult,
} from './majority.js';

/** The largest candidate index acknowledged by more than half the voters, by brute force. */
function naiveCommittedIndex(voters: readonly NodeId[], acked: AckedIndexLookup): LogIndex {
  if (voters.length === 0) {
    return COMMITTED_INDEX_UNBOUNDED;
  }
  const ackedIndexes = voters.map((id) => acked(id) ?? 0);
  let best = 0;
  for (const candidate of [0, ...ackedIndexes]) {
    const holdersCount = ackedIndexes.filter((index) => index >= candidate).length;
    if (holdersCount * 2 > voters.length && candidate > best) {
      best = candidate;
    }
  }
  return best;
}

/** Decides a vote by trying every way the missing voters could still answer. */
function naiveVoteResult(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const missing = voters.filter((id) => !votes.has(id));
  let isWinPossible = false;
  let isLossPossible = false;
  for (let mask = 0; mask < 1 << missing.length; mask++) {
    const grantedCount = voters.filter((id) => {
      const missingPosition = missing.indexOf(id);
      return missingPosition >= 0 ? (mask & (1 << missingPosition)) !== 0 : votes.get(id);
    }).length;
    if (grantedCount * 2 > voters.length || voters.length === 0) {
      isWinPossible = true;
    } else {
      isLossPossible = true;
    }
  }
  return isWinPossible && isLossPossible ? 'pending' : isWinPossible ? 'won' : 'lost';
}

/** Distinct voter ids, possibly empty. */
const votersArbitrary = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 9 });

/** A partial map from ids (voters or not) to acknowledged indexes. */
const ackedArbitrary = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 0, max: 20 })))
  .map((pairs) => new Map<NodeId, LogIndex>(pairs));

/** A partial map from ids (voters or not) to granted/rejected votes. */
const votesArbitrary = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 14 }), fc.boolean()))
  .map((pairs) => new Map<NodeId, boolean>(pairs));

function lookup(indexes: ReadonlyMap<NodeId, LogIndex>): AckedIndexLookup {
  return (id) => indexes.get(id);
}

describe('majorityCommittedIndex', () => {
  it('returns unbounded for an empty voter set', () => {
    expect(majorityCommittedIndex([], () => 7)).toBe(COMMITTED_INDEX_UNBOUNDED);
  });

  it('returns the only voter index for a single voter', () => {
    expect(majorityCommittedIndex([1], () => 7)).toBe(7);
  });

  it('returns the median of three', () => {
    const acked = new Map([
      [1, 10],
      [2, 5],
      [3, 8],
    ]);
    expect(majorityCommittedIndex([1, 2, 3], lookup(acked))).toBe(8);
  });

  it('counts a missing acknowledgement as 0', () => {
    const acked = new Map([[1, 10]]);
    expect(majorityCommittedIndex([1, 2, 3], lookup(acked))).toBe(0);
    acked.set(2, 4);
    expect(majorityCommittedIndex([1, 2, 3], lookup(acked))).toBe(4);
  });

  it('needs three of four', () => {
    const acked = new Map([
      [1, 9],
      [2, 9],
      [3, 3],
      [4, 1],
    ]);
    expect(majorityCommittedIndex([1, 2, 3, 4], lookup(acked))).toBe(3);
  });

  it('handles voter sets larger than the scratch buffer', () => {
    const voters = Array.from({ length: 41 }, (_, i) => i + 1);
    expect(majorityCommittedIndex(voters, (id) => id)).toBe(21);
    expect(majorityCommittedIndex([1, 2, 3], (id) => id * 2)).toBe(4);
  });

  it('agrees with the naive version', () => {
    fc.assert(
      fc.property(votersArbitrary, ackedArbitrary, (voters, acked) => {
        expect(majorityCommittedIndex(voters, lookup(acked))).toBe(
          naiveCommittedIndex(voters, lookup(acked)),
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('majorityVoteResult', () => {
  it('wins with an empty voter set', () => {
    expect(majorityVoteResult([], new Map())).toBe('won');
  });

  it('is pending with no votes', () => {
    expect(majorityVoteResult([1, 2, 3], new Map())).toBe('pending');
  });

  it('wins with a majority granted', () => {
    const votes = new Map([
      [1, true],
      [2, true],
    ]);
    expect(majorityVoteResult([1, 2, 3], votes)).toBe('won');
  });

  it('loses once a majority is out of reach', () => {
    const votes = new Map([
      [1, true],
      [2, false],
      [3, false],
    ]);
    expect(majorityVoteResult([1, 2, 3, 4], votes)).toBe('lost');
  });

  it('stays pending while a majority is reachable', () => {
    const votes = new Map([
      [1, true],
      [2, false],
    ]);
    expect(majorityVoteResult([1, 2, 3, 4], votes)).toBe('pending');
  });

  it('ignores votes from non-voters', () => {
    const votes = new Map([
      [1, true],
      [7, true],
      [8, true],
    ]);
    expect(majorityVoteResult([1, 2, 3], votes)).toBe('pending');
  });

  it('agrees with the naive version', () => {
    fc.assert(
      fc.property(votersArbitrary, votesArbitrary, (voters, votes) => {
        expect(majorityVoteResult(voters, votes)).toBe(naiveVoteResult(voters, votes));
      }),
      { numRuns: 2000 },
    );
  });
});
