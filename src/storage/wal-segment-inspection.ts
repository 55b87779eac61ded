/**
 * The write-ahead log part of `raftkv wal inspect`: every segment file scanned on its own, so one
 * damaged segment does not hide what the others hold, plus the gaps in the sequence. Read only;
 * whether the node would start is decided elsewhere (data-directory-inspection.ts) by the
 * recovery code itself.
 */
import * as path from 'node:path';

import type { HardState } from '../raft/index.js';
import { asBuffer } from './binary.js';
import type { FileSystem } from './file-system.js';
import { type ReportedError, reportError } from './reported-error.js';
import { scanSegment, type TornTail } from './segment-scan.js';
import {
  countRecord,
  decodeRecord,
  emptySegmentCounts,
  type SegmentCounts,
} from './segment-tally.js';
import { identityMismatch, type StorageIdentity } from './storage-identity.js';
import { parseSegmentFileName, RecordType, segmentFileName } from './wal-format.js';

/**
 * - `intact`: every record passed its checksum, the rest of the file is zero;
 * - `tornTail`: the last segment ends in a torn write (the node truncates it at start);
 * - `unwritten`: the last segment's header never reached the disk (the node removes it);
 * - `foreign`: the header is stamped for another member or names another sequence;
 * - `damaged`: a checksum or format error the node refuses to start with.
 */
export type { SegmentCounts } from './segment-tally.js';

export type SegmentStatus = 'intact' | 'tornTail' | 'unwritten' | 'foreign' | 'damaged';

/** One segment file. */
export interface SegmentInspection extends Readonly<SegmentCounts> {
  /** File name inside the wal directory. */
  readonly file: string;
  readonly sequence: number;
  /** Undefined if the file could not be read. */
  readonly sizeBytes: number | undefined;
  readonly status: SegmentStatus;
  /** Offset after the last valid record (where appends resume); undefined if not scanned through. */
  readonly endOffset: number | undefined;
  readonly tornTail: TornTail | undefined;
  /** Why the status is `unwritten` or `foreign`. */
  readonly detail: string | undefined;
  /** Why the status is `damaged`. */
  readonly error: ReportedError | undefined;
}

/** Segments `missingFrom` to `missingTo` (inclusive) are absent between two present ones. */
export interface SegmentGap {
  readonly missingFrom: number;
  readonly missingTo: number;
}

/** A snapshot marker record: the log says a snapshot was created or installed here. */
export interface FoundSnapshotMarker {
  readonly index: number;
  readonly term: number;
  readonly isInstalled: boolean;
  /** The segment file it was found in. */
  readonly file: string;
}

export interface WalInspection {
  readonly directory: string;
  /** Segments in sequence order. */
  readonly segments: readonly SegmentInspection[];
  readonly gaps: readonly SegmentGap[];
  /** The last hard state record found, in segment and record order. */
  readonly lastHardState: (HardState & { readonly file: string }) | undefined;
  readonly snapshotMarkers: readonly FoundSnapshotMarker[];
  /** Names in the wal directory that are not segments (e.g. the preallocated next segment). */
  readonly otherFiles: readonly string[];
  /** Why the directory could not be listed (a missing directory lists as empty). */
  readonly error: ReportedError | undefined;
}

const EMPTY = {
  segments: [],
  gaps: [],
  lastHardState: undefined,
  snapshotMarkers: [],
  otherFiles: [],
};

interface Found {
  lastHardState: WalInspection['lastHardState'];
  readonly snapshotMarkers: FoundSnapshotMarker[];
}

