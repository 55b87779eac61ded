/**
 * The public face of the consensus core, in the shape of etcd-io/raft's RawNode: inputs
 * (`tick`, `step`, `propose`, ...) change state and queue output; `ready()` hands the output to
 * the shell in the order it must be handled; `advance()` acknowledges it. Synchronous,
 * deterministic, single-threaded: the shell owns the only reference and never calls an input
 * between `ready()` and `advance()`.
 */
import { assert, type NodeId } from '../common/index.js';
import type { ConfigurationChange } from './configuration.js';
import { type Entry, entrySizeBytes, type HardState } from './entry.js';
import { checkInvariants } from './invariants.js';
import {
  applyConfigurationChange,
  maybeLeaveJoint,
  proposeConfigurationChange,
} from './membership.js';
import type { Message } from './message.js';
import { Raft } from './raft.js';
import type { RaftOptions } from './raft-options.js';
import { isHardStateEqual, isSyncNeeded, type Ready, type SoftState } from './ready.js';
import {
  dropped,
  type ProposeResult,
  type ReadIndexResult,
  type TransferResult,
} from './results.js';
import { campaign } from './roles/candidate.js';
import { appendEntries, leaderDropReason, startRead, transferLeadership } from './roles/leader.js';
import { broadcastAppend, broadcastHeartbeat } from './roles/replication.js';
import type { ProgressStatus, Status } from './status.js';
import { stepMessage } from './step.js';
import { tickRaft } from './tick.js';

/** A Raft participant driven by its shell. See ready.ts for the shell's obligations. */
export class RawNode {
  private readonly raft: Raft;
  private previousHardState: HardState;
  private previousSoftState: SoftState;
  private outstanding: Ready | null = null;

  private constructor(raft: Raft) {
    this.raft = raft;
    this.previousHardState = this.hardState();
    this.previousSoftState = this.softState();
  }

  /** Builds a node over its stored log. The node starts as a follower. */
  static create(options: RaftOptions): RawNode {
    return new RawNode(new Raft(options));
  }

  /** Advances logical time by one tick. */
  tick(): void {
    this.input(() => tickRaft(this.raft));
  }

  /** Handles a message from a peer. Messages for another node or from stale terms are dropped. */
  step(message: Message): void {
    this.input(() => stepMessage(this.raft, message));
  }

  /** Starts an election now (with a pre-vote round if enabled), if this node may campaign. */
  campaign(): void {
    this.input(() => campaign(this.raft, this.raft.options.isPreVoteEnabled ? 'preVote' : 'vote'));
  }

  /**
   * Proposes a command. The leader appends it; a follower forwards it to the leader it knows
   * (the shell learns the outcome by watching applied entries); without a leader it is dropped.
   */
  propose(command: Uint8Array): ProposeResult {
    return this.input(() => this.proposeCommand(command));
  }

  /** Proposes a membership change; only the leader accepts it (see membership.ts). */
  proposeConfChange(change: ConfigurationChange): ProposeResult {
    return this.input(() => proposeConfigurationChange(this.raft, change));
  }

  /**
   * Asks for a linearizable read. When confirmed, `readContext` appears in `Ready.readStates`
   * with the index the state machine must have applied before the read is served.
   */
  readIndex(readContext: string): ReadIndexResult {
    return this.input((): ReadIndexResult => {
      const raft = this.raft;
      if (raft.role === 'leader') {
        const reason = startRead(raft, readContext, raft.id);
        return reason === null ? { kind: 'pending' } : dropped(reason, raft.leaderId);
      }
      if (raft.leaderId === 0) return dropped('noLeader', 0);
      raft.send({
        from: raft.id,
        to: raft.leaderId,
        term: raft.term,
        kind: 'readIndexRequest',
        readContext,
      });
      return { kind: 'forwarded', leaderId: raft.leaderId };
    });
  }

  /** Starts moving leadership to a voter; proposals are dropped until it ends. */
  transferLeadership(targetId: NodeId): TransferResult {
    return this.input(() => transferLeadership(this.raft, targetId));
  }

  /** The transport could not reach a peer: stop streaming to it and probe again. */
  reportUnreachable(peerId: NodeId): void {
    this.input(() => {
      const progress = this.leaderProgress(peerId);
      if (progress !== undefined && progress.state === 'replicate') progress.becomeProbe();
    });
  }

