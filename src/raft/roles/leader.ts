/**
 * The leader's side of Raft: taking office (no-op entry, §8), appending proposals, handling
 * append and heartbeat responses, ReadIndex confirmation (thesis §6.4) and leadership transfer
 * (thesis §3.10). Sending mechanics are in replication.ts.
 */
import { assert, type LogIndex, type NodeId } from '../../common/index.js';
import type { ConfigurationChange } from '../configuration.js';
import { type Entry, entrySizeBytes } from '../entry.js';
import { jointVoteResult } from '../quorum/index.js';
import type { AppendResponse, HeartbeatResponse, Message, ReadIndexRequest } from '../message.js';
import type { Raft } from '../raft.js';
import type { DropReason, TransferResult } from '../results.js';
import {
  broadcastAppend,
  maybeCommit,
  maybeSendAppend,
  sendAppendsWhileAllowed,
} from './replication.js';

/** Payload of a new leader entry before it gets its index and term. */
export type NewEntry =
  | { readonly kind: 'normal'; readonly data: Uint8Array }
  | { readonly kind: 'configurationChange'; readonly change: ConfigurationChange };

/** Wins the election: take office and append an empty entry of the new term (§8). */
export function becomeLeader(raft: Raft): void {
  raft.becomeLeaderState();
  const appended = appendEntries(raft, [{ kind: 'normal', data: new Uint8Array(0) }], false);
  assert(appended !== null, 'the no-op entry must always be accepted');
}

/**
 * Appends entries to the leader's log with the current term, counts the leader's own
 * acknowledgement and commits if it alone is a quorum. Returns the last index, or null when the
 * uncommitted-bytes limit drops them.
 */
export function appendEntries(
  raft: Raft,
  newEntries: readonly NewEntry[],
  isLimited: boolean,
): { lastIndex: LogIndex } | null {
  let index = raft.log.lastIndex();
  const term = raft.term;
  const entries: Entry[] = [];
  let sizeBytes = 0;
  for (const newEntry of newEntries) {
    index++;
    // Explicit literals rather than object spread: this runs once per proposal.
    const entry: Entry =
      newEntry.kind === 'normal'
        ? { kind: 'normal', index, term, data: newEntry.data }
        : { kind: 'configurationChange', index, term, change: newEntry.change };
    sizeBytes += entrySizeBytes(entry);
    entries.push(entry);
  }
  const limitBytes = raft.options.uncommittedBytesMax;
  if (isLimited && raft.uncommittedBytes > 0 && raft.uncommittedBytes + sizeBytes > limitBytes) {
    return null;
  }
  raft.uncommittedBytes += sizeBytes;
  raft.isAppendBroadcastPending = true;
  const lastIndex = raft.log.append(entries);
  raft.tracker.progress.get(raft.id)?.maybeUpdate(lastIndex);
  maybeCommit(raft);
  return { lastIndex };
}

/** Why the leader refuses new proposals right now, if it does. */
export function leaderDropReason(raft: Raft): DropReason | null {
  if (raft.leadershipTransfereeId !== 0) return 'leadershipTransferInProgress';
  if (!raft.tracker.progress.has(raft.id)) return 'notMember';
  return null;
}

/** Dispatches a message of the leader's own term. */
export function stepLeader(raft: Raft, message: Message): void {
  switch (message.kind) {
    case 'appendResponse':
      return handleAppendResponse(raft, message);
    case 'heartbeatResponse':
      return handleHeartbeatResponse(raft, message);
    case 'readIndexRequest':
      return handleReadIndexRequest(raft, message);
    case 'forwardedProposal':
      if (leaderDropReason(raft) !== null) return;
      appendEntries(raft, message.commands.map(toNormal), true);
      return;
    default:
      // Vote traffic, stale role messages and messages only followers handle are ignored.
      return;
  }
}

function toNormal(data: Uint8Array): NewEntry {
  return { kind: 'normal', data };
}

/** A follower accepted or rejected entries (§5.3); moves its progress and maybe the commit. */
function handleAppendResponse(raft: Raft, message: AppendResponse): void {
  const progress = raft.tracker.progress.get(message.from);
  if (progress === undefined) return;
  progress.isRecentlyActive = true;
  if (message.isRejected) {
    let nextProbeIndex = message.hintIndex;
    if (message.hintTerm > 0) {
      nextProbeIndex = raft.log.findConflictByTerm(message.hintIndex, message.hintTerm);
    }
    if (progress.maybeDecrement(message.index, nextProbeIndex)) {
      if (progress.state === 'replicate') progress.becomeProbe();
      maybeSendAppend(raft, message.from, true);
    }
    return;
  }
  const wasPaused = progress.isPaused();
  if (!progress.maybeUpdate(message.index)) return;
  if (progress.state === 'probe') {
    progress.becomeReplicate();
  } else if (progress.state === 'snapshot' && progress.matchIndex + 1 >= raft.log.firstIndex()) {
    progress.becomeProbe();
    progress.becomeReplicate();
  } else if (progress.state === 'replicate') {
    progress.inflights.freeUpTo(message.index);
  }
  if (maybeCommit(raft)) {
    releaseReadsAwaitingCommit(raft);
    broadcastAppend(raft);
  } else if (wasPaused) {
    maybeSendAppend(raft, message.from, true);
  }
  sendAppendsWhileAllowed(raft, message.from);
  if (
    message.from === raft.leadershipTransfereeId &&
    progress.matchIndex === raft.log.lastIndex()
  ) {
    sendTimeoutNow(raft, message.from);
  }
}