/** Scans every segment of `directory`; `expected` (the stamp's identity) flags foreign headers. */
export async function inspectWalDirectory(
  fileSystem: FileSystem,
  directory: string,
  expected: StorageIdentity | undefined,
): Promise<WalInspection> {
  const sequences: number[] = [];
  const otherFiles: string[] = [];
  let names: string[];
  try {
    names = await fileSystem.readDirectory(directory);
  } catch (error) {
    return { ...EMPTY, directory, error: reportError(error) };
  }
  for (const name of names) {
    const sequence = parseSegmentFileName(name);
    if (sequence === undefined) otherFiles.push(name);
    else sequences.push(sequence);
  }
  sequences.sort((a, b) => a - b);
  const found: Found = { lastHardState: undefined, snapshotMarkers: [] };
  const segments: SegmentInspection[] = [];
  for (const [position, sequence] of sequences.entries()) {
    const isLast = position === sequences.length - 1;
    segments.push(await inspectSegment(fileSystem, directory, sequence, isLast, expected, found));
  }
  return {
    directory,
    segments,
    gaps: findGaps(sequences),
    lastHardState: found.lastHardState,
    snapshotMarkers: found.snapshotMarkers,
    otherFiles: otherFiles.sort(),
    error: undefined,
  };
}

function findGaps(sequences: readonly number[]): SegmentGap[] {
  const gaps: SegmentGap[] = [];
  for (let position = 1; position < sequences.length; position++) {
    const previous = sequences[position - 1] as number;
    const next = sequences[position] as number;
    if (next > previous + 1) gaps.push({ missingFrom: previous + 1, missingTo: next - 1 });
  }
  return gaps;
}

async function inspectSegment(
  fileSystem: FileSystem,
  directory: string,
  sequence: number,
  isLast: boolean,
  expected: StorageIdentity | undefined,
  found: Found,
): Promise<SegmentInspection> {
  const file = segmentFileName(sequence);
  const tally = emptySegmentCounts();
  type Outcome = Pick<SegmentInspection, 'sizeBytes' | 'status'> &
    Partial<Pick<SegmentInspection, 'endOffset' | 'tornTail' | 'detail' | 'error'>>;
  const report = ({ sizeBytes, status, ...rest }: Outcome): SegmentInspection => ({
    file,
    sequence,
    sizeBytes,
    status,
    ...tally,
    endOffset: undefined,
    tornTail: undefined,
    detail: undefined,
    error: undefined,
    ...rest,
  });
  let buffer: Buffer;
  try {
    buffer = asBuffer(await fileSystem.readFile(path.join(directory, file)));
  } catch (error) {
    return report({ sizeBytes: undefined, status: 'damaged', error: reportError(error) });
  }
  const sizeBytes = buffer.byteLength;
  try {
    const visit = visitor(buffer, file, tally, found);
    const scan = scanSegment(buffer, path.join(directory, file), isLast, visit);
    if (scan.kind === 'tornHeader') {
      return report({ sizeBytes, status: 'unwritten', detail: scan.detail });
    }
    const { endOffset, tornTail } = scan;
    const foreign =
      (expected === undefined ? undefined : identityMismatch(expected, scan.header.identity)) ??
      (scan.header.sequence === sequence
        ? undefined
        : `header names segment ${scan.header.sequence}`);
    const status =
      foreign !== undefined ? 'foreign' : tornTail !== undefined ? 'tornTail' : 'intact';
    return report({ sizeBytes, status, endOffset, tornTail, detail: foreign });
  } catch (error) {
    return report({ sizeBytes, status: 'damaged', error: reportError(error) });
  }
}

/** Counts each valid record into `tally` and `found`; says why a payload is invalid. */
function visitor(buffer: Buffer, file: string, tally: SegmentCounts, found: Found) {
  return (type: RecordType, start: number, end: number): string | undefined => {
    const record = decodeRecord(type, buffer, start, end);
    if (typeof record === 'string') return record;
    countRecord(tally, record);
    if (record.kind === 'hardState') found.lastHardState = { ...record.hardState, file };
    if (record.kind === 'snapshotMarker') {
      found.snapshotMarkers.push({ ...record.position, isInstalled: record.isInstalled, file });
    }
    return undefined;
  };
}
