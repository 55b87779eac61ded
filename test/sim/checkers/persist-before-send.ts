/**
 * Persist before send (Raft §5, Figure 2; ready.ts step 3): whatever a message promises must
 * already be durable when it leaves. Its term must not exceed the sender's durable term (a
 * restarted node must never forget a term it acted in); a granted vote must be durable; an
 * accepted append must be backed by durable entries (while the sender is still in that term).
 * Pre-vote traffic promises nothing and is ignored. Checked against the disk's durable image at
 * the moment of sending.
 */
import type { Message } from '../../../src/raft/index.js';
import type { NodeView } from '../cluster-observer.js';
import { describeMessage } from '../message-format.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';

/** Checks each outgoing message against the sender's durable state. */
export class PersistBeforeSendChecker implements Checker {
  readonly name = 'persistBeforeSend';

  onMessagesSending(node: NodeView, messages: readonly Message[]): void {
    const durable = node.disk.durableHardState();
    for (const message of messages) {
      if (message.kind === 'preVoteRequest' || message.kind === 'preVoteResponse') continue;
      const describe = (): string =>
        `node ${node.id} sent ${describeMessage(message)} while its disk holds term ` +
        `${durable.term} vote ${durable.votedFor} last index ${node.disk.durableLastIndex()}`;
      check(message.term <= durable.term, 'persistBeforeSend', describe);
      if (message.kind === 'voteResponse' && message.isGranted) {
        const isDurable = durable.term > message.term || durable.votedFor === message.to;
        check(isDurable, 'persistBeforeSend', describe);
      }
      // An acknowledgement speaks for the sender's log in the message's term. If the same batch
      // of input also moved the sender to a later term, whose leader may legitimately replace
      // those entries, the acknowledgement is just one the network could have delayed.
      if (
        message.kind === 'appendResponse' &&
        !message.isRejected &&
        durable.term === message.term
      ) {
        check(message.index <= node.disk.durableLastIndex(), 'persistBeforeSend', describe);
      }
    }
  }
}
