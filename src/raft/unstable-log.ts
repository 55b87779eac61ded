/**
 * The tail of the log that the core has accepted but the shell has not yet persisted: an
 * incoming snapshot and/or entries. It moves into LogStorage when `advance()` acknowledges the
 * Ready that carried it. Owns no I/O.
 */
import { assert, type LogIndex, type Term } from '../common/index.js';
import type { Entry, Snapshot } from './entry.js';

/** Entries and a snapshot not yet persisted. Invariant: entries[k].index === offset + k. */
export class UnstableLog {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  /** Index of entries[0] (or where the next one would go). */
  offset: LogIndex;

  constructor(lastStoredIndex: LogIndex) {
    this.offset = lastStoredIndex + 1;
  }

  /** First index covered here, if a snapshot is pending. */
  maybeFirstIndex(): LogIndex | null {
    return this.snapshot === null ? null : this.snapshot.metadata.index + 1;
  }

  /** Last index covered here, if any. */
  maybeLastIndex(): LogIndex | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : this.snapshot.metadata.index;
  }

  /** Term of the entry at index if this tail knows it. */
  maybeTerm(index: LogIndex): Term | null {
    if (index < this.offset) {
      const metadata = this.snapshot?.metadata;
      return metadata !== undefined && metadata.index === index ? metadata.term : null;
    }
    const entry = this.entries[index - this.offset];
    return entry === undefined ? null : entry.term;
  }

  /** The entries up to (index, term) are persisted: drop them, unless they were replaced. */
  stableTo(index: LogIndex, term: Term): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  /** The pending snapshot at `index` is persisted. */
  stableSnapshotTo(index: LogIndex): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === index) this.snapshot = null;
  }

  /** Replaces everything with an incoming snapshot. */
  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  /** Appends entries, truncating any unstable suffix they conflict with. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const afterLast = this.offset + this.entries.length;
    if (first.index === afterLast) {
      for (const entry of entries) this.entries.push(entry);
    } else if (first.index <= this.offset) {
      // The whole unstable tail is replaced; storage entries at >= first.index are replaced
      // when the shell persists these.
      this.offset = first.index;
      this.entries = [...entries];
    } else {
      assert(first.index < afterLast, () => `unstable append gap at ${first.index}`);
      this.entries = this.entries.slice(0, first.index - this.offset);
      for (const entry of entries) this.entries.push(entry);
    }
  }

  /** Entries in [low, high); the range must lie inside this tail. */
  slice(low: LogIndex, high: LogIndex): Entry[] {
    assert(low >= this.offset && high <= this.offset + this.entries.length, () => {
      return `unstable slice [${low}, ${high}) outside [${this.offset}, ${this.offset + this.entries.length})`;
    });
    return this.entries.slice(low - this.offset, high - this.offset);
  }
}
