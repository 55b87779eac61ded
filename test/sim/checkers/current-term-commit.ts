/**
 * The commit rule of Raft §5.4.2 (Figure 8): a leader advances its commit index only to an
 * entry of its own term, never by counting replicas of an older entry. Earlier entries become
 * committed indirectly, as a prefix of the current-term entry. A white-box rule with a direct
 * outside check: whenever a leader persists a larger commit index, the entry there must carry
 * the leader's term.
 */
import type { NodeId } from '../../../src/common/index.js';
import type { HardState } from '../../../src/raft/index.js';
import type { NodeView } from '../cluster-observer.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';

/** Checks that leaders commit only entries of their own term. */
export class CurrentTermCommitChecker implements Checker {
  readonly name = 'currentTermCommit';
  /** Commit index each node last persisted, per incarnation. */
  private readonly commitIndexes = new Map<NodeId, { incarnation: number; commitIndex: number }>();

  onHardStatePersisted(node: NodeView, hardState: HardState): void {
    const previous = this.commitIndexes.get(node.id);
    this.commitIndexes.set(node.id, {
      incarnation: node.incarnation,
      commitIndex: hardState.commitIndex,
    });
    if (previous === undefined || previous.incarnation !== node.incarnation) return;
    if (hardState.commitIndex <= previous.commitIndex) return;
    const status = node.status();
    if (status.role !== 'leader' || status.term !== hardState.term) return;
    const entryTerm = node.disk.storage.term(hardState.commitIndex);
    check(
      entryTerm === hardState.term,
      'currentTermCommit',
      () =>
        `leader ${node.id} of term ${hardState.term} advanced its commit index to ` +
        `${hardState.commitIndex}, an entry of term ${String(entryTerm)}, by counting replicas`,
    );
  }
}
