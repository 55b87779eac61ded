/**
 * Leader Completeness (Raft §5.4): a leader of term T holds every entry committed in a term
 * before T. Checked when a node reports becoming leader, after its first Ready as leader is
 * persisted: its log (or its snapshot) must contain the furthest committed position known to
 * have been committed before T, with the same prefix.
 */
import type { SoftState } from '../../../src/raft/index.js';
import type { NodeView } from '../cluster-observer.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';
import type { CommitAgreementChecker } from './commit-agreement.js';
import type { LogMatchingChecker } from './log-matching.js';

/** Checks every new leader's log against the committed log. */
export class LeaderCompletenessChecker implements Checker {
  readonly name = 'leaderCompleteness';
  private readonly logMatching: LogMatchingChecker;
  private readonly commitAgreement: CommitAgreementChecker;

  constructor(logMatching: LogMatchingChecker, commitAgreement: CommitAgreementChecker) {
    this.logMatching = logMatching;
    this.commitAgreement = commitAgreement;
  }

  onSoftState(node: NodeView, softState: SoftState): void {
    if (softState.role !== 'leader') return;
    const status = node.status();
    const committed = this.commitAgreement.committedBefore(status.term);
    if (committed === null) return;
    const snapshotIndex = this.logMatching.snapshotIndex(node.id);
    // A snapshot past the committed position covers it: compare at the snapshot instead.
    const index = Math.max(committed.index, snapshotIndex);
    const reference =
      index === committed.index ? committed.hash : this.commitAgreement.hashAt(index);
    const hash = this.logMatching.prefixHash(node.id, index);
    check(
      hash !== null,
      'leaderCompleteness',
      () =>
        `node ${node.id} became leader of term ${status.term} with log ending at ` +
        `${status.lastIndex}, but entry ${committed.index} was committed before term ` +
        `${status.term}`,
    );
    if (reference === null) return;
    check(
      hash === reference,
      'leaderCompleteness',
      () =>
        `node ${node.id} became leader of term ${status.term} but its log through ${index} ` +
        `differs from the entries committed there before term ${status.term}`,
    );
  }
}
