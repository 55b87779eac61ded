/**
 * Hooks through which the storage reports what it does, for metrics. The storage module never
 * imports a metrics library: the node passes an observer built on its own registry. Every hook
 * is optional and must not throw.
 */
export interface StorageObserver {
  /** One WAL write of `records` records and `bytes` bytes reached the file. */
  walBatchWritten?(records: number, bytes: number): void;
  /** One fdatasync of the WAL completed. */
  walSynced?(durationSeconds: number): void;
  /** A new segment became the active one. */
  walSegmentCreated?(sequence: number): void;
  /** Segments wholly below a snapshot were deleted. */
  walSegmentsDeleted?(count: number): void;
  /** A snapshot file was made durable. */
  snapshotSaved?(bytes: number, durationSeconds: number): void;
}

/** An observer that records nothing. */
export const SILENT_STORAGE_OBSERVER: StorageObserver = {};
