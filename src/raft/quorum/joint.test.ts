/**
 * Tests for joint quorums: examples, then properties comparing each function with a naive
 * version that treats the joint configuration as one decision over both voter sets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogIndex, NodeId } from '../../common/index.js';
import { jointCommittedIndex, jointVoteResult } from './joint.js';
import { type AckedIndexLookup, COMMITTED_INDEX_UNBOUNDED, type VoteResult } from './majority.js';

/** Whether more than half of `voters` satisfy `predicate`; an empty set always agrees. */
function isMajority(voters: readonly NodeId[], predicate: (id: NodeId) => boolean): boolean {
  return voters.length === 0 || voters.filter(predicate).length * 2 > voters.length;
}

/** The largest candidate index held by a majority of each side, by brute force. */
function naiveJointCommittedIndex(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  acked: AckedIndexLookup,
): LogIndex {
  if (incoming.length === 0 && outgoing.length === 0) {
    return COMMITTED_INDEX_UNBOUNDED;
  }
  const ackedIndex = (id: NodeId): LogIndex => acked(id) ?? 0;
  const candidates = [0, ...incoming.map(ackedIndex), ...outgoing.map(ackedIndex)];
  let best = 0;
  for (const candidate of candidates) {
    const holds = (id: NodeId): boolean => ackedIndex(id) >= candidate;
    if (isMajority(incoming, holds) && isMajority(outgoing, holds) && candidate > best) {
      best = candidate;
    }
  }
  return best;
}

/** Decides a joint vote by trying every way the missing voters of either side could answer. */
function naiveJointVoteResult(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const missing = [...new Set([...incoming, ...outgoing])].filter((id) => !votes.has(id));
  let isWinPossible = false;
  let isLossPossible = false;
  for (let mask = 0; mask < 1 << missing.length; mask++) {
    const isGranted = (id: NodeId): boolean => {
      const missingPosition = missing.indexOf(id);
      return missingPosition >= 0 ? (mask & (1 << missingPosition)) !== 0 : votes.get(id) === true;
    };
    if (isMajority(incoming, isGranted) && isMajority(outgoing, isGranted)) {
      isWinPossible = true;
    } else {
      isLossPossible = true;
    }
  }
  return isWinPossible && isLossPossible ? 'pending' : isWinPossible ? 'won' : 'lost';
}

const votersArbitrary = fc.uniqueArray(fc.integer({ min: 1, max: 10 }), { maxLength: 7 });

const ackedArbitrary = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 20 })))
  .map((pairs) => new Map<NodeId, LogIndex>(pairs));

const votesArbitrary = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.boolean()))
  .map((pairs) => new Map<NodeId, boolean>(pairs));

function lookup(indexes: ReadonlyMap<NodeId, LogIndex>): AckedIndexLookup {
  return (id) => indexes.get(id);
}

describe('jointCommittedIndex', () => {
  const acked = new Map([
    [1, 10],
    [2, 8],
    [3, 2],
    [4, 1],
    [5, 1],
  ]);

  it('is unbounded when both sides are empty', () => {
    expect(jointCommittedIndex([], [], lookup(acked))).toBe(COMMITTED_INDEX_UNBOUNDED);
  });

  it('defers to the incoming side when the outgoing side is empty', () => {
    expect(jointCommittedIndex([1, 2, 3], [], lookup(acked))).toBe(8);
  });

  it('defers to the outgoing side when the incoming side is empty', () => {
    expect(jointCommittedIndex([], [1, 2, 3], lookup(acked))).toBe(8);
  });

  it('takes the smaller of the two majorities', () => {
    expect(jointCommittedIndex([1, 2, 3], [3, 4, 5], lookup(acked))).toBe(1);
    expect(jointCommittedIndex([1, 2], [1, 2, 3], lookup(acked))).toBe(8);
  });

  it('agrees with the naive version', () => {
    fc.assert(
      fc.property(votersArbitrary, votersArbitrary, ackedArbitrary, (incoming, outgoing, map) => {
        expect(jointCommittedIndex(incoming, outgoing, lookup(map))).toBe(
          naiveJointCommittedIndex(incoming, outgoing, lookup(map)),
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('jointVoteResult', () => {
  it('wins when both sides are empty', () => {
    expect(jointVoteResult([], [], new Map())).toBe('won');
  });

  it('behaves as a majority when the outgoing side is empty', () => {
    expect(jointVoteResult([1, 2, 3], [], new Map([[1, true]]))).toBe('pending');
    const votes = new Map([
      [1, true],
      [2, true],
    ]);
    expect(jointVoteResult([1, 2, 3], [], votes)).toBe('won');
  });

  it('stays pending while only one side has won', () => {
    const votes = new Map([
      [1, true],
      [2, true],
    ]);
    expect(jointVoteResult([1, 2, 3], [3, 4, 5], votes)).toBe('pending');
  });

  it('loses when either side loses', () => {
    const votes = new Map([
      [1, true],
      [2, true],
      [4, false],
      [5, false],
    ]);
    expect(jointVoteResult([1, 2, 3], [3, 4, 5], votes)).toBe('lost');
  });

  it('wins when both sides win', () => {
    const votes = new Map([
      [1, true],
      [3, true],
      [4, true],
    ]);
    expect(jointVoteResult([1, 2, 3], [3, 4, 5], votes)).toBe('won');
  });

  it('agrees with the naive version', () => {
    fc.assert(
      fc.property(votersArbitrary, votersArbitrary, votesArbitrary, (incoming, outgoing, votes) => {
        expect(jointVoteResult(incoming, outgoing, votes)).toBe(
          naiveJointVoteResult(incoming, outgoing, votes),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
