/**
 * The leader's view of one follower's replication (Raft thesis §3.5, plus etcd-style flow
 * control): matchIndex and nextIndex, the replication state (probe, replicate, snapshot) and the
 * window of append requests in flight. It owns these fields and their transitions; it must not
 * send messages, read the log, or decide when to change state: the leader does that.
 */
import { assert, assertNever, type LogIndex } from '../../common/index.js';
import { Inflights } from './inflights.js';

/**
 * How the leader sends to a follower.
 * - `probe`: the follower's log position is unknown; send one append request at a time and wait.
 * - `replicate`: the follower keeps up; stream append requests, bounded by the inflight window.
 * - `snapshot`: the follower needs a snapshot; send no append requests until it is installed.
 */
export type ReplicationState = 'probe' | 'replicate' | 'snapshot';

/** What the leader knows when it starts tracking a follower. */
export interface ProgressOptions {
  /** First index to send; must exceed `matchIndex`. */
  readonly nextIndex: LogIndex;
  /** Highest index known to be replicated on the follower; 0 when none. */
  readonly matchIndex: LogIndex;
  /** Whether the follower is a learner (never votes, never counts toward a quorum). */
  readonly isLearner: boolean;
  /** Most append requests in flight at once in replicate state; >= 1. */
  readonly inflightMessagesMax: number;
  /** Most bytes of append requests in flight at once; 0 for no byte limit. */
  readonly inflightBytesMax: number;
}

/**
 * The leader's record of one follower, as etcd's `tracker.Progress`. The leader calls the
 * `become*` methods on state changes, {@link Progress.sentEntries} after each append request,
 * {@link Progress.maybeUpdate} on an acceptance and {@link Progress.maybeDecrement} on a
 * rejection, and {@link Progress.checkInvariants} after each step.
 */
export class Progress {
  /**
   * Highest log index known to match the leader's log on the follower; 0 when none.
   * Invariant: 0 <= matchIndex < nextIndex; it never decreases while the leader leads.
   */
  matchIndex: LogIndex;
  /**
   * Next log index to send. Entries in (matchIndex, nextIndex) are in flight in replicate state.
   * Invariant: matchIndex < nextIndex.
   */
  nextIndex: LogIndex;
  /** How the leader sends to this follower. Starts in `probe`. */
  state: ReplicationState = 'probe';
  /**
   * Last index covered by the snapshot being sent, in `snapshot` state; 0 if none.
   * Invariant: 0 outside the `snapshot` state.
   */
  pendingSnapshotIndex: LogIndex = 0;
  /** Set by the leader on any message from the follower; cleared by CheckQuorum (§6.2). */
  isRecentlyActive = false;
  /**
   * In `probe` state: one append request is out, so wait for its answer or a heartbeat response
   * before probing again. Invariant: false outside the `probe` state.
   */
  isProbeSent = false;
  /** Whether the follower is a learner. */
  isLearner: boolean;
  /** Ticks since the snapshot was sent, in `snapshot` state, so the leader can give up on it. */
  ticksSinceSnapshotSent = 0;
  /** Append requests in flight. Invariant: empty outside the `replicate` state. */
  readonly inflights: Inflights;

  /** Starts tracking a follower in `probe` state. */
  constructor(options: ProgressOptions) {
    this.matchIndex = options.matchIndex;
    this.nextIndex = options.nextIndex;
    this.isLearner = options.isLearner;
    this.inflights = new Inflights(options.inflightMessagesMax, options.inflightBytesMax);
    this.checkInvariants();
  }

  /**
   * Enters `probe` state: the follower's position must be found again, one request at a time.
   * Coming from `snapshot`, probing starts after the snapshot (assumed installed) if that is
   * further along than matchIndex.
   */
  becomeProbe(): void {
    const snapshotNextIndex = this.state === 'snapshot' ? this.pendingSnapshotIndex + 1 : 0;
    this.resetState('probe');
    this.nextIndex = Math.max(this.matchIndex + 1, snapshotNextIndex);
  }

  /** Enters `replicate` state: the follower matches at matchIndex, so stream from there. */
  becomeReplicate(): void {
    this.resetState('replicate');
    this.nextIndex = this.matchIndex + 1;
  }

  /**
   * Enters `snapshot` state for a snapshot covering the log up to `snapshotIndex`. nextIndex
   * stays as it is; no append requests go out until the leader leaves this state.
   */
  becomeSnapshot(snapshotIndex: LogIndex): void {
    assert(snapshotIndex > 0, () => `progress: snapshot index ${snapshotIndex} must be positive`);
    this.resetState('snapshot');
    this.pendingSnapshotIndex = snapshotIndex;
    this.ticksSinceSnapshotSent = 0;
  }

