/**
 * Tests for a follower's progress: state transitions, probe pausing, the replicate window,
 * stale acceptances and rejections, and the matchIndex < nextIndex invariant under random use.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../common/index.js';
import { Progress } from './progress.js';

function newProgress(matchIndex = 0, nextIndex = matchIndex + 1, inflightMessagesMax = 3) {
  return new Progress({
    matchIndex,
    nextIndex,
    isLearner: false,
    inflightMessagesMax,
    inflightBytesMax: 0,
  });
}

describe('Progress transitions', () => {
  it('starts in probe, unpaused', () => {
    const progress = newProgress(4, 9);
    expect(progress.state).toBe('probe');
    expect(progress.isPaused()).toBe(false);
    expect(progress.toString()).toBe('match=4 next=9 probe');
  });

  it('asserts matchIndex < nextIndex at construction', () => {
    expect(() => newProgress(5, 5)).toThrow(AssertionError);
  });

  it('becomeReplicate restarts at matchIndex + 1 with an empty window', () => {
    const progress = newProgress(4, 9);
    progress.becomeReplicate();
    expect(progress.state).toBe('replicate');
    expect(progress.nextIndex).toBe(5);
    progress.sentEntries(7, 3, 30);
    expect(progress.inflights.count()).toBe(1);
    progress.becomeReplicate();
    expect(progress.inflights.count()).toBe(0);
    progress.checkInvariants();
  });

  it('becomeProbe from replicate restarts at matchIndex + 1', () => {
    const progress = newProgress(4);
    progress.becomeReplicate();
    progress.sentEntries(10, 6, 60);
    progress.becomeProbe();
    expect(progress.nextIndex).toBe(5);
    expect(progress.inflights.count()).toBe(0);
    progress.checkInvariants();
  });

  it('becomeProbe from snapshot resumes after the snapshot if it is further along', () => {
    const progress = newProgress(4);
    progress.becomeSnapshot(20);
    expect(progress.pendingSnapshotIndex).toBe(20);
    expect(progress.isPaused()).toBe(true);
    progress.becomeProbe();
    expect(progress.nextIndex).toBe(21);
    expect(progress.pendingSnapshotIndex).toBe(0);

    const ahead = newProgress(30);
    ahead.becomeSnapshot(20);
    ahead.becomeProbe();
    expect(ahead.nextIndex).toBe(31);
  });

  it('becomeSnapshot clears the probe flag and restarts the snapshot tick count', () => {
    const progress = newProgress(4);
    progress.sentEntries(4, 0, 0);
    progress.ticksSinceSnapshotSent = 9;
    progress.becomeSnapshot(12);
    expect(progress.isProbeSent).toBe(false);
    expect(progress.ticksSinceSnapshotSent).toBe(0);
    expect(progress.toString()).toBe('match=4 next=5 snapshot paused pendingSnapshot=12');
    progress.checkInvariants();
  });
});

describe('Progress flow control', () => {
  it('pauses a probe after one request, even an empty one, until an answer', () => {
    const progress = newProgress(4);
    progress.sentEntries(4, 0, 0);
    expect(progress.isPaused()).toBe(true);
    expect(progress.nextIndex).toBe(5);
    expect(progress.maybeUpdate(4)).toBe(false);
    expect(progress.isPaused()).toBe(false);
  });

  it('streams in replicate until the window is full', () => {
    const progress = newProgress(4, 5, 2);
    progress.becomeReplicate();
    progress.sentEntries(6, 2, 20);
    expect(progress.nextIndex).toBe(7);
    expect(progress.isPaused()).toBe(false);
    progress.sentEntries(8, 2, 20);
    expect(progress.isPaused()).toBe(true);
    expect(progress.toString()).toBe('match=4 next=9 replicate paused inflight=2');
    expect(progress.maybeUpdate(6)).toBe(true);
    expect(progress.matchIndex).toBe(6);
    expect(progress.isPaused()).toBe(false);
    expect(progress.toString()).toBe('match=6 next=9 replicate inflight=1');
  });

  it('ignores empty requests in replicate', () => {
    const progress = newProgress(4);
    progress.becomeReplicate();
    progress.sentEntries(4, 0, 0);
    expect(progress.nextIndex).toBe(5);
    expect(progress.inflights.count()).toBe(0);
  });

  it('asserts when an append request is sent in snapshot state', () => {
    const progress = newProgress(4);
    progress.becomeSnapshot(10);
    expect(() => progress.sentEntries(5, 1, 1)).toThrow(AssertionError);
  });

  it('raises nextIndex on an acceptance beyond it', () => {
    const progress = newProgress(2, 3);
    expect(progress.maybeUpdate(10)).toBe(true);
    expect(progress.matchIndex).toBe(10);
    expect(progress.nextIndex).toBe(11);
  });

  it('keeps matchIndex on a stale acceptance', () => {
    const progress = newProgress(8);
    expect(progress.maybeUpdate(5)).toBe(false);
    expect(progress.matchIndex).toBe(8);
    expect(progress.nextIndex).toBe(9);
  });
});

describe('Progress rejections', () => {
  it('in replicate, ignores stale rejections and falls back to matchIndex + 1', () => {
    const progress = newProgress(5);
    progress.becomeReplicate();
    progress.sentEntries(12, 7, 70);
    expect(progress.maybeDecrement(5, 3)).toBe(false);
    expect(progress.maybeDecrement(4, 3)).toBe(false);
    expect(progress.nextIndex).toBe(13);
    expect(progress.maybeDecrement(9, 3)).toBe(true);
    expect(progress.nextIndex).toBe(6);
    expect(progress.inflights.count()).toBe(0);
    progress.checkInvariants();
  });

  it('in probe, only the latest probe counts', () => {
    const progress = newProgress(2, 10);
    progress.sentEntries(10, 1, 10);
    expect(progress.maybeDecrement(8, 4)).toBe(false);
    expect(progress.nextIndex).toBe(10);
    expect(progress.isPaused()).toBe(true);
    expect(progress.maybeDecrement(9, 4)).toBe(true);
    expect(progress.nextIndex).toBe(5);
    expect(progress.isPaused()).toBe(false);
  });

  it('in probe, never moves nextIndex to or below matchIndex', () => {
    const progress = newProgress(6, 10);
    expect(progress.maybeDecrement(9, 0)).toBe(true);
    expect(progress.nextIndex).toBe(7);
  });

  it('in probe, never moves nextIndex above the rejected index', () => {
    const progress = newProgress(0, 10);
    expect(progress.maybeDecrement(9, 50)).toBe(true);
    expect(progress.nextIndex).toBe(9);
  });

  it('in snapshot, ignores rejections', () => {
    const progress = newProgress(2, 10);
    progress.becomeSnapshot(30);
    expect(progress.maybeDecrement(9, 0)).toBe(false);
    expect(progress.nextIndex).toBe(10);
  });
});

type Action =
  | { readonly kind: 'probe' | 'replicate' }
  | { readonly kind: 'snapshot'; readonly index: number }
  | { readonly kind: 'send'; readonly entryCount: number }
  | { readonly kind: 'accept'; readonly index: number }
  | { readonly kind: 'reject'; readonly index: number; readonly hint: number };

const indexArbitrary = fc.integer({ min: 0, max: 40 });
const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constantFrom('probe' as const, 'replicate' as const) }),
  fc.record({ kind: fc.constant('snapshot' as const), index: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('send' as const), entryCount: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('accept' as const), index: indexArbitrary }),
  fc.record({ kind: fc.constant('reject' as const), index: indexArbitrary, hint: indexArbitrary }),
);

/** Performs `action` the way a leader would, respecting each method's preconditions. */
function perform(progress: Progress, action: Action): void {
  switch (action.kind) {
    case 'probe':
      return progress.becomeProbe();
    case 'replicate':
      return progress.becomeReplicate();
    case 'snapshot':
      return progress.becomeSnapshot(action.index);
    case 'send':
      if (!progress.isPaused()) {
        const lastSentIndex = progress.nextIndex + action.entryCount - 1;
        progress.sentEntries(lastSentIndex, action.entryCount, action.entryCount * 10);
      }
      return;
    case 'accept':
      progress.maybeUpdate(action.index);
      return;
    case 'reject':
      // The leader probes after a genuine rejection in replicate state, but need not at once.
      if (progress.maybeDecrement(action.index, action.hint) && action.hint % 2 === 0) {
        progress.becomeProbe();
      }
      return;
  }
}

describe('Progress invariants', () => {
  it('hold under any sequence of leader actions', () => {
    fc.assert(
      fc.property(
        indexArbitrary,
        fc.array(actionArbitrary, { maxLength: 60 }),
        (match, actions) => {
          const progress = newProgress(match);
          for (const action of actions) {
            const matchBefore = progress.matchIndex;
            perform(progress, action);
            progress.checkInvariants();
            expect(progress.matchIndex).toBeGreaterThanOrEqual(matchBefore);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('checkInvariants catches a broken invariant', () => {
    const progress = newProgress(4);
    progress.nextIndex = 4;
    expect(() => progress.checkInvariants()).toThrow(AssertionError);
  });
});
