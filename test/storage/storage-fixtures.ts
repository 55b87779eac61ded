/**
 * Shared helpers of the storage tests: temporary data directories, open options with small
 * segments (so that a few hundred entries span several segment files), entries and snapshots with
 * distinct contents, writing a log through DurableStorage, and reading a segment file back
 * record by record so a test can damage one chosen record.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  EMPTY_CONFIGURATION,
  type HardState,
  type NormalEntry,
  type Snapshot,
} from '../../src/raft/index.js';
import { DurableStorage, type DurableStorageOptions } from '../../src/storage/index.js';
import { readEntryPayload } from '../../src/storage/record-payload.js';
import {
  readRecord,
  RecordType,
  SEGMENT_HEADER_BYTES,
  parseSegmentFileName,
} from '../../src/storage/wal-format.js';

export const CLUSTER_ID = 0x5eed_c0ffeen;
export const NODE_ID = 3;
export const INCARNATION = 0x1a2b_3c4dn;
/** Small enough that a few hundred entries of ~90 bytes fill several segments. */
export const SMALL_SEGMENT_BYTES = 16 * 1024;

const temporaryDirectories: string[] = [];

/** A fresh temporary directory, removed by {@link removeTemporaryDirectories}. */
export function makeTemporaryDirectory(prefix: string): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), `raftkv-${prefix}-`));
  temporaryDirectories.push(directory);
  return directory;
}

