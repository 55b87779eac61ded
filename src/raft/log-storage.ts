/**
 * The read side of stable storage, as the core sees it: synchronous, in memory. The shell keeps
 * it up to date after each Ready is persisted (the storage module loads it from disk at start),
 * so the core never waits on a disk.
 */
import type { LogIndex, Term } from '../common/index.js';
import type { ConfigurationState } from './configuration.js';
import type { Entry, HardState, Snapshot } from './entry.js';

/** What a node recovers at start. */
export interface InitialState {
  readonly hardState: HardState;
  /** Membership as of the latest snapshot; configuration entries after it take effect as they are re-applied. */
  readonly configuration: ConfigurationState;
}

/** Why stored data could not be returned. */
export type StorageUnavailable = 'compacted' | 'unavailable';

/**
 * Synchronous read access to the persisted log.
 *
 * Contract: `firstIndex() - 1` is the index of the latest snapshot (the "dummy" position whose
 * term is still known); `term(firstIndex() - 1)` must succeed. Returned arrays are owned by the
 * storage: the core never mutates them.
 */
export interface LogStorage {
  /** The persisted hard state and configuration. Called once when a node starts. */
  initialState(): InitialState;
  /**
   * Entries in [low, high), at least one if any exist, stopping before `bytesMax` is exceeded.
   * Returns 'compacted' if low < firstIndex(); asserts high <= lastIndex() + 1.
   */
  entries(low: LogIndex, high: LogIndex, bytesMax: number): readonly Entry[] | 'compacted';
  /** Term of the entry at index, for firstIndex()-1 <= index <= lastIndex(). */
  term(index: LogIndex): Term | StorageUnavailable;
  /** Index of the first entry still available (the snapshot index + 1). */
  firstIndex(): LogIndex;
  /** Index of the last entry stored (the snapshot index if there are none). */
  lastIndex(): LogIndex;
  /** The latest snapshot, or 'unavailable' if it is being produced. */
  snapshot(): Snapshot | 'unavailable';
}
