/**
 * The follower's side of Raft: accepting appends with conflict hints (§5.3), heartbeats,
 * installing snapshots (§7), campaigning on TimeoutNow (thesis §3.10), and receiving confirmed
 * reads. Followers never forward messages they cannot handle; clients retry elsewhere.
 */
import type {
  AppendRequest,
  HeartbeatRequest,
  InstallSnapshotRequest,
  Message,
} from '../message.js';
import type { Raft } from '../raft.js';
import { campaign } from './candidate.js';

/** Dispatches a message of the follower's own term. */
export function stepFollower(raft: Raft, message: Message): void {
  switch (message.kind) {
    case 'appendRequest':
      noteLeader(raft, message.from);
      return handleAppendRequest(raft, message);
    case 'heartbeatRequest':
      noteLeader(raft, message.from);
      return handleHeartbeatRequest(raft, message);
    case 'installSnapshotRequest':
      noteLeader(raft, message.from);
      return handleInstallSnapshotRequest(raft, message);
    case 'timeoutNowRequest':
      raft.logger.info({ nodeId: raft.id, term: raft.term }, 'campaigning on leader request');
      return campaign(raft, 'transfer');
    case 'readIndexResponse':
      raft.readStates.push({ index: message.readIndex, readContext: message.readContext });
      return;
    default:
      return;
  }
}

/** Any message from the leader of our term resets the election timer. */
function noteLeader(raft: Raft, leaderId: number): void {
  raft.electionElapsedTicks = 0;
  raft.leaderId = leaderId;
}

function handleAppendRequest(raft: Raft, message: AppendRequest): void {
  const { log } = raft;
  if (message.prevLogIndex < log.committed) {
    // Already committed here: tell the leader how far we are without touching the log.
    respondAppend(raft, message.from, false, log.committed, 0, 0);
    return;
  }
  const lastNewIndex = log.maybeAppend(
    message.prevLogIndex,
    message.prevLogTerm,
    message.leaderCommit,
    message.entries,
  );
  if (lastNewIndex !== null) {
    respondAppend(raft, message.from, false, lastNewIndex, 0, 0);
    return;
  }
  // Hint the last index that could match: at most our last index, and skipping every entry
  // whose term is above prevLogTerm, so the leader can jump a whole term at once.
  const hintIndex = log.findConflictByTerm(
    Math.min(message.prevLogIndex, log.lastIndex()),
    message.prevLogTerm,
  );
  const hintTerm = log.term(hintIndex) ?? 0;
  respondAppend(raft, message.from, true, message.prevLogIndex, hintIndex, hintTerm);
}

function respondAppend(
  raft: Raft,
  to: number,
  isRejected: boolean,
  index: number,
  hintIndex: number,
  hintTerm: number,
): void {
  raft.send({
    from: raft.id,
    to,
    term: raft.term,
    kind: 'appendResponse',
    isRejected,
    index,
    hintIndex,
    hintTerm,
  });
}

function handleHeartbeatRequest(raft: Raft, message: HeartbeatRequest): void {
  raft.log.commitTo(Math.min(message.leaderCommit, raft.log.lastIndex()));
  raft.send({
    from: raft.id,
    to: message.from,
    term: raft.term,
    kind: 'heartbeatResponse',
    readContext: message.readContext,
  });
}

/**
 * Installs a snapshot unless our log already holds its last entry; either way answers with the
 * index we now match, so the leader resumes normal replication.
 */
function handleInstallSnapshotRequest(raft: Raft, message: InstallSnapshotRequest): void {
  const { metadata } = message.snapshot;
  const { log } = raft;
  if (metadata.index <= log.committed) {
    respondAppend(raft, message.from, false, log.committed, 0, 0);
    return;
  }
  if (log.matchTerm(metadata.index, metadata.term)) {
    log.commitTo(metadata.index);
    respondAppend(raft, message.from, false, log.committed, 0, 0);
    return;
  }
  log.restore(message.snapshot);
  raft.tracker.setConfiguration(metadata.configuration, log.lastIndex());
  raft.logger.info(
    {
      nodeId: raft.id,
      term: raft.term,
      snapshotIndex: metadata.index,
      snapshotTerm: metadata.term,
    },
    'installed snapshot',
  );
  respondAppend(raft, message.from, false, log.lastIndex(), 0, 0);
}
