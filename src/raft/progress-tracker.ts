/**
 * The leader's and candidates' bookkeeping over the current membership: one Progress per member,
 * the votes of an election, and the quorum questions (committed index, vote result, is a quorum
 * active) answered over a simple or joint configuration. Owns no I/O.
 */
import type { LogIndex, NodeId } from '../common/index.js';
import {
  type ConfigurationState,
  EMPTY_CONFIGURATION,
  isVoter,
  memberIds,
} from './configuration.js';
import { jointCommittedIndex, jointVoteResult, type VoteResult } from './quorum/index.js';
import { Progress } from './tracker/index.js';

/** Limits the tracker needs to build new Progress records. */
export interface ProgressLimits {
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
}

/** Membership, per-member progress and votes. */
export class ProgressTracker {
  configuration: ConfigurationState = EMPTY_CONFIGURATION;
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  private readonly limits: ProgressLimits;
  private readonly ackedLookup = (id: NodeId): LogIndex | undefined => {
    return this.progress.get(id)?.matchIndex;
  };

  constructor(limits: ProgressLimits) {
    this.limits = limits;
  }

  /** Voters of both sides of a joint configuration, without duplicates. */
  voterIds(): NodeId[] {
    const { voters, votersOutgoing } = this.configuration;
    if (votersOutgoing.length === 0) return [...voters];
    return [...new Set([...voters, ...votersOutgoing])];
  }

  isVoter(id: NodeId): boolean {
    return isVoter(this.configuration, id);
  }

  /** Whether `id` is the only voter (on both sides of a joint configuration). */
  isSoleVoter(id: NodeId): boolean {
    const { voters, votersOutgoing } = this.configuration;
    const isSoleIn = (set: readonly NodeId[]): boolean => set.length === 1 && set[0] === id;
    return isSoleIn(voters) && (votersOutgoing.length === 0 || isSoleIn(votersOutgoing));
  }

  /** The largest index a quorum (both majorities when joint) has acknowledged. */
  committedIndex(): LogIndex {
    const { voters, votersOutgoing } = this.configuration;
    return jointCommittedIndex(voters, votersOutgoing, this.ackedLookup);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote (the first answer from a voter wins) and returns the election's state. */
  recordVote(id: NodeId, isGranted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, isGranted);
    return this.voteResult();
  }

  voteResult(): VoteResult {
    const { voters, votersOutgoing } = this.configuration;
    return jointVoteResult(voters, votersOutgoing, this.votes);
  }

  /** Whether a quorum was recently active, counting `selfId` as active (CheckQuorum). */
  isQuorumActive(selfId: NodeId): boolean {
    const activity = new Map<NodeId, boolean>();
    for (const [id, progress] of this.progress) {
      if (!progress.isLearner) activity.set(id, id === selfId || progress.isRecentlyActive);
    }
    const { voters, votersOutgoing } = this.configuration;
    return jointVoteResult(voters, votersOutgoing, activity) === 'won';
  }

  /**
   * Switches to a new membership: keeps the progress of remaining members (updating their
   * learner flag), creates probe-state progress for new ones and drops removed ones.
   */
  setConfiguration(configuration: ConfigurationState, lastIndex: LogIndex): void {
    this.configuration = configuration;
    const ids = memberIds(configuration);
    for (const id of [...this.progress.keys()]) {
      if (!ids.includes(id)) this.progress.delete(id);
    }
    for (const id of ids) {
      const isLearner = !this.isVoter(id);
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = isLearner;
        continue;
      }
      const progress = this.newProgress(lastIndex, isLearner);
      progress.isRecentlyActive = true;
      this.progress.set(id, progress);
    }
  }

  /** Resets every member's progress to an optimistic probe at lastIndex + 1. */
  resetProgress(lastIndex: LogIndex): void {
    for (const [id, progress] of this.progress) {
      this.progress.set(id, this.newProgress(lastIndex, progress.isLearner));
    }
  }

  private newProgress(lastIndex: LogIndex, isLearner: boolean): Progress {
    return new Progress({
      nextIndex: lastIndex + 1,
      matchIndex: 0,
      isLearner,
      inflightMessagesMax: this.limits.inflightMessagesMax,
      inflightBytesMax: this.limits.inflightBytesMax,
    });
  }
}
