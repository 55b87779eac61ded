/**
 * One record of a segment decoded by type, and the per-segment counts both recovery and
 * `wal inspect` report. Decoding happens after the record's checksum passed (segment-scan.ts).
 */
import type { Entry, HardState } from '../raft/index.js';
import type { EntryDataArena } from './entry-data-arena.js';
import {
  readEntryPayload,
  readHardStatePayload,
  readSnapshotMarkerPayload,
  type SnapshotPosition,
} from './record-payload.js';
import { RecordType } from './wal-format.js';

/** A decoded record. */
export type DecodedRecord =
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | {
      readonly kind: 'snapshotMarker';
      readonly position: SnapshotPosition;
      readonly isInstalled: boolean;
    };

/** Decodes the payload buffer[start, end) of a record of `type`, or says why it is invalid. */
export function decodeRecord(
  type: RecordType,
  buffer: Buffer,
  start: number,
  end: number,
  arena?: EntryDataArena,
): DecodedRecord | string {
  switch (type) {
    case RecordType.entry: {
      const entry = readEntryPayload(buffer, start, end, arena);
      return typeof entry === 'string' ? entry : { kind: 'entry', entry };
    }
    case RecordType.hardState: {
      const hardState = readHardStatePayload(buffer, start, end);
      return typeof hardState === 'string' ? hardState : { kind: 'hardState', hardState };
    }
    case RecordType.snapshotCreated:
    case RecordType.snapshotInstalled: {
      const position = readSnapshotMarkerPayload(buffer, start, end);
      if (typeof position === 'string') return position;
      return {
        kind: 'snapshotMarker',
        position,
        isInstalled: type === RecordType.snapshotInstalled,
      };
    }
  }
}

/** What one segment holds. Counts and ranges cover the valid records read before any damage. */
export interface SegmentCounts {
  recordCount: number;
  entryCount: number;
  hardStateCount: number;
  snapshotMarkerCount: number;
  /** Lowest and highest entry index and term in the segment, 0 if it holds no entry. */
  entryIndexMin: number;
  entryIndexMax: number;
  entryTermMin: number;
  entryTermMax: number;
}

export function emptySegmentCounts(): SegmentCounts {
  return {
    recordCount: 0,
    entryCount: 0,
    hardStateCount: 0,
    snapshotMarkerCount: 0,
    entryIndexMin: 0,
    entryIndexMax: 0,
    entryTermMin: 0,
    entryTermMax: 0,
  };
}

/** Adds one decoded record to `counts`. */
export function countRecord(counts: SegmentCounts, record: DecodedRecord): void {
  counts.recordCount++;
  switch (record.kind) {
    case 'entry': {
      const { index, term } = record.entry;
      counts.entryCount++;
      counts.entryIndexMin = minimumOf(counts.entryIndexMin, index);
      counts.entryIndexMax = Math.max(counts.entryIndexMax, index);
      counts.entryTermMin = minimumOf(counts.entryTermMin, term);
      counts.entryTermMax = Math.max(counts.entryTermMax, term);
      return;
    }
    case 'hardState':
      counts.hardStateCount++;
      return;
    case 'snapshotMarker':
      counts.snapshotMarkerCount++;
      return;
  }
}

/** The smaller of a running minimum (0 until the first value) and `value`. */
function minimumOf(minimum: number, value: number): number {
  return minimum === 0 ? value : Math.min(minimum, value);
}
