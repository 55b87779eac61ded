/**
 * One-line renderings of messages, entries and configurations for the simulator's trace and
 * violation reports. Pure formatting; nothing here is parsed back.
 */
import { assertNever } from '../../src/common/index.js';
import type { ConfigurationChange, Entry, Message } from '../../src/raft/index.js';

/** e.g. `2->3 appendRequest t5 prev=7/4 entries=[8/5] commit=7`. */
export function describeMessage(message: Message): string {
  const head = `${message.from}->${message.to} ${message.kind} t${message.term}`;
  switch (message.kind) {
    case 'voteRequest':
    case 'preVoteRequest':
      return (
        `${head} last=${message.lastLogIndex}/${message.lastLogTerm}` +
        (message.isLeadershipTransfer ? ' transfer' : '')
      );
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head} ${message.isGranted ? 'granted' : 'rejected'}`;
    case 'appendRequest':
      return (
        `${head} prev=${message.prevLogIndex}/${message.prevLogTerm} entries=` +
        `[${message.entries.map((entry) => `${entry.index}/${entry.term}`).join(',')}] ` +
        `commit=${message.leaderCommit}`
      );
    case 'appendResponse':
      return (
        `${head} ${message.isRejected ? 'rejected' : 'accepted'} index=${message.index}` +
        (message.isRejected ? ` hint=${message.hintIndex}/${message.hintTerm}` : '')
      );
    case 'heartbeatRequest':
      return `${head} commit=${message.leaderCommit} read=${message.readContext ?? '-'}`;
    case 'heartbeatResponse':
      return `${head} read=${message.readContext ?? '-'}`;
    case 'installSnapshotRequest': {
      const { index, term } = message.snapshot.metadata;
      return `${head} snapshot=${index}/${term}`;
    }
    case 'timeoutNowRequest':
      return head;
    case 'forwardedProposal':
      return `${head} commands=${message.commands.length}`;
    case 'readIndexRequest':
      return `${head} read=${message.readContext}`;
    case 'readIndexResponse':
      return `${head} read=${message.readContext} index=${message.readIndex}`;
    default:
      return assertNever(message, 'message kind');
  }
}

/** e.g. `8/5 normal(42 bytes)` or `9/5 change addVoter(4) removeNode(2)`. */
export function describeEntry(entry: Entry): string {
  if (entry.kind === 'normal') {
    return (
      `${entry.index}/${entry.term} ` +
      (entry.data.byteLength === 0 ? 'no-op' : `normal(${entry.data.byteLength} bytes)`)
    );
  }
  return `${entry.index}/${entry.term} change ${describeChange(entry.change)}`;
}

/** e.g. `addVoter(4) removeNode(2)`, or `leaveJoint` for a change with no steps. */
export function describeChange(change: ConfigurationChange): string {
  const steps = change.changes.map((step) => `${step.kind}(${step.nodeId})`);
  return steps.length === 0 ? 'leaveJoint' : steps.join(' ');
}
