/**
 * An in-memory LogStorage. The node keeps its log here (the write-ahead log provides durability
 * and refills it at start); the simulator and tests use it as their disk. It holds no clock and
 * does no I/O.
 */
import { assert, type LogIndex, type Term } from '../common/index.js';
import { type ConfigurationState, EMPTY_CONFIGURATION } from './configuration.js';
import {
  EMPTY_HARD_STATE,
  type Entry,
  entrySizeBytes,
  type HardState,
  type Snapshot,
} from './entry.js';
import type { InitialState, LogStorage, StorageUnavailable } from './log-storage.js';

/** A LogStorage backed by arrays; mutated only by the shell after it persisted a Ready. */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private latestSnapshot: Snapshot = {
    metadata: { index: 0, term: 0, configuration: EMPTY_CONFIGURATION },
    data: new Uint8Array(0),
  };
  /** Entries after the snapshot; entries[k] has index snapshotIndex + 1 + k. */
  private stored: Entry[] = [];

  initialState(): InitialState {
    return { hardState: this.hardState, configuration: this.latestSnapshot.metadata.configuration };
  }

  entries(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[] | 'compacted' {
    if (low < this.firstIndex()) return 'compacted';
    assert(
      high <= this.lastIndex() + 1,
      () => `entries(${low}, ${high}) beyond ${this.lastIndex()}`,
    );
    const offset = this.latestSnapshot.metadata.index + 1;
    const result: Entry[] = [];
    let sizeBytes = 0;
    for (let index = low; index < high; index++) {
      const entry = this.stored[index - offset];
      assert(entry !== undefined, () => `entry ${index} missing`);
      sizeBytes += entrySizeBytes(entry);
      if (result.length > 0 && sizeBytes > bytesMax) break;
      result.push(entry);
    }
    return result;
  }

  term(index: LogIndex): Term | StorageUnavailable {
    const snapshotIndex = this.latestSnapshot.metadata.index;
    if (index === snapshotIndex) return this.latestSnapshot.metadata.term;
    if (index < snapshotIndex) return 'compacted';
    const entry = this.stored[index - snapshotIndex - 1];
    return entry === undefined ? 'unavailable' : entry.term;
  }

  firstIndex(): LogIndex {
    return this.latestSnapshot.metadata.index + 1;
  }

  lastIndex(): LogIndex {
    return this.latestSnapshot.metadata.index + this.stored.length;
  }

  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  /** Records the hard state of a persisted Ready. */
  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /**
   * Founds a new cluster: the log starts with a snapshot at index 1, term 1, holding the initial
   * membership and an empty state machine. Every founding member bootstraps identically; members
   * added later start empty and receive that (or a later) snapshot from the leader, which is how
   * they learn the membership. Only valid on empty storage.
   */
  bootstrap(configuration: ConfigurationState): void {
    assert(this.lastIndex() === 0, 'bootstrap needs empty storage');
    this.latestSnapshot = {
      metadata: { index: 1, term: 1, configuration },
      data: new Uint8Array(0),
    };
    this.hardState = { term: 1, votedFor: 0, commitIndex: 1 };
  }

  /**
   * Appends persisted entries, replacing any stored entries at the same or higher indexes.
   * Entries at or below the snapshot are ignored; a gap after the last entry is a programmer error.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const snapshotIndex = this.latestSnapshot.metadata.index;
    // Entries are consecutive: skip those the snapshot already covers without copying.
    const skipped = Math.max(0, snapshotIndex + 1 - first.index);
    if (skipped >= entries.length) return;
    const firstKeptIndex = first.index + skipped;
    assert(firstKeptIndex <= this.lastIndex() + 1, () => `append gap at ${firstKeptIndex}`);
    this.stored.length = firstKeptIndex - snapshotIndex - 1;
    for (let position = skipped; position < entries.length; position++) {
      this.stored.push(entries[position] as Entry);
    }
  }

  /** Replaces the whole log with a received snapshot. Older snapshots are ignored. */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.latestSnapshot.metadata.index) return;
    this.latestSnapshot = snapshot;
    this.stored = [];
  }

  /**
   * Makes a snapshot of the applied state at `index` (which must be stored) and drops the log
   * up to it. `configuration` is the membership in force at `index`.
   */
  createSnapshot(index: LogIndex, configuration: ConfigurationState, data: Uint8Array): Snapshot {
    const snapshotIndex = this.latestSnapshot.metadata.index;
    assert(index > snapshotIndex, () => `snapshot ${index} not after ${snapshotIndex}`);
    assert(index <= this.lastIndex(), () => `snapshot ${index} beyond ${this.lastIndex()}`);
    const term = this.term(index);
    assert(typeof term === 'number', 'snapshot term must be known');
    this.latestSnapshot = { metadata: { index, term, configuration }, data };
    this.stored = this.stored.slice(index - snapshotIndex);
    return this.latestSnapshot;
  }

  /** A deep-enough copy for simulated crashes: later mutations do not affect the copy. */
  clone(): MemoryStorage {
    const copy = new MemoryStorage();
    copy.hardState = this.hardState;
    copy.latestSnapshot = this.latestSnapshot;
    copy.stored = [...this.stored];
    return copy;
  }
}
