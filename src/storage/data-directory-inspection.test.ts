/**
 * inspectDataDirectory on directories written by DurableStorage and then damaged the ways the
 * recovery rules name: a torn tail (reported, not repaired), a flipped byte mid-segment (that
 * segment damaged, the others still listed, verdict WAL_CORRUPT), a missing segment (gap), a
 * damaged snapshot (with and without an older one to fall back on), a never-written last segment,
 * a removed member. Every damaged directory is compared byte for byte before and after.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { Entry, Snapshot } from '../raft/index.js';
import {
  DataDirectoryUnreadableError,
  type DataDirectoryInspection,
  inspectDataDirectory,
} from './data-directory-inspection.js';
import { DurableStorage } from './durable-storage.js';
import { segmentFileName } from './wal-format.js';

const CLUSTER_ID = 0xc1a5_7e12n;
const NODE_ID = 2;
const INCARNATION = 0xfeed_beefn;
/** 16 + 24 + 96 = 136 bytes per entry record: no padding, so every flipped byte is checked. */
const ENTRY_DATA_BYTES = 96;
const ENTRY_COUNT = 60;
const LAST_INDEX = ENTRY_COUNT + 1;
/** Each batch's hard state commits the batch before it, as a follower's usually does. */
const LAST_COMMIT_INDEX = LAST_INDEX - 5;

const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true });
});

function entry(index: number): Entry {
  return { kind: 'normal', index, term: 1, data: new Uint8Array(ENTRY_DATA_BYTES).fill(index) };
}

function snapshotAt(index: number): Snapshot {
  const configuration = {
    voters: [NODE_ID],
    votersOutgoing: [],
    learners: [],
    learnersNext: [],
    isAutoLeave: false,
  };
  return { metadata: { index, term: 1, configuration }, data: new Uint8Array(32).fill(index) };
}

/**
 * A member's directory: the bootstrap snapshot at 1, entries 2..61 in batches of 5 over several
 * 4 KiB segments, each with a hard state committing the batch before it (a hard state committing
 * its own batch makes a torn tail fatal: see the report of this test's author); optionally a
 * local snapshot once `snapshotIndex` is in.
 */
async function writeDirectory(
  options: { snapshotIndex?: number; clusterId?: bigint } = {},
): Promise<string> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-inspect-'));
  directories.push(directory);
  const storage = await DurableStorage.open({
    directory,
    clusterId: options.clusterId ?? CLUSTER_ID,
    nodeId: NODE_ID,
    incarnationForNewDirectory: INCARNATION,
    segmentBytesTarget: 4096,
    isPreallocationEnabled: false,
  });
  const hardState = { term: 1, votedFor: NODE_ID, commitIndex: 1 };
  await storage.persist({ snapshot: snapshotAt(1), entries: [], hardState, mustSync: true });
  for (let first = 2; first <= LAST_INDEX; first += 5) {
    const entries = [0, 1, 2, 3, 4].map((offset) => entry(first + offset));
    await storage.persist({
      entries,
      hardState: { ...hardState, commitIndex: first - 1 },
      mustSync: true,
    });
    if (options.snapshotIndex !== undefined && first + 4 === options.snapshotIndex) {
      await storage.saveSnapshot(snapshotAt(options.snapshotIndex));
    }
  }
  await storage.close();
  return directory;
}

/** Every file of `directory` and its bytes, to prove the inspection changed nothing. */
function contentsOf(directory: string): Map<string, Buffer> {
  const contents = new Map<string, Buffer>();
  for (const name of fs.readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(directory, name);
    if (fs.statSync(file).isFile()) contents.set(name, fs.readFileSync(file));
  }
  return contents;
}

async function inspectUnchanged(directory: string): Promise<DataDirectoryInspection> {
  const before = contentsOf(directory);
  const report = await inspectDataDirectory(directory);
  expect(contentsOf(directory)).toEqual(before);
  return report;
}

function segmentPath(directory: string, sequence: number): string {
  return path.join(directory, 'wal', segmentFileName(sequence));
}

function flipByte(file: string, position: number): void {
  const bytes = fs.readFileSync(file);
  bytes[position] = (bytes[position] ?? 0) ^ 0x40;
  fs.writeFileSync(file, bytes);
}

