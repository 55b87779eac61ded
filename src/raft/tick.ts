/**
 * Logical time: followers and candidates count toward an election timeout; the leader counts
 * toward heartbeats and, every election timeout, checks that a quorum is still in touch
 * (CheckQuorum) and gives up an unfinished leadership transfer.
 */
import type { Raft } from './raft.js';
import { campaign } from './roles/candidate.js';
import { broadcastHeartbeat } from './roles/replication.js';

/** Advances this node's clock by one tick. */
export function tickRaft(raft: Raft): void {
  if (raft.role === 'leader') tickLeader(raft);
  else tickElection(raft);
}

function tickElection(raft: Raft): void {
  raft.electionElapsedTicks++;
  if (raft.isPromotable() && raft.isPastElectionTimeout()) {
    raft.electionElapsedTicks = 0;
    campaign(raft, raft.options.isPreVoteEnabled ? 'preVote' : 'vote');
  }
}

function tickLeader(raft: Raft): void {
  raft.heartbeatElapsedTicks++;
  raft.electionElapsedTicks++;
  if (raft.electionElapsedTicks >= raft.options.electionTimeoutTicks) {
    raft.electionElapsedTicks = 0;
    if (raft.options.isCheckQuorumEnabled && !checkQuorum(raft)) return;
    if (raft.leadershipTransfereeId !== 0) {
      raft.logger.info(
        { nodeId: raft.id, term: raft.term, targetId: raft.leadershipTransfereeId },
        'leadership transfer abandoned',
      );
      raft.leadershipTransfereeId = 0;
    }
  }
  retryStalledSnapshots(raft);
  if (raft.heartbeatElapsedTicks >= raft.options.heartbeatIntervalTicks) {
    raft.heartbeatElapsedTicks = 0;
    broadcastHeartbeat(raft, raft.readIndexQueue.lastContext());
  }
}

/** Steps down if a quorum was not heard from in the last election timeout. */
function checkQuorum(raft: Raft): boolean {
  const isActive = raft.tracker.isQuorumActive(raft.id);
  for (const [id, progress] of raft.tracker.progress) {
    if (id !== raft.id) progress.isRecentlyActive = false;
  }
  if (isActive) return true;
  raft.becomeFollower(raft.term, 0, 'quorumLost');
  return false;
}

/**
 * A snapshot message can be lost without anyone telling us. After two election timeouts
 * without an answer, probe again (which sends the snapshot again if still needed).
 */
function retryStalledSnapshots(raft: Raft): void {
  for (const progress of raft.tracker.progress.values()) {
    if (progress.state !== 'snapshot') continue;
    progress.ticksSinceSnapshotSent++;
    if (progress.ticksSinceSnapshotSent >= 2 * raft.options.electionTimeoutTicks) {
      progress.becomeProbe();
    }
  }
}
