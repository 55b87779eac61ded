/**
 * One vote per term (Raft §5.2): a node grants its vote to at most one candidate in a term,
 * even across crashes; this is what makes Election Safety hold, and what an unsynced vote
 * breaks. Evidence: granted vote responses on the wire and the votedFor of persisted hard
 * states. Pre-votes are not votes and are ignored.
 */
import type { HardState, Message } from '../../../src/raft/index.js';
import type { NodeView } from '../cluster-observer.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';

/** Records each (node, term) vote and fails on a different second one. */
export class SingleVoteChecker implements Checker {
  readonly name = 'singleVote';
  /** `${voterId}/${term}` -> candidate id. */
  private readonly votes = new Map<string, number>();

  onMessagesSending(node: NodeView, messages: readonly Message[]): void {
    for (const message of messages) {
      if (message.kind !== 'voteResponse' || !message.isGranted) continue;
      this.record(node.id, message.term, message.to, 'granted vote');
    }
  }

  onHardStatePersisted(node: NodeView, hardState: HardState): void {
    if (hardState.votedFor === 0) return;
    this.record(node.id, hardState.term, hardState.votedFor, 'persisted vote');
  }

  private record(voterId: number, term: number, candidateId: number, evidence: string): void {
    const key = `${voterId}/${term}`;
    const previous = this.votes.get(key);
    if (previous === undefined) {
      this.votes.set(key, candidateId);
      return;
    }
    check(
      previous === candidateId,
      'singleVote',
      () =>
        `node ${voterId} voted for node ${previous} and then for node ${candidateId} in term ` +
        `${term} (${evidence})`,
    );
  }
}