  /**
   * The transport lost its connection to `peerId` in a way that suggests the process is gone
   * (the connection was reset). If `peerId` is this follower's leader, the follower forgets it:
   * it no longer holds a leader lease against campaigns and counts as past its base election
   * timeout, so the shell may call {@link campaign} at once instead of waiting a whole election
   * timeout. Safe against a false alarm: with PreVote, a campaign cannot disrupt a leader that
   * the others still hear from; and a heartbeat from the leader restores it. Returns whether
   * the leader was forgotten.
   */
  reportLeaderLost(peerId: NodeId): boolean {
    return this.input(() => {
      const raft = this.raft;
      if (raft.role !== 'follower' || peerId === 0 || raft.leaderId !== peerId) return false;
      raft.logger.info(
        { nodeId: raft.id, term: raft.term, leaderId: peerId },
        'connection to the leader lost: lease dropped',
      );
      raft.leaderId = 0;
      raft.electionElapsedTicks = Math.max(
        raft.electionElapsedTicks,
        raft.options.electionTimeoutTicks,
      );
      return true;
    });
  }

  /** The transport finished (or failed) sending a snapshot to a peer. */
  reportSnapshotStatus(peerId: NodeId, isSuccess: boolean): void {
    this.input(() => {
      const progress = this.leaderProgress(peerId);
      if (progress === undefined || progress.state !== 'snapshot') return;
      if (!isSuccess) progress.pendingSnapshotIndex = 0;
      progress.becomeProbe();
      // Wait for the next heartbeat answer before probing (the follower may still be busy).
      progress.isProbeSent = true;
    });
  }

  /** Whether `ready()` would return something to do. */
  hasReady(): boolean {
    this.flushBatchedOutput();
    const raft = this.raft;
    return (
      raft.outbox.length > 0 ||
      raft.readStates.length > 0 ||
      raft.log.unstable.entries.length > 0 ||
      raft.log.unstable.snapshot !== null ||
      raft.log.hasNextCommittedEntries() ||
      !isHardStateEqual(this.hardState(), this.previousHardState) ||
      !isSoftStateEqual(this.softState(), this.previousSoftState)
    );
  }

