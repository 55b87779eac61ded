/**
 * Reads the write-ahead log back at start: every segment in sequence order, every checksum
 * verified, entries replayed with the same overwrite rules the core used when it wrote them.
 * The one repair it makes is the torn tail of the last segment (truncated once, with a warning);
 * every other inconsistency is a typed error naming the file and offset.
 */
import * as path from 'node:path';

import type { Logger } from '../common/index.js';
import type { Entry, HardState } from '../raft/index.js';
import { asBuffer } from './binary.js';
import { EntryDataArena } from './entry-data-arena.js';
import type { FileSystem } from './file-system.js';
import type { SnapshotPosition } from './record-payload.js';
import { scanSegment, type TornTail } from './segment-scan.js';
import {
  countRecord,
  decodeRecord,
  emptySegmentCounts,
  type SegmentCounts,
} from './segment-tally.js';
import { ForeignIdentityError, WalCorruptError, WalLogGapError } from './storage-errors.js';
import { identityMismatch, type StorageIdentity } from './storage-identity.js';
import { parseSegmentFileName, RecordType, segmentFileName } from './wal-format.js';

/** What one segment holds, for the writer (which segments may be deleted) and for inspection. */
export interface SegmentSummary extends Readonly<SegmentCounts> {
  readonly sequence: number;
  readonly file: string;
  readonly sizeBytes: number;
  /** Offset after the last valid record. */
  readonly endOffset: number;
  readonly tornTail: TornTail | undefined;
}

/** A snapshot marker found in the log. */
export interface SnapshotMarker extends SnapshotPosition {
  /** True for a snapshot received from the leader, which replaced the log before it. */
  readonly isInstalled: boolean;
}

/** A torn tail and the segment it was found in. */
export type TornTailFound = TornTail & { readonly file: string };

/** The log as recovered from disk. */
export interface RecoveredWal {
  readonly segments: readonly SegmentSummary[];
  /** The last hard state written, if any. */
  readonly hardState: HardState | undefined;
  /** The live log: consecutive entries (empty if none), overwrites applied. */
  readonly entries: readonly Entry[];
  readonly snapshotMarkers: readonly SnapshotMarker[];
  /** A torn tail found in the last segment (already truncated in `repair` mode). */
  readonly tornTail: TornTailFound | undefined;
  /** A last segment whose header never reached the disk (already removed in `repair` mode). */
  readonly tornSegmentFile: string | undefined;
}

/** How to read: `repair` truncates a torn tail; `readOnly` only reports it (for inspection). */
export type RecoveryMode = 'repair' | 'readOnly';

/** Accumulates the live log while records are replayed in order. */
class LogReplay {
  entries: Entry[] = [];
  hardState: HardState | undefined;
  markers: SnapshotMarker[] = [];
  /** After an installed snapshot, the index the next entry must have. */
  private nextIndexRequired: number | undefined;

  addEntry(entry: Entry): string | undefined {
    const first = this.entries[0];
    if (first === undefined) {
      if (this.nextIndexRequired !== undefined && entry.index !== this.nextIndexRequired) {
        return `entry ${entry.index} follows a snapshot at ${this.nextIndexRequired - 1}`;
      }
      this.entries.push(entry);
      return undefined;
    }
    const nextIndex = first.index + this.entries.length;
    if (entry.index > nextIndex) return `entry ${entry.index} leaves a gap after ${nextIndex - 1}`;
    if (entry.index < first.index) {
      return `entry ${entry.index} rewrites the log below its first entry ${first.index}`;
    }
    if (entry.index < nextIndex) this.entries.length = entry.index - first.index;
    this.entries.push(entry);
    return undefined;
  }

  addMarker(marker: SnapshotMarker): void {
    this.markers.push(marker);
    if (!marker.isInstalled) return;
    this.entries = [];
    this.nextIndexRequired = marker.index + 1;
  }
}

