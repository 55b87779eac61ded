/**
 * Compact, deterministic text for the core's records in transcripts: positions are written
 * `term/index` everywhere (entries, a message's previous entry, hints, snapshots), command data
 * is a JSON string, configurations use the core's own `describeConfiguration`. Pure functions.
 */
import { assertNever } from '../../../src/common/index.js';
import {
  describeConfiguration,
  type Entry,
  type HardState,
  type Message,
  type ProgressStatus,
  type ProposeResult,
  type ReadIndexResult,
  type ReadState,
  type Snapshot,
  type SoftState,
  type Status,
} from '../../../src/raft/index.js';

const decoder = new TextDecoder();

/** A command's bytes as a JSON string literal. */
export function renderData(data: Uint8Array): string {
  return JSON.stringify(decoder.decode(data));
}

/** `term/index`, the way every log position is written. */
export function renderPosition(term: number, index: number): string {
  return `${term}/${index}`;
}

/** `2/4 normal "x"` or `2/5 confChange addVoter(4) removeNode(2)` / `... leaveJoint`. */
export function renderEntry(entry: Entry): string {
  const position = renderPosition(entry.term, entry.index);
  if (entry.kind === 'normal') return `${position} normal ${renderData(entry.data)}`;
  const steps = entry.change.changes.map((step) => `${step.kind}(${step.nodeId})`);
  return `${position} confChange ${steps.length === 0 ? 'leaveJoint' : steps.join(' ')}`;
}

/** `2/7 voters=(1,2,3)` for a snapshot's metadata. */
export function renderSnapshot(snapshot: Snapshot): string {
  const { metadata } = snapshot;
  const position = renderPosition(metadata.term, metadata.index);
  return `${position} ${describeConfiguration(metadata.configuration)}`;
}

function renderContext(readContext: string | null): string {
  return readContext === null ? '' : ` context=${JSON.stringify(readContext)}`;
}

/** Everything after `from->to kind term=T` for one message. */
function renderMessageBody(message: Message): string {
  switch (message.kind) {
    case 'voteRequest':
    case 'preVoteRequest': {
      const last = renderPosition(message.lastLogTerm, message.lastLogIndex);
      return ` lastLog=${last}${message.isLeadershipTransfer ? ' transfer' : ''}`;
    }
    case 'voteResponse':
    case 'preVoteResponse':
      return message.isGranted ? ' granted' : ' rejected';
    case 'appendRequest': {
      const prev = renderPosition(message.prevLogTerm, message.prevLogIndex);
      const entries = message.entries.map(renderEntry).join(', ');
      const entriesText = message.entries.length === 0 ? '' : ` entries=[${entries}]`;
      return ` prev=${prev} commit=${message.leaderCommit}${entriesText}`;
    }
    case 'appendResponse':
      if (!message.isRejected) return ` index=${message.index}`;
      return ` rejected index=${message.index} hint=${renderPosition(message.hintTerm, message.hintIndex)}`;
    case 'heartbeatRequest':
      return ` commit=${message.leaderCommit}${renderContext(message.readContext)}`;
    case 'heartbeatResponse':
      return renderContext(message.readContext);
    case 'installSnapshotRequest':
      return ` snapshot=${renderSnapshot(message.snapshot)}`;
    case 'timeoutNowRequest':
      return '';
    case 'forwardedProposal':
      return ` commands=[${message.commands.map(renderData).join(', ')}]`;
    case 'readIndexRequest':
      return renderContext(message.readContext);
    case 'readIndexResponse':
      return `${renderContext(message.readContext)} index=${message.readIndex}`;
    default:
      return assertNever(message, 'message');
  }
}

/** `1->2 appendRequest term=2 prev=1/3 commit=3 entries=[2/4 normal "x"]`. */
export function renderMessage(message: Message): string {
  const head = `${message.from}->${message.to} ${message.kind} term=${message.term}`;
  return head + renderMessageBody(message);
}

export function renderHardState(hardState: HardState): string {
  return `term=${hardState.term} vote=${hardState.votedFor} commit=${hardState.commitIndex}`;
}

export function renderSoftState(softState: SoftState): string {
  return `role=${softState.role} leader=${softState.leaderId}`;
}

export function renderReadState(readState: ReadState): string {
  return `${JSON.stringify(readState.readContext)} index=${readState.index}`;
}

/** The answer to a proposal or read request. */
export function renderRequestResult(result: ProposeResult | ReadIndexResult): string {
  switch (result.kind) {
    case 'appended':
      return `appended ${renderPosition(result.term, result.index)}`;
    case 'forwarded':
      return `forwarded to ${result.leaderId}`;
    case 'pending':
      return 'pending';
    case 'dropped':
      return `dropped reason=${result.reason} leader=${result.leaderId}`;
    default:
      return assertNever(result, 'result');
  }
}

function renderProgress(id: number, progress: ProgressStatus, isSelf: boolean): string {
  let text = `${id}: match=${progress.matchIndex} next=${progress.nextIndex} ${progress.state}`;
  if (progress.isLearner) text += ' learner';
  // The leader's own activity flag means nothing (CheckQuorum counts the leader as active).
  if (!progress.isRecentlyActive && !isSelf) text += ' inactive';
  return text;
}

/** One line per node plus, on the leader, one indented line per tracked member. */
export function renderStatus(status: Status): string[] {
  const lines = [
    `${status.id}: ${status.role} term=${status.term} vote=${status.votedFor} ` +
      `leader=${status.leaderId} commit=${status.commitIndex} applied=${status.appliedIndex} ` +
      `log=[${status.firstIndex},${status.lastIndex}] ${describeConfiguration(status.configuration)}` +
      (status.leadershipTransfereeId === 0 ? '' : ` transferee=${status.leadershipTransfereeId}`),
  ];
  if (status.progress !== null) {
    const ids = [...status.progress.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const progress = status.progress.get(id) as ProgressStatus;
      lines.push(`  ${renderProgress(id, progress, id === status.id)}`);
    }
  }
  return lines;
}
