/**
 * State Machine Safety at the commit level (Raft §5.4.3): no two nodes ever consider different
 * entries committed at the same index. Whenever a node persists a hard state, the prefix of its
 * log up to its commit index must equal the committed prefix known so far (compared through
 * chain hashes from the log-matching checker), and extends it. It also remembers, per committed
 * index, a term by which the entry was surely committed (the smallest term of a node that
 * reported it committed), which the leader-completeness checker needs.
 */
import type { NodeId } from '../../../src/common/index.js';
import type { HardState } from '../../../src/raft/index.js';
import type { NodeView } from '../cluster-observer.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';
import type { LogMatchingChecker } from './log-matching.js';

/** A committed position and the chain hash of the prefix ending there. */
export interface CommittedPosition {
  readonly index: number;
  readonly hash: number;
}

/** Checks that committed prefixes agree; remembers the committed log. */
export class CommitAgreementChecker implements Checker {
  readonly name = 'commitAgreement';
  private readonly logMatching: LogMatchingChecker;
  /** Chain hash per committed index, for firstIndex..maxIndex (dense). */
  private readonly hashes: number[] = [];
  /**
   * Per committed index, a term by which it was committed. Non-decreasing in the index: an
   * entry committed by term T makes every earlier entry committed by term T too.
   */
  private readonly termBounds: number[] = [];
  private firstIndex = 0;
  private maxIndex = 0;

  constructor(logMatching: LogMatchingChecker) {
    this.logMatching = logMatching;
  }

  /** The highest committed index known. */
  get committedIndexMax(): number {
    return this.maxIndex;
  }

  /** The committed hash at `index`, if known. */
  hashAt(index: number): number | null {
    return this.hashes[index] ?? null;
  }

  /**
   * The furthest committed position known to have been committed in a term before `term`:
   * a leader of `term` must hold it (Leader Completeness). Null if none.
   */
  committedBefore(term: number): CommittedPosition | null {
    let low = this.firstIndex;
    let high = this.maxIndex;
    let found: number | null = null;
    while (low <= high && low > 0) {
      const middle = Math.floor((low + high) / 2);
      const bound = this.termBounds[middle];
      if (bound !== undefined && bound < term) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    if (found === null) return null;
    const hash = this.hashes[found];
    return hash === undefined ? null : { index: found, hash };
  }

  onHardStatePersisted(node: NodeView, hardState: HardState): void {
    const commitIndex = hardState.commitIndex;
    if (commitIndex === 0) return;
    this.compareAt(node.id, Math.min(commitIndex, this.maxIndex));
    this.extend(node.id, commitIndex, hardState.term);
  }

  private compareAt(nodeId: NodeId, index: number): void {
    const reference = this.hashes[index];
    const hash = this.logMatching.prefixHash(nodeId, index);
    if (reference === undefined || hash === null) return;
    check(
      hash === reference,
      'commitAgreement',
      () =>
        `node ${nodeId} holds a committed prefix through ${index} that differs from the ` +
        `prefix another node committed through ${index}`,
    );
  }

  private extend(nodeId: NodeId, commitIndex: number, term: number): void {
    const start = Math.max(this.maxIndex + 1, this.logMatching.snapshotIndex(nodeId));
    for (let index = start; index <= commitIndex; index++) {
      const hash = this.logMatching.prefixHash(nodeId, index);
      if (hash === null) continue;
      const reference = this.hashes[index];
      if (reference !== undefined) {
        check(
          hash === reference,
          'commitAgreement',
          () =>
            `node ${nodeId} committed through ${index} a prefix that differs from the ` +
            'committed one',
        );
        continue;
      }
      if (this.firstIndex === 0) this.firstIndex = index;
      if (index > this.maxIndex + 1 && this.maxIndex > 0) this.fillGap(index);
      this.hashes[index] = hash;
      this.termBounds[index] = term;
      this.maxIndex = index;
    }
    this.lowerTermBounds(Math.min(commitIndex, this.maxIndex), term);
  }

  /** A node that only holds a snapshot past the known commit leaves a gap; forget before it. */
  private fillGap(index: number): void {
    this.hashes.length = 0;
    this.termBounds.length = 0;
    this.firstIndex = index;
  }

  private lowerTermBounds(fromIndex: number, term: number): void {
    for (let index = fromIndex; index >= this.firstIndex && index > 0; index--) {
      const bound = this.termBounds[index];
      if (bound === undefined || bound <= term) return;
      this.termBounds[index] = term;
    }
  }
}