/** Removes every directory made by {@link makeTemporaryDirectory}; call in afterEach/afterAll. */
export function removeTemporaryDirectories(): void {
  for (const directory of temporaryDirectories.splice(0)) {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** A copy of `directory` in a new temporary directory (to damage a copy of a written log). */
export function copyDirectory(directory: string, prefix: string): string {
  const copy = makeTemporaryDirectory(prefix);
  fs.cpSync(directory, copy, { recursive: true });
  return copy;
}

/** Open options for this test member, with small segments. */
export function storageOptions(
  directory: string,
  overrides: Partial<DurableStorageOptions> = {},
): DurableStorageOptions {
  return {
    directory,
    clusterId: CLUSTER_ID,
    nodeId: NODE_ID,
    incarnationForNewDirectory: INCARNATION,
    segmentBytesTarget: SMALL_SEGMENT_BYTES,
    ...overrides,
  };
}

/**
 * A normal entry whose data names its index and term, 40 to 48 bytes long so that records end
 * at different paddings.
 */
export function makeEntry(index: number, term = 1): NormalEntry {
  const data = new Uint8Array(40 + (index % 9));
  const view = new DataView(data.buffer);
  view.setUint32(0, index, true);
  view.setUint32(4, term, true);
  for (let position = 8; position < data.byteLength; position++) {
    data[position] = (index * 31 + term * 7 + position) & 0xff;
  }
  return { kind: 'normal', index, term, data };
}

/** Entries `first` to `last` inclusive. */
export function makeEntries(first: number, last: number, term = 1): NormalEntry[] {
  const entries: NormalEntry[] = [];
  for (let index = first; index <= last; index++) entries.push(makeEntry(index, term));
  return entries;
}

/** A snapshot at `index` whose data names the index. */
export function makeSnapshot(index: number, term = 1): Snapshot {
  const data = new Uint8Array(64).fill(index & 0xff);
  new DataView(data.buffer).setUint32(0, index, true);
  return {
    metadata: {
      index,
      term,
      configuration: { ...EMPTY_CONFIGURATION, voters: [NODE_ID] },
    },
    data,
  };
}

/** What {@link writeLog} persisted. */
export interface WrittenLog {
  readonly entries: readonly NormalEntry[];
  readonly hardState: HardState;
}

/**
 * Persists entries 1..`entryCount` in batches of `entriesPerBatch`, each batch with a hard state
 * committing the batch before it (as a follower would), then closes the storage.
 */
export async function writeLog(
  options: DurableStorageOptions,
  entryCount: number,
  entriesPerBatch = 10,
): Promise<WrittenLog> {
  const storage = await DurableStorage.open(options);
  const entries = makeEntries(1, entryCount);
  let hardState: HardState = { term: 1, votedFor: NODE_ID, commitIndex: 0 };
  for (let first = 0; first < entryCount; first += entriesPerBatch) {
    const batch = entries.slice(first, first + entriesPerBatch);
    hardState = { ...hardState, commitIndex: first };
    await storage.persist({ entries: batch, hardState, mustSync: true });
  }
  await storage.close();
  return { entries, hardState };
}

/** The segment files of a data directory, in sequence order. */
export function segmentFiles(directory: string): string[] {
  const walDirectory = path.join(directory, 'wal');
  return fs
    .readdirSync(walDirectory)
    .filter((name) => parseSegmentFileName(name) !== undefined)
    .sort()
    .map((name) => path.join(walDirectory, name));
}

/** The snapshot files of a data directory, oldest first. */
export function snapshotFiles(directory: string): string[] {
  const snapDirectory = path.join(directory, 'snap');
  return fs
    .readdirSync(snapDirectory)
    .filter((name) => name.endsWith('.snap'))
    .sort()
    .map((name) => path.join(snapDirectory, name));
}

/** Where one valid record of a segment file lies. */
export interface RecordLocation {
  readonly offset: number;
  readonly type: RecordType;
  readonly payloadStart: number;
  readonly payloadEnd: number;
  /** Offset of the record after it. */
  readonly next: number;
  /** The entry's index, for entry records. */
  readonly entryIndex: number | undefined;
}

/** The valid records of a segment file, up to the end of its written part. */
export function readRecords(file: string): RecordLocation[] {
  const buffer = fs.readFileSync(file);
  const records: RecordLocation[] = [];
  let offset = SEGMENT_HEADER_BYTES;
  for (;;) {
    const read = readRecord(buffer, offset);
    if (read.kind !== 'record') return records;
    const entry =
      read.type === RecordType.entry
        ? readEntryPayload(buffer, read.payloadStart, read.payloadEnd)
        : undefined;
    records.push({
      offset,
      type: read.type,
      payloadStart: read.payloadStart,
      payloadEnd: read.payloadEnd,
      next: read.next,
      entryIndex: typeof entry === 'object' ? entry.index : undefined,
    });
    offset = read.next;
  }
}

/** The entry records of a segment file. */
export function entryRecords(file: string): RecordLocation[] {
  return readRecords(file).filter((record) => record.entryIndex !== undefined);
}

/** The entry record in the middle of a segment file. */
export function middleEntryRecord(file: string): RecordLocation {
  const records = entryRecords(file);
  const middle = records[Math.floor(records.length / 2)];
  if (middle === undefined) throw new Error(`${file} holds no entry records`);
  return middle;
}

/** XORs the byte at `offset` of `file` with `mask` (non-zero, so the byte changes). */
export function flipByte(file: string, offset: number, mask = 0x5a): void {
  const buffer = fs.readFileSync(file);
  const byte = buffer[offset];
  if (byte === undefined) throw new Error(`${file} has no byte at ${offset}`);
  buffer[offset] = byte ^ mask;
  fs.writeFileSync(file, buffer);
}

/** Overwrites bytes of `file` at `offset`. */
export function patchBytes(file: string, offset: number, bytes: Uint8Array): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.byteLength, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** The error `DurableStorage.open(options)` rejects with; fails the test if it opens. */
export async function openError(options: DurableStorageOptions): Promise<unknown> {
  let storage: DurableStorage;
  try {
    storage = await DurableStorage.open(options);
  } catch (error) {
    return error;
  }
  await storage.close();
  throw new Error(
    `expected open to fail, but it recovered ${storage.recovered.entries.length} entries`,
  );
}
