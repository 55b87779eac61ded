/**
 * Elections (§5.2) with the PreVote phase (thesis §9.6): starting a campaign, asking voters, and
 * counting answers. A pre-candidate only raises its term once a quorum says it could win, so a
 * node rejoining from a partition cannot disrupt a healthy leader.
 */
import type { Message, VoteResponse } from '../message.js';
import type { Raft } from '../raft.js';
import { becomeLeader } from './leader.js';

/** How an election starts: after a timeout (with pre-vote if enabled) or on a transfer. */
export type CampaignKind = 'preVote' | 'vote' | 'transfer';

/**
 * Starts an election if this node may: it must be a voter and must have applied every committed
 * configuration change (it might not be a voter under the next one).
 */
export function campaign(raft: Raft, kind: CampaignKind): void {
  if (raft.role === 'leader' || !raft.isPromotable()) return;
  if (hasUnappliedConfigurationChange(raft)) {
    raft.logger.info(
      { nodeId: raft.id, term: raft.term },
      'not campaigning: configuration pending',
    );
    return;
  }
  if (kind === 'preVote') raft.becomePreCandidate();
  else raft.becomeCandidate(kind === 'transfer' ? 'leadershipTransfer' : 'electionTimeout');
  const isPreVote = kind === 'preVote';
  const term = isPreVote ? raft.term + 1 : raft.term;
  if (raft.tracker.recordVote(raft.id, true) === 'won') {
    // A single voter wins at once; a pre-vote win goes on to the real election.
    if (isPreVote) campaign(raft, 'vote');
    else becomeLeader(raft);
    return;
  }
  const lastLogIndex = raft.log.lastIndex();
  const lastLogTerm = raft.log.lastTerm();
  for (const id of raft.tracker.voterIds()) {
    if (id === raft.id) continue;
    raft.send({
      from: raft.id,
      to: id,
      term,
      kind: isPreVote ? 'preVoteRequest' : 'voteRequest',
      lastLogIndex,
      lastLogTerm,
      isLeadershipTransfer: kind === 'transfer',
    });
  }
}

function hasUnappliedConfigurationChange(raft: Raft): boolean {
  const { applied, committed } = raft.log;
  if (committed <= applied) return false;
  const entries = raft.log.slice(applied + 1, committed + 1, Number.MAX_SAFE_INTEGER);
  if (entries === 'compacted') return false;
  return entries.some((entry) => entry.kind === 'configurationChange');
}

/** Dispatches a message of the (pre-)candidate's own term. */
export function stepCandidate(raft: Raft, message: Message): void {
  const expected = raft.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
  if (message.kind === expected) handleVoteResponse(raft, message as VoteResponse);
}

function handleVoteResponse(raft: Raft, message: VoteResponse): void {
  const result = raft.tracker.recordVote(message.from, message.isGranted);
  if (result === 'won') {
    if (raft.role === 'preCandidate') campaign(raft, 'vote');
    else becomeLeader(raft);
  } else if (result === 'lost') {
    raft.becomeFollower(raft.term, 0, 'electionLost');
  }
}