/** A heartbeat came back: the follower is alive, and it may confirm a pending read. */
function handleHeartbeatResponse(raft: Raft, message: HeartbeatResponse): void {
  const progress = raft.tracker.progress.get(message.from);
  if (progress === undefined) return;
  progress.isRecentlyActive = true;
  progress.isProbeSent = false;
  if (progress.state === 'replicate' && progress.inflights.isFull()) progress.inflights.freeFirst();
  if (progress.matchIndex < raft.log.lastIndex()) maybeSendAppend(raft, message.from, true);
  if (message.readContext === null) return;
  const acknowledgements = raft.readIndexQueue.acknowledge(message.readContext, message.from);
  if (acknowledgements === null) return;
  const { voters, votersOutgoing } = raft.tracker.configuration;
  if (jointVoteResult(voters, votersOutgoing, acknowledgements) === 'won') {
    for (const read of raft.readIndexQueue.releaseThrough(message.readContext)) {
      answerRead(raft, read.readContext, read.requesterId, read.readIndex);
    }
  }
}

/** A follower forwarded a linearizable read. */
function handleReadIndexRequest(raft: Raft, message: ReadIndexRequest): void {
  startRead(raft, message.readContext, message.from);
}

/**
 * Starts a ReadIndex round for a read from `requesterId` (this node or a follower). Until the
 * leader has committed an entry of its term it does not know the true commit index, so the
 * read waits for that first (thesis §6.4).
 */
export function startRead(raft: Raft, readContext: string, requesterId: NodeId): DropReason | null {
  const queued = raft.readIndexQueue.size + raft.readsAwaitingCommit.length;
  if (queued >= raft.options.pendingReadRequestsMax) return 'pendingReadRequestsLimit';
  if (raft.log.term(raft.log.committed) !== raft.term) {
    raft.readsAwaitingCommit.push({ readContext, requesterId });
    return null;
  }
  confirmRead(raft, readContext, requesterId);
  return null;
}

function confirmRead(raft: Raft, readContext: string, requesterId: NodeId): void {
  const readIndex = raft.log.committed;
  if (raft.tracker.isSoleVoter(raft.id)) {
    answerRead(raft, readContext, requesterId, readIndex);
    return;
  }
  if (raft.readIndexQueue.has(readContext)) return;
  raft.readIndexQueue.add(readContext, readIndex, requesterId, raft.id);
  // One heartbeat round per Ready confirms every read queued before it (see raw-node.ts).
  raft.isReadHeartbeatPending = true;
}

/** The leader just committed in its term: start the reads that waited for it. */
export function releaseReadsAwaitingCommit(raft: Raft): void {
  if (raft.readsAwaitingCommit.length === 0) return;
  if (raft.log.term(raft.log.committed) !== raft.term) return;
  const reads = raft.readsAwaitingCommit;
  raft.readsAwaitingCommit = [];
  for (const read of reads) confirmRead(raft, read.readContext, read.requesterId);
}

function answerRead(
  raft: Raft,
  readContext: string,
  requesterId: NodeId,
  readIndex: LogIndex,
): void {
  if (requesterId === raft.id) {
    raft.readStates.push({ index: readIndex, readContext });
    return;
  }
  raft.send({
    from: raft.id,
    to: requesterId,
    term: raft.term,
    kind: 'readIndexResponse',
    readContext,
    readIndex,
  });
}

/** Starts handing leadership to `targetId`: catch it up, then tell it to campaign. */
export function transferLeadership(raft: Raft, targetId: NodeId): TransferResult {
  if (raft.role !== 'leader') return { kind: 'rejected', reason: 'notLeader' };
  if (targetId === raft.id) return { kind: 'rejected', reason: 'alreadyLeader' };
  if (raft.leadershipTransfereeId !== 0) return { kind: 'rejected', reason: 'transferInProgress' };
  const progress = raft.tracker.progress.get(targetId);
  if (progress === undefined || progress.isLearner) {
    return { kind: 'rejected', reason: 'targetNotVoter' };
  }
  raft.leadershipTransfereeId = targetId;
  // The transfer must finish within one election timeout or it is abandoned (tick.ts).
  raft.electionElapsedTicks = 0;
  raft.logger.info({ nodeId: raft.id, term: raft.term, targetId }, 'leadership transfer started');
  if (progress.matchIndex === raft.log.lastIndex()) sendTimeoutNow(raft, targetId);
  else maybeSendAppend(raft, targetId, true);
  return { kind: 'started', targetId };
}

function sendTimeoutNow(raft: Raft, to: NodeId): void {
  raft.send({ from: raft.id, to, term: raft.term, kind: 'timeoutNowRequest' });
}