/** Lists segment files in sequence order; throws if the sequence has a gap. */
async function listSegments(fileSystem: FileSystem, directory: string): Promise<number[]> {
  const names = await fileSystem.readDirectory(directory);
  const sequences: number[] = [];
  for (const name of names) {
    const sequence = parseSegmentFileName(name);
    if (sequence !== undefined) sequences.push(sequence);
  }
  sequences.sort((a, b) => a - b);
  for (let position = 1; position < sequences.length; position++) {
    const previous = sequences[position - 1] as number;
    if (sequences[position] !== previous + 1) {
      throw new WalLogGapError(
        `segment ${previous + 1} is missing (found ${previous}, then ${sequences[position]})`,
        path.join(directory, segmentFileName(previous + 1)),
      );
    }
  }
  return sequences;
}

function visitorFor(
  replay: LogReplay,
  buffer: Buffer,
  counts: SegmentCounts,
  arena: EntryDataArena,
) {
  return (type: RecordType, start: number, end: number): string | undefined => {
    const record = decodeRecord(type, buffer, start, end, arena);
    if (typeof record === 'string') return record;
    countRecord(counts, record);
    switch (record.kind) {
      case 'entry':
        return replay.addEntry(record.entry);
      case 'hardState':
        replay.hardState = record.hardState;
        return undefined;
      case 'snapshotMarker':
        replay.addMarker({ ...record.position, isInstalled: record.isInstalled });
        return undefined;
    }
  };
}

/**
 * Reads every segment of `directory`. With `expected`, a segment stamped with another identity
 * is refused. In `repair` mode a torn tail is truncated and a torn last segment removed, each
 * with a warning.
 */
export async function readWal(
  fileSystem: FileSystem,
  directory: string,
  expected: StorageIdentity | undefined,
  mode: RecoveryMode,
  logger: Logger,
): Promise<RecoveredWal> {
  const sequences = await listSegments(fileSystem, directory);
  const replay = new LogReplay();
  const arena = new EntryDataArena();
  const segments: SegmentSummary[] = [];
  let tornTail: RecoveredWal['tornTail'];
  let tornSegmentFile: string | undefined;
  for (const [position, sequence] of sequences.entries()) {
    const file = path.join(directory, segmentFileName(sequence));
    const buffer = asBuffer(await fileSystem.readFile(file));
    const isLast = position === sequences.length - 1;
    const counts = emptySegmentCounts();
    const scan = scanSegment(
      buffer,
      file,
      isLast,
      visitorFor(replay, buffer, counts, arena),
      (header) => {
        const mismatch =
          expected === undefined ? undefined : identityMismatch(expected, header.identity);
        if (mismatch !== undefined)
          throw new ForeignIdentityError(`segment stamped with ${mismatch}`, file);
        if (header.sequence !== sequence) {
          throw new WalCorruptError(`header names segment ${header.sequence}`, file, 0);
        }
      },
    );
    if (scan.kind === 'tornHeader') {
      tornSegmentFile = file;
      logger.warn(
        { file, detail: scan.detail },
        'last wal segment was never fully created; removing it',
      );
      if (mode === 'repair') {
        await fileSystem.remove(file);
        await fileSystem.syncDirectory(directory);
      }
      continue;
    }
    if (scan.tornTail !== undefined) {
      tornTail = { ...scan.tornTail, file };
      logger.warn(
        { file, offset: scan.tornTail.offset, detail: scan.tornTail.detail },
        'torn write at the tail of the wal; truncating it (the record was never acknowledged)',
      );
      if (mode === 'repair') await truncateTail(fileSystem, file, scan.tornTail.offset);
    }
    segments.push({
      sequence,
      file,
      sizeBytes:
        scan.tornTail !== undefined && mode === 'repair' ? scan.endOffset : buffer.byteLength,
      endOffset: scan.endOffset,
      tornTail: scan.tornTail,
      ...counts,
    });
  }
  return {
    segments,
    hardState: replay.hardState,
    entries: replay.entries,
    snapshotMarkers: replay.markers,
    tornTail,
    tornSegmentFile,
  };
}

async function truncateTail(fileSystem: FileSystem, file: string, offset: number): Promise<void> {
  const fd = await fileSystem.open(file, 'readWrite');
  try {
    await fileSystem.truncate(fd, offset);
    await fileSystem.fsync(fd);
  } finally {
    await fileSystem.close(fd);
  }
}