describe('inspectDataDirectory', () => {
  it('reports a healthy directory: stamp, contiguous segments, hard state, snapshot, verdict', async () => {
    const report = await inspectUnchanged(await writeDirectory());
    expect(report.identity).toEqual({
      kind: 'stamped',
      clusterId: 'c1a57e12',
      nodeId: NODE_ID,
      incarnation: 'feedbeef',
      isRemoved: false,
    });
    const segments = report.wal.segments;
    expect(segments.length).toBeGreaterThanOrEqual(3);
    expect(segments.map((segment) => segment.status)).toEqual(segments.map(() => 'intact'));
    expect(segments.map((segment) => segment.sequence)).toEqual(segments.map((_, k) => k + 1));
    expect(segments.reduce((total, segment) => total + segment.entryCount, 0)).toBe(ENTRY_COUNT);
    expect(segments[0]?.entryIndexMin).toBe(2);
    expect(segments.at(-1)?.entryIndexMax).toBe(LAST_INDEX);
    for (const [k, segment] of segments.entries()) {
      expect(segment.endOffset).toBe(segment.sizeBytes);
      if (k > 0) expect(segment.entryIndexMin).toBe((segments[k - 1]?.entryIndexMax ?? 0) + 1);
    }
    expect(report.wal.gaps).toEqual([]);
    expect(report.wal.lastHardState).toMatchObject({ term: 1, commitIndex: LAST_COMMIT_INDEX });
    expect(report.wal.snapshotMarkers[0]).toMatchObject({ index: 1, isInstalled: true });
    expect(report.snapshots.files).toEqual([
      expect.objectContaining({ index: 1, term: 1, isValid: true, detail: undefined }),
    ]);
    expect(report.verdict).toEqual({
      kind: 'startable',
      snapshotIndex: 1,
      snapshotTerm: 1,
      entryCount: ENTRY_COUNT,
      lastIndex: LAST_INDEX,
      hardState: { term: 1, votedFor: NODE_ID, commitIndex: LAST_COMMIT_INDEX },
      warnings: [],
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report); // plain data, nothing lost
  });

  it('reports a torn tail with its offset and the warning, and leaves the file as it was', async () => {
    const directory = await writeDirectory();
    const healthy = await inspectDataDirectory(directory);
    const last = healthy.wal.segments.at(-1);
    const file = segmentPath(directory, last?.sequence ?? 0);
    const sizeBytes = fs.statSync(file).size;
    fs.truncateSync(file, sizeBytes - 10); // the last entry record loses its final 10 bytes
    const tornOffset = sizeBytes - 136;

    const report = await inspectUnchanged(directory);
    expect(fs.statSync(file).size).toBe(sizeBytes - 10);
    const torn = report.wal.segments.at(-1);
    expect(torn?.status).toBe('tornTail');
    expect(torn?.tornTail).toEqual({
      offset: tornOffset,
      detail: 'record cut short by the end of the file',
    });
    expect(torn?.endOffset).toBe(tornOffset);
    expect(torn?.entryIndexMax).toBe(LAST_INDEX - 1);
    expect(report.verdict).toMatchObject({ kind: 'startable', lastIndex: LAST_INDEX - 1 });
    expect(report.verdict.kind === 'startable' && report.verdict.warnings).toEqual([
      {
        message: expect.stringContaining('torn write at the tail of the wal'),
        fields: { file, offset: tornOffset, detail: 'record cut short by the end of the file' },
      },
    ]);
  });

  it('marks a segment with a flipped byte damaged, lists the others, and says WAL_CORRUPT', async () => {
    const directory = await writeDirectory();
    const file = segmentPath(directory, 1);
    const flipped = Math.floor(fs.statSync(file).size / 2);
    flipByte(file, flipped);

    const report = await inspectUnchanged(directory);
    const [first, ...others] = report.wal.segments;
    expect(first?.status).toBe('damaged');
    expect(first?.error?.code).toBe('WAL_CORRUPT');
    const offset = first?.error?.offset ?? -1;
    expect(offset).toBeGreaterThan(flipped - 136);
    expect(offset).toBeLessThanOrEqual(flipped);
    expect(first?.recordCount).toBeGreaterThan(0); // what was read before the damage
    expect(others.length).toBeGreaterThanOrEqual(2);
    expect(others.map((segment) => segment.status)).toEqual(others.map(() => 'intact'));
    expect(report.verdict).toMatchObject({
      kind: 'refused',
      error: { code: 'WAL_CORRUPT', file, offset, remedy: expect.stringContaining('peers') },
    });
  });

  it('reports a missing segment as a gap and the verdict WAL_LOG_GAP', async () => {
    const directory = await writeDirectory();
    fs.rmSync(segmentPath(directory, 2));

    const report = await inspectUnchanged(directory);
    expect(report.wal.segments.map((segment) => segment.sequence)).not.toContain(2);
    expect(report.wal.gaps).toEqual([{ missingFrom: 2, missingTo: 2 }]);
    expect(report.verdict).toMatchObject({
      kind: 'refused',
      error: { code: 'WAL_LOG_GAP', file: segmentPath(directory, 2) },
    });
  });

  it('reports a damaged snapshot, and SNAPSHOT_CORRUPT when the log no longer covers it', async () => {
    const directory = await writeDirectory({ snapshotIndex: 41 });
    const snapshotFile = path.join(directory, 'snap', '0000000000000029-0000000000000001.snap');
    flipByte(snapshotFile, 70);

    const report = await inspectUnchanged(directory);
    expect(report.snapshots.files).toEqual([
      expect.objectContaining({ index: 1, isValid: true }),
      expect.objectContaining({ index: 41, isValid: false, detail: 'checksum mismatch' }),
    ]);
    expect(report.wal.segments[0]?.sequence).toBeGreaterThan(1); // compacted behind index 41
    expect(report.verdict).toMatchObject({
      kind: 'refused',
      error: { code: 'SNAPSHOT_CORRUPT', file: snapshotFile },
    });
  });

  it('reports the fallback to an older snapshot when the log still covers a damaged one', async () => {
    const directory = await writeDirectory({ snapshotIndex: 11 });
    const snapshotFile = path.join(directory, 'snap', '000000000000000b-0000000000000001.snap');
    flipByte(snapshotFile, 70);

    const report = await inspectUnchanged(directory);
    expect(report.snapshots.files.find((file) => file.index === 11)?.isValid).toBe(false);
    expect(report.verdict).toMatchObject({ kind: 'startable', snapshotIndex: 1 });
    const warnings = report.verdict.kind === 'startable' ? report.verdict.warnings : [];
    expect(warnings.map((warning) => warning.message)).toEqual([
      'snapshot file is damaged; trying an older one',
      'using an older snapshot and the log in place of the damaged snapshot',
    ]);
  });

  it('reports a never-written last segment without removing it', async () => {
    const directory = await writeDirectory();
    const healthy = await inspectDataDirectory(directory);
    const sequence = (healthy.wal.segments.at(-1)?.sequence ?? 0) + 1;
    fs.writeFileSync(segmentPath(directory, sequence), Buffer.alloc(4096));

    const report = await inspectUnchanged(directory);
    expect(report.wal.segments.at(-1)).toMatchObject({ sequence, status: 'unwritten' });
    expect(report.wal.segments.at(-2)?.status).toBe('intact');
    expect(report.verdict).toMatchObject({ kind: 'startable', lastIndex: LAST_INDEX });
    expect(fs.existsSync(segmentPath(directory, sequence))).toBe(true);
  });

  it('marks a segment stamped for another cluster foreign, and says FOREIGN_IDENTITY', async () => {
    const directory = await writeDirectory();
    const other = await writeDirectory({ clusterId: 0xbadn });
    const sequence = (await inspectDataDirectory(directory)).wal.segments.at(-1)?.sequence ?? 0;
    fs.copyFileSync(segmentPath(other, sequence), segmentPath(directory, sequence));

    const report = await inspectUnchanged(directory);
    expect(report.wal.segments.at(-1)).toMatchObject({
      status: 'foreign',
      detail: 'cluster bad, expected c1a57e12',
    });
    expect(report.wal.segments.at(-2)?.status).toBe('intact');
    expect(report.verdict).toMatchObject({
      kind: 'refused',
      error: { code: 'FOREIGN_IDENTITY', file: segmentPath(directory, sequence) },
    });
  });

  it('says NODE_REMOVED for a removed member, and still lists its log', async () => {
    const directory = await writeDirectory();
    const storage = await DurableStorage.open({
      directory,
      clusterId: CLUSTER_ID,
      nodeId: NODE_ID,
      incarnationForNewDirectory: 1n,
      isPreallocationEnabled: false,
    });
    await storage.markRemoved();
    await storage.close();

    const report = await inspectUnchanged(directory);
    expect(report.identity).toMatchObject({ kind: 'stamped', isRemoved: true });
    expect(report.wal.segments.length).toBeGreaterThanOrEqual(3);
    expect(report.verdict).toMatchObject({ kind: 'refused', error: { code: 'NODE_REMOVED' } });
  });

  it('calls an empty directory empty, and refuses log files without a stamp', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-inspect-'));
    directories.push(empty);
    expect((await inspectUnchanged(empty)).verdict).toEqual({ kind: 'empty' });

    const directory = await writeDirectory();
    fs.rmSync(path.join(directory, 'identity.json'));
    const report = await inspectUnchanged(directory);
    expect(report.identity).toEqual({ kind: 'missing' });
    expect(report.wal.segments.length).toBeGreaterThanOrEqual(3);
    expect(report.verdict).toMatchObject({
      kind: 'refused',
      error: { code: 'IDENTITY_STAMP_CORRUPT' },
    });
  });

  it('throws DataDirectoryUnreadableError only when the directory itself cannot be listed', async () => {
    const missing = path.join(os.tmpdir(), 'raftkv-inspect-does-not-exist', 'data');
    const error: unknown = await inspectDataDirectory(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataDirectoryUnreadableError);
    expect(error).toMatchObject({ file: missing, systemCode: 'ENOENT' });
  });
});
