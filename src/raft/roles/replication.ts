/**
 * How a leader sends its log: append requests under flow control (probe, replicate and snapshot
 * states, an in-flight window and a byte cap per message), heartbeats, snapshots, and the commit
 * rule of §5.4.2 (only entries of the leader's own term are committed by counting replicas).
 */
import { assert, type NodeId } from '../../common/index.js';
import { entrySizeBytes } from '../entry.js';
import type { Raft } from '../raft.js';

/**
 * Sends the follower the entries after its nextIndex if flow control allows. With
 * `isEmptySendAllowed` an append request without entries still goes out (to carry the commit
 * index or probe). Falls back to a snapshot when the entries are compacted. Returns whether a
 * message was queued.
 */
export function maybeSendAppend(raft: Raft, to: NodeId, isEmptySendAllowed: boolean): boolean {
  const progress = raft.tracker.progress.get(to);
  if (progress === undefined || progress.isPaused()) return false;
  const prevLogIndex = progress.nextIndex - 1;
  const prevLogTerm = raft.log.term(prevLogIndex);
  const entries = raft.log.slice(
    progress.nextIndex,
    raft.log.lastIndex() + 1,
    raft.options.appendRequestBytesMax,
  );
  if (prevLogTerm === null || entries === 'compacted') return maybeSendSnapshot(raft, to);
  if (entries.length === 0 && !isEmptySendAllowed) return false;
  raft.send({
    from: raft.id,
    to,
    term: raft.term,
    kind: 'appendRequest',
    prevLogIndex,
    prevLogTerm,
    entries,
    leaderCommit: raft.log.committed,
  });
  let sizeBytes = 0;
  for (const entry of entries) sizeBytes += entrySizeBytes(entry);
  progress.sentEntries(prevLogIndex + entries.length, entries.length, sizeBytes);
  return true;
}

/** Sends the follower as many append requests as its window allows. */
export function sendAppendsWhileAllowed(raft: Raft, to: NodeId): void {
  for (let sent = 0; sent < raft.options.inflightMessagesMax; sent++) {
    if (!maybeSendAppend(raft, to, false)) return;
  }
}

/** Sends the latest snapshot to a follower whose next entry is compacted away. */
function maybeSendSnapshot(raft: Raft, to: NodeId): boolean {
  const progress = raft.tracker.progress.get(to);
  assert(progress !== undefined, 'snapshot target must be tracked');
  if (!progress.isRecentlyActive) return false;
  const snapshot = raft.log.unstable.snapshot ?? raft.log.storage.snapshot();
  if (snapshot === 'unavailable') return false;
  assert(snapshot.metadata.index > 0, 'a compacted log implies a snapshot');
  progress.becomeSnapshot(snapshot.metadata.index);
  raft.send({ from: raft.id, to, term: raft.term, kind: 'installSnapshotRequest', snapshot });
  raft.logger.info(
    { nodeId: raft.id, term: raft.term, to, snapshotIndex: snapshot.metadata.index },
    'sending snapshot',
  );
  return true;
}

/** Sends every other member its next entries (or an empty append carrying the commit index). */
export function broadcastAppend(raft: Raft): void {
  for (const id of raft.tracker.progress.keys()) {
    if (id !== raft.id) maybeSendAppend(raft, id, true);
  }
}

/** Sends every other member a heartbeat, tagged with the newest pending read context. */
export function broadcastHeartbeat(raft: Raft, readContext: string | null): void {
  for (const [id, progress] of raft.tracker.progress) {
    if (id === raft.id) continue;
    raft.send({
      from: raft.id,
      to: id,
      term: raft.term,
      kind: 'heartbeatRequest',
      // A follower may not have the entries we committed: commit only what it acknowledged.
      leaderCommit: Math.min(progress.matchIndex, raft.log.committed),
      readContext,
    });
  }
}

/**
 * Advances the commit index to what a quorum has acknowledged, if that entry is from the
 * current term (§5.4.2, Figure 8). Returns whether the commit index moved.
 */
export function maybeCommit(raft: Raft): boolean {
  const quorumIndex = raft.tracker.committedIndex();
  if (raft.options.deliberateBugs.isCommitByCountingPreviousTerm === true) {
    if (quorumIndex <= raft.log.committed || quorumIndex > raft.log.lastIndex()) return false;
    raft.log.commitTo(quorumIndex);
    return true;
  }
  return raft.log.maybeCommit(Math.min(quorumIndex, raft.log.lastIndex()), raft.term);
}
