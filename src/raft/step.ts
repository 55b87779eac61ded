/**
 * Entry point for every message from a peer: the term rules of §5.1 (with the leader lease
 * of CheckQuorum and the PreVote exceptions of thesis §9.6), vote requests, then dispatch to
 * the current role's handlers.
 */
import { assertNever } from '../common/index.js';
import type { Message, VoteRequest } from './message.js';
import type { Raft } from './raft.js';
import { stepCandidate } from './roles/candidate.js';
import { stepFollower } from './roles/follower.js';
import { stepLeader } from './roles/leader.js';

/** Handles one message addressed to this node. Bad or stale peer input is dropped, not asserted. */
export function stepMessage(raft: Raft, message: Message): void {
  if (message.to !== raft.id) return;
  if (message.term > raft.term) {
    if (!handleHigherTerm(raft, message)) return;
  } else if (message.term < raft.term) {
    handleLowerTerm(raft, message);
    return;
  }
  if (message.kind === 'voteRequest' || message.kind === 'preVoteRequest') {
    handleVoteRequest(raft, message);
    return;
  }
  stepRole(raft, message);
}

function stepRole(raft: Raft, message: Message): void {
  switch (raft.role) {
    case 'leader':
      return stepLeader(raft, message);
    case 'candidate':
    case 'preCandidate':
      if (isFromLeader(message)) {
        // Someone won this term (§5.2): follow it.
        raft.becomeFollower(raft.term, message.from, 'leaderSeen');
        return stepFollower(raft, message);
      }
      return stepCandidate(raft, message);
    case 'follower':
      return stepFollower(raft, message);
    default:
      return assertNever(raft.role, 'role');
  }
}

/** Whether only a leader sends this kind of message. */
function isFromLeader(message: Message): boolean {
  return (
    message.kind === 'appendRequest' ||
    message.kind === 'heartbeatRequest' ||
    message.kind === 'installSnapshotRequest'
  );
}

/** Returns whether the message should still be handled after the term rules. */
function handleHigherTerm(raft: Raft, message: Message): boolean {
  if (message.kind === 'voteRequest' || message.kind === 'preVoteRequest') {
    // Leader lease: while we hear from a leader, ignore campaigns (thesis §4.2.3), unless the
    // leader itself asked for the election by a transfer.
    const isInLease =
      raft.options.isCheckQuorumEnabled &&
      raft.leaderId !== 0 &&
      raft.electionElapsedTicks < raft.options.electionTimeoutTicks;
    if (isInLease && !message.isLeadershipTransfer) return false;
    // A pre-vote request never changes our term.
    if (message.kind === 'preVoteRequest') return true;
  }
  if (message.kind === 'preVoteResponse' && message.isGranted) return true;
  raft.becomeFollower(message.term, isFromLeader(message) ? message.from : 0, 'higherTerm');
  return true;
}

function handleLowerTerm(raft: Raft, message: Message): void {
  const usesLeases = raft.options.isCheckQuorumEnabled || raft.options.isPreVoteEnabled;
  if (usesLeases && (message.kind === 'appendRequest' || message.kind === 'heartbeatRequest')) {
    // A stale leader (or a node whose term we out-raced while it was partitioned) learns our
    // term from this answer and steps down; without it, it could stay stuck forever.
    raft.send({
      from: raft.id,
      to: message.from,
      term: raft.term,
      kind: 'appendResponse',
      isRejected: true,
      index: 0,
      hintIndex: 0,
      hintTerm: 0,
    });
  } else if (message.kind === 'preVoteRequest') {
    raft.send({
      from: raft.id,
      to: message.from,
      term: raft.term,
      kind: 'preVoteResponse',
      isGranted: false,
    });
  }
}

/** Grants a vote to an up-to-date candidate we can still vote for (§5.2, §5.4.1). */
function handleVoteRequest(raft: Raft, message: VoteRequest): void {
  const isPreVote = message.kind === 'preVoteRequest';
  const canVote =
    raft.votedFor === message.from ||
    (raft.votedFor === 0 && raft.leaderId === 0) ||
    (isPreVote && message.term > raft.term);
  const isGranted = canVote && raft.log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
  const responseKind = isPreVote ? 'preVoteResponse' : 'voteResponse';
  // A granted answer carries the requested term so the asker counts it; a refusal carries ours.
  const term = isGranted ? message.term : raft.term;
  raft.send({ from: raft.id, to: message.from, term, kind: responseKind, isGranted });
  if (isGranted && !isPreVote) {
    raft.electionElapsedTicks = 0;
    raft.votedFor = message.from;
  }
  raft.logger.debug(
    { nodeId: raft.id, term: raft.term, candidateId: message.from, isPreVote, isGranted },
    'vote request answered',
  );
}
