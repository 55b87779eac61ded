/**
 * Election Safety (Raft §5.2, Figure 3): at most one leader per term, over the whole run,
 * crashes included. Evidence of leadership: a Ready announcing the leader role, a running core
 * whose status says leader at the end of a tick, and any message only a leader sends (append,
 * heartbeat, snapshot, TimeoutNow).
 */
import type { NodeId } from '../../../src/common/index.js';
import type { Message, SoftState } from '../../../src/raft/index.js';
import type { NodeView } from '../cluster-observer.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';

/** Records the leader of each term and fails on a second one. */
export class ElectionSafetyChecker implements Checker {
  readonly name = 'electionSafety';
  private readonly leaderByTerm = new Map<number, NodeId>();

  /** How many terms had a leader. */
  get leaderTermCount(): number {
    return this.leaderByTerm.size;
  }

  onSoftState(node: NodeView, softState: SoftState): void {
    if (softState.role === 'leader') this.record(node.status().term, node.id, 'became leader');
  }

  onMessagesSending(_node: NodeView, messages: readonly Message[]): void {
    for (const message of messages) {
      if (isLeaderMessage(message)) this.record(message.term, message.from, message.kind);
    }
  }

  onTickEnd(nodes: readonly NodeView[]): void {
    for (const node of nodes) {
      if (!node.isRunning) continue;
      const status = node.status();
      if (status.role === 'leader') this.record(status.term, node.id, 'status');
    }
  }

  private record(term: number, nodeId: NodeId, evidence: string): void {
    const leaderId = this.leaderByTerm.get(term);
    if (leaderId === undefined) {
      this.leaderByTerm.set(term, nodeId);
      return;
    }
    check(
      leaderId === nodeId,
      'electionSafety',
      () => `two leaders in term ${term}: node ${leaderId} and node ${nodeId} (${evidence})`,
    );
  }
}

function isLeaderMessage(message: Message): boolean {
  return (
    message.kind === 'appendRequest' ||
    message.kind === 'heartbeatRequest' ||
    message.kind === 'installSnapshotRequest' ||
    message.kind === 'timeoutNowRequest'
  );
}