  /** Returns the work for the shell (see ready.ts). Must be followed by `advance()`. */
  ready(): Ready {
    assert(this.outstanding === null, 'ready() called twice without advance()');
    this.flushBatchedOutput();
    const raft = this.raft;
    const { log } = raft;
    const hardState = this.hardState();
    const softState = this.softState();
    const snapshot = log.unstable.snapshot;
    const entries = [...log.unstable.entries];
    const committedEntries = log.nextCommittedEntries(raft.options.committedEntriesBytesMax);
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) log.applying = lastCommitted.index;
    const isHardStateChanged = !isHardStateEqual(hardState, this.previousHardState);
    const mustSync = raft.options.deliberateBugs.isVoteGrantedWithoutSync
      ? entries.length > 0 || snapshot !== null
      : snapshot !== null || isSyncNeeded(this.previousHardState, hardState, entries.length);
    const ready: Ready = {
      softState: isSoftStateEqual(softState, this.previousSoftState) ? null : softState,
      hardState: isHardStateChanged ? hardState : null,
      snapshot,
      entries,
      mustSync,
      messages: raft.outbox,
      committedEntries,
      readStates: raft.readStates,
    };
    raft.outbox = [];
    raft.readStates = [];
    this.outstanding = ready;
    return ready;
  }

  /** Acknowledges that the last Ready was handled: persisted, sent and applied. */
  advance(): void {
    const ready = this.outstanding;
    assert(ready !== null, 'advance() without ready()');
    this.outstanding = null;
    const raft = this.raft;
    if (ready.hardState !== null) this.previousHardState = ready.hardState;
    if (ready.softState !== null) this.previousSoftState = ready.softState;
    if (ready.snapshot !== null) {
      const snapshotIndex = ready.snapshot.metadata.index;
      raft.log.unstable.stableSnapshotTo(snapshotIndex);
      raft.log.applied = Math.max(raft.log.applied, snapshotIndex);
      raft.log.applying = Math.max(raft.log.applying, snapshotIndex);
    }
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) raft.log.unstable.stableTo(lastEntry.index, lastEntry.term);
    this.applyCommitted(ready.committedEntries);
    maybeLeaveJoint(raft);
    checkInvariants(raft);
  }

  /** A picture of the node's state now. */
  status(): Status {
    const raft = this.raft;
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (raft.role === 'leader') {
      progress = new Map();
      for (const [id, member] of raft.tracker.progress) {
        const { matchIndex, nextIndex, state, isLearner, isRecentlyActive } = member;
        progress.set(id, { matchIndex, nextIndex, state, isLearner, isRecentlyActive });
      }
    }
    return {
      id: raft.id,
      role: raft.role,
      term: raft.term,
      votedFor: raft.votedFor,
      leaderId: raft.leaderId,
      commitIndex: raft.log.committed,
      appliedIndex: raft.log.applied,
      firstIndex: raft.log.firstIndex(),
      lastIndex: raft.log.lastIndex(),
      configuration: raft.tracker.configuration,
      leadershipTransfereeId: raft.leadershipTransfereeId,
      progress,
    };
  }

  private proposeCommand(command: Uint8Array): ProposeResult {
    const raft = this.raft;
    if (raft.role === 'leader') {
      const reason = leaderDropReason(raft);
      if (reason !== null) return dropped(reason, raft.leaderId);
      const appended = appendEntries(raft, [{ kind: 'normal', data: command }], true);
      if (appended === null) return dropped('uncommittedBytesLimit', raft.leaderId);
      return { kind: 'appended', index: appended.lastIndex, term: raft.term };
    }
    if (raft.leaderId === 0) return dropped('noLeader', 0);
    if (raft.forwardedBytes + command.byteLength > raft.options.uncommittedBytesMax) {
      return dropped('uncommittedBytesLimit', raft.leaderId);
    }
    raft.forwardedCommands.push(command);
    raft.forwardedBytes += command.byteLength;
    return { kind: 'forwarded', leaderId: raft.leaderId };
  }

  /** Applies configuration entries among the acknowledged committed entries, in order. */
  private applyCommitted(entries: readonly Entry[]): void {
    const raft = this.raft;
    // Only a leader limits uncommitted bytes; sizing entries elsewhere would be wasted work.
    if (raft.role === 'leader') {
      let appliedBytes = 0;
      for (const entry of entries) appliedBytes += entrySizeBytes(entry);
      raft.uncommittedBytes = Math.max(0, raft.uncommittedBytes - appliedBytes);
    }
    for (const entry of entries) {
      raft.log.applied = entry.index;
      if (entry.kind === 'configurationChange') applyConfigurationChange(raft, entry.change);
    }
  }

  /** Sends what inputs batched up: the leader's appends, a follower's forwarded proposals. */
  private flushBatchedOutput(): void {
    const raft = this.raft;
    if (raft.isAppendBroadcastPending) {
      raft.isAppendBroadcastPending = false;
      if (raft.role === 'leader') broadcastAppend(raft);
    }
    if (raft.isReadHeartbeatPending) {
      raft.isReadHeartbeatPending = false;
      const readContext = raft.readIndexQueue.lastContext();
      if (raft.role === 'leader' && readContext !== null) broadcastHeartbeat(raft, readContext);
    }
    if (raft.forwardedCommands.length > 0) {
      if (raft.leaderId !== 0 && raft.role === 'follower') {
        raft.send({
          from: raft.id,
          to: raft.leaderId,
          term: raft.term,
          kind: 'forwardedProposal',
          commands: raft.forwardedCommands,
        });
      }
      raft.forwardedCommands = [];
      raft.forwardedBytes = 0;
    }
  }

  private leaderProgress(peerId: NodeId) {
    return this.raft.role === 'leader' ? this.raft.tracker.progress.get(peerId) : undefined;
  }

  /** Runs one input and checks the invariants after it. */
  private input<T>(action: () => T): T {
    assert(this.outstanding === null, 'input between ready() and advance()');
    const result = action();
    checkInvariants(this.raft);
    return result;
  }

  private hardState(): HardState {
    const raft = this.raft;
    return { term: raft.term, votedFor: raft.votedFor, commitIndex: raft.log.committed };
  }

  private softState(): SoftState {
    return { leaderId: this.raft.leaderId, role: this.raft.role };
  }
}

function isSoftStateEqual(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role;
}
