/**
 * The Raft log as the core sees it: persisted entries (LogStorage) followed by the unstable tail,
 * with the commit and applied indexes. Answers term lookups, the up-to-date check of elections
 * (§5.4.1) and the follower's append with conflict truncation (§5.3). Owns no I/O.
 */
import { assert, type LogIndex, type Term } from '../common/index.js';
import { type Entry, entrySizeBytes, type Snapshot } from './entry.js';
import type { LogStorage } from './log-storage.js';
import { UnstableLog } from './unstable-log.js';

/** The log plus commit bookkeeping. Invariant: applied <= applying <= committed <= lastIndex. */
export class RaftLog {
  readonly storage: LogStorage;
  readonly unstable: UnstableLog;
  /** Highest index known to be committed (§5.3). */
  committed: LogIndex;
  /** Highest index handed out in a Ready's committedEntries. */
  applying: LogIndex;
  /** Highest index the shell acknowledged as applied through `advance()`. */
  applied: LogIndex;

  constructor(storage: LogStorage, committed: LogIndex, appliedIndex: LogIndex | null) {
    this.storage = storage;
    this.unstable = new UnstableLog(storage.lastIndex());
    const snapshotIndex = storage.firstIndex() - 1;
    this.applied = appliedIndex ?? snapshotIndex;
    // An applied entry was committed, even if the commit index reached disk only without fsync.
    this.committed = Math.max(committed, snapshotIndex, this.applied);
    this.applying = this.applied;
    assert(this.applied >= snapshotIndex, 'applied index below the snapshot');
    assert(this.applied <= this.lastIndex(), 'applied index beyond the stored log');
    assert(this.committed <= this.lastIndex(), 'stored commit index beyond the stored log');
  }

  firstIndex(): LogIndex {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): Term {
    const term = this.term(this.lastIndex());
    assert(term !== null, 'the last entry term must be known');
    return term;
  }

  /** Term at index, or null if it is compacted away or beyond the log. */
  term(index: LogIndex): Term | null {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return null;
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== null) return unstableTerm;
    const storedTerm = this.storage.term(index);
    return typeof storedTerm === 'number' ? storedTerm : null;
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  /** Whether a candidate's log is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries: if our log holds (prevLogIndex, prevLogTerm), append the new
   * entries, truncating from the first conflicting one, and return the last index now known to
   * match the leader. Returns null if the previous entry does not match.
   */
  maybeAppend(
    prevLogIndex: LogIndex,
    prevLogTerm: Term,
    leaderCommit: LogIndex,
    entries: readonly Entry[],
  ): LogIndex | null {
    if (!this.matchTerm(prevLogIndex, prevLogTerm)) return null;
    const lastNewIndex = prevLogIndex + entries.length;
    const conflictIndex = this.findConflict(entries);
    if (conflictIndex !== 0) {
      assert(conflictIndex > this.committed, () => {
        return `conflict at ${conflictIndex} below commit ${this.committed}`;
      });
      this.append(entries.slice(conflictIndex - (prevLogIndex + 1)));
    }
    this.commitTo(Math.min(leaderCommit, lastNewIndex));
    return lastNewIndex;
  }

  /** Index of the first entry that is new or conflicts with ours; 0 if all are present. */
  private findConflict(entries: readonly Entry[]): LogIndex {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or whose term is unknown), used to skip
   * a whole conflicting term when backtracking (§5.3, the optimization after Figure 7).
   */
  findConflictByTerm(index: LogIndex, term: Term): LogIndex {
    for (let candidate = index; candidate > 0; candidate--) {
      const candidateTerm = this.term(candidate);
      if (candidateTerm === null || candidateTerm <= term) return candidate;
    }
    return 0;
  }

  /** Appends entries (truncating conflicts); returns the new last index. */
  append(entries: readonly Entry[]): LogIndex {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index > this.committed, () => `append at ${first.index} over commit`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  commitTo(index: LogIndex): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} beyond last ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Commits index if its entry is from `term` (the leader's Figure 8 rule). */
  maybeCommit(index: LogIndex, term: Term): boolean {
    if (index <= this.committed || this.term(index) !== term) return false;
    this.commitTo(index);
    return true;
  }

  /** Entries in [low, high) from storage then the unstable tail, at most bytesMax (>= 1 entry). */
  slice(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[] | 'compacted' {
    if (low >= high) return [];
    if (low < this.firstIndex()) return 'compacted';
    assert(high <= this.lastIndex() + 1, () => `slice to ${high} beyond ${this.lastIndex()}`);
    const unstableOffset = this.unstable.offset;
    let stored: readonly Entry[] = [];
    if (low < unstableOffset) {
      const fromStorage = this.storage.entries(low, Math.min(high, unstableOffset), bytesMax);
      if (fromStorage === 'compacted') return 'compacted';
      // Storage stopped at the byte cap, or the range ends before the unstable tail.
      if (high <= unstableOffset || fromStorage.length < unstableOffset - low) return fromStorage;
      stored = fromStorage;
    }
    if (high <= unstableOffset) return stored;
    const tail = this.unstable.slice(Math.max(low, unstableOffset), high);
    return limitBytes(stored.length === 0 ? tail : stored.concat(tail), bytesMax);
  }

  /** Whether committed entries are waiting to be handed out for applying. */
  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === null && this.committed > this.applying;
  }

  /** The next committed entries to apply, at most bytesMax (>= 1 entry). */
  nextCommittedEntries(bytesMax: number): readonly Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    const entries = this.slice(this.applying + 1, this.committed + 1, bytesMax);
    assert(entries !== 'compacted', 'committed but unapplied entries were compacted');
    return entries;
  }

  /** Installs a snapshot: the log becomes exactly the snapshot; commit moves to its index. */
  restore(snapshot: Snapshot): void {
    this.unstable.restore(snapshot);
    this.committed = snapshot.metadata.index;
  }
}

function limitBytes(entries: Entry[], bytesMax: number): Entry[] {
  let sizeBytes = 0;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position];
    if (entry === undefined) break;
    sizeBytes += entrySizeBytes(entry);
    if (position > 0 && sizeBytes > bytesMax) return entries.slice(0, position);
  }
  return entries;
}