  /**
   * Records that the leader sent an append request with `entryCount` entries ending at
   * `lastSentIndex`, `sizeBytes` bytes in all. In `replicate` state a non-empty request moves
   * nextIndex past it and joins the inflight window (the caller must have checked
   * {@link isPaused}); in `probe` state any request, even an empty one, pauses probing. Must not
   * be called in `snapshot` state.
   */
  sentEntries(lastSentIndex: LogIndex, entryCount: number, sizeBytes: number): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          assert(
            lastSentIndex >= this.nextIndex,
            () => `progress: sent up to ${lastSentIndex}, below nextIndex ${this.nextIndex}`,
          );
          this.nextIndex = lastSentIndex + 1;
          this.inflights.add(lastSentIndex, sizeBytes);
        }
        return;
      case 'probe':
        this.isProbeSent = true;
        return;
      case 'snapshot':
        assert(false, 'progress: append request sent in snapshot state');
        return;
      default:
        assertNever(this.state, 'replication state');
    }
  }

  /**
   * Handles the follower's acceptance of entries up to `index`. Raises matchIndex to `index`
   * (returning whether it rose) and nextIndex to at least `index + 1`, frees the inflight
   * requests the acceptance covers and unpauses probing. A stale acceptance returns false and
   * changes no index.
   */
  maybeUpdate(index: LogIndex): boolean {
    const isRaised = index > this.matchIndex;
    if (isRaised) {
      this.matchIndex = index;
    }
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    this.inflights.freeUpTo(index);
    this.isProbeSent = false;
    return isRaised;
  }

  /**
   * Handles the follower's rejection of the append request whose previous index was
   * `rejectedIndex`; `hintIndex` is the follower's guess at where the logs may match (fast
   * backtracking, §5.3). Returns false, changing nothing, when the rejection is stale:
   * - `replicate`: stale if `rejectedIndex <= matchIndex`; otherwise nextIndex falls back to
   *   matchIndex + 1, the inflight window empties, and the caller should {@link becomeProbe};
   * - `probe`: only a rejection of the latest probe (`rejectedIndex === nextIndex - 1`) counts;
   *   nextIndex moves back to the hint (never at or below matchIndex) and probing resumes;
   * - `snapshot`: always ignored; the snapshot decides where replication resumes.
   */
  maybeDecrement(rejectedIndex: LogIndex, hintIndex: LogIndex): boolean {
    switch (this.state) {
      case 'replicate':
        if (rejectedIndex <= this.matchIndex) {
          return false;
        }
        // Everything after matchIndex is lost or refused, so nothing counted in flight is.
        this.nextIndex = this.matchIndex + 1;
        this.inflights.reset();
        return true;
      case 'probe':
        if (rejectedIndex !== this.nextIndex - 1) {
          return false;
        }
        this.nextIndex = Math.max(Math.min(rejectedIndex, hintIndex + 1), this.matchIndex + 1);
        this.isProbeSent = false;
        return true;
      case 'snapshot':
        return false;
      default:
        return assertNever(this.state, 'replication state');
    }
  }

  /** Whether the leader must hold back append requests to this follower for now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.isProbeSent;
      case 'replicate':
        return this.inflights.isFull();
      case 'snapshot':
        return true;
      default:
        return assertNever(this.state, 'replication state');
    }
  }

  /** Asserts the field invariants documented above. The leader calls it after every step. */
  checkInvariants(): void {
    assert(
      Number.isSafeInteger(this.matchIndex) && this.matchIndex >= 0,
      () => `progress: matchIndex ${this.matchIndex} must be a non-negative integer`,
    );
    assert(
      Number.isSafeInteger(this.nextIndex) && this.matchIndex < this.nextIndex,
      () => `progress: matchIndex ${this.matchIndex} must be below nextIndex ${this.nextIndex}`,
    );
    assert(
      this.state === 'snapshot' || this.pendingSnapshotIndex === 0,
      () => `progress: pending snapshot ${this.pendingSnapshotIndex} in ${this.state} state`,
    );
    assert(
      this.state === 'probe' || !this.isProbeSent,
      () => `progress: probe marked sent in ${this.state} state`,
    );
    assert(
      this.state === 'replicate' || this.inflights.count() === 0,
      () => `progress: ${this.inflights.count()} requests in flight in ${this.state} state`,
    );
  }

  /** Short text for logs and transcripts, e.g. `match=5 next=6 replicate inflight=2`. */
  toString(): string {
    let text = `match=${this.matchIndex} next=${this.nextIndex} ${this.state}`;
    if (this.isLearner) {
      text += ' learner';
    }
    if (this.isPaused()) {
      text += ' paused';
    }
    if (this.pendingSnapshotIndex > 0) {
      text += ` pendingSnapshot=${this.pendingSnapshotIndex}`;
    }
    if (this.inflights.count() > 0) {
      text += ` inflight=${this.inflights.count()}`;
    }
    return text;
  }

  /** Switches to `state`, dropping what belonged to the previous one. */
  private resetState(state: ReplicationState): void {
    this.state = state;
    this.pendingSnapshotIndex = 0;
    this.isProbeSent = false;
    this.inflights.reset();
  }
}
