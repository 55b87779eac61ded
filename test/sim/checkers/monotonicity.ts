/**
 * What never goes backwards. Within one incarnation of a node: term, commit index and applied
 * index. Across crashes: the durable term and the durable commit index (a crash may lose an
 * unsynced commit index, so the volatile one may go back after a restart, but never what was
 * synced). It does not demand more than Raft promises: the commit index itself is volatile.
 */
import type { NodeId } from '../../../src/common/index.js';
import type { NodeView } from '../cluster-observer.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';

/** The last values seen for one node. */
interface NodeProgress {
  incarnation: number;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  durableTerm: number;
  durableCommitIndex: number;
}

/** Checks that terms and indexes only move forward. */
export class MonotonicityChecker implements Checker {
  readonly name = 'monotonicity';
  private readonly progress = new Map<NodeId, NodeProgress>();

  onReadyHandled(node: NodeView): void {
    this.observe(node);
  }

  onTickEnd(nodes: readonly NodeView[]): void {
    for (const node of nodes) if (node.isRunning) this.observe(node);
  }

  private observe(node: NodeView): void {
    const status = node.status();
    const durable = node.disk.durableHardState();
    const current: NodeProgress = {
      incarnation: node.incarnation,
      term: status.term,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      durableTerm: durable.term,
      durableCommitIndex: durable.commitIndex,
    };
    const previous = this.progress.get(node.id);
    this.progress.set(node.id, current);
    if (previous === undefined) return;
    const goesBack = (field: keyof NodeProgress): boolean => current[field] < previous[field];
    for (const field of ['durableTerm', 'durableCommitIndex'] as const) {
      check(
        !goesBack(field),
        'monotonicity',
        () => `node ${node.id}: ${field} went from ${previous[field]} to ${current[field]}`,
      );
    }
    if (previous.incarnation !== current.incarnation) return;
    for (const field of ['term', 'commitIndex', 'appliedIndex'] as const) {
      check(
        !goesBack(field),
        'monotonicity',
        () =>
          `node ${node.id}: ${field} went from ${previous[field]} to ${current[field]} ` +
          'without a crash',
      );
    }
    check(
      status.appliedIndex === node.appliedIndex,
      'readyContract',
      () =>
        `node ${node.id}: core says applied ${status.appliedIndex}, state machine is at ` +
        `${node.appliedIndex}`,
    );
  }
}
