/**
 * Compaction at scale (issue #3): a member that writes 1,000,000 entries and takes a snapshot
 * every 10,000 must keep only a handful of WAL segment files and at most `snapshotsRetained`
 * snapshot files on disk at every moment, and must restart from the newest snapshot plus the
 * entries after it. Uses the real file system and small segments so that the log rotates
 * through many segments.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ConfigurationState, Entry, Snapshot } from '../../src/raft/index.js';
import { DurableStorage, type StorageObserver } from '../../src/storage/index.js';

const ENTRY_COUNT = 1_000_000;
const SNAPSHOT_EVERY_ENTRIES = 10_000;
const BATCH_ENTRIES = 1_000;
/**
 * A member snapshots its applied state, which trails the end of its log: each snapshot covers
 * the log up to this many entries before the last one written, so the newest closed segment
 * often still holds entries above the snapshot and must be kept.
 */
const SNAPSHOT_LAG_ENTRIES = 2_500;
/** Entries written after the last snapshot, so that the restart has a log to replay. */
const TAIL_ENTRY_COUNT = 4_321;
const ENTRY_DATA_BYTES = 32;
const SEGMENT_BYTES_TARGET = 4 * 1024 * 1024;
const SNAPSHOTS_RETAINED = 2;
/** "A handful": the active segment, the one just closed, and a little slack. */
const SEGMENT_FILES_MAX = 4;
const CONFIGURATION: ConfigurationState = {
  voters: [1],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  isAutoLeave: false,
};

/** Entry data that says which entry it belongs to, so the restart can check it. */
function entryData(index: number): Uint8Array {
  const data = new Uint8Array(ENTRY_DATA_BYTES);
  const view = new DataView(data.buffer);
  view.setUint32(0, index, true);
  view.setUint32(ENTRY_DATA_BYTES - 4, index ^ 0x5a5a5a5a, true);
  return data;
}

function entries(first: number, last: number): Entry[] {
  const batch: Entry[] = [];
  for (let index = first; index <= last; index++) {
    batch.push({ kind: 'normal', index, term: 1, data: entryData(index) });
  }
  return batch;
}

function filesEndingWith(directory: string, suffix: string): string[] {
  return fs.readdirSync(directory).filter((name) => name.endsWith(suffix));
}

describe('compaction of a long-running log', () => {
  let directory: string;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-compaction-'));
  });

  afterEach(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it('keeps a handful of segments through 1,000,000 entries with a snapshot every 10,000', async () => {
    const started = performance.now();
    const walDirectory = path.join(directory, 'wal');
    const snapDirectory = path.join(directory, 'snap');
    const counts = { segmentsCreated: 0, segmentsDeleted: 0 };
    const observer: StorageObserver = {
      walSegmentCreated: () => counts.segmentsCreated++,
      walSegmentsDeleted: (count) => (counts.segmentsDeleted += count),
    };
    const options = {
      directory,
      clusterId: 0x636f6d7061637400n,
      nodeId: 1,
      incarnationForNewDirectory: 7n,
      observer,
      segmentBytesTarget: SEGMENT_BYTES_TARGET,
      snapshotEntriesThreshold: SNAPSHOT_EVERY_ENTRIES,
      snapshotsRetained: SNAPSHOTS_RETAINED,
    };
    const storage = await DurableStorage.open(options);
    let segmentFilesMax = 0;
    let snapshotFilesMax = 0;
    const snapshotAt = (index: number): Snapshot => ({
      metadata: { index, term: 1, configuration: CONFIGURATION },
      data: entryData(index),
    });

    for (let first = 1; first <= ENTRY_COUNT; first += BATCH_ENTRIES) {
      const last = first + BATCH_ENTRIES - 1;
      await storage.persist({
        entries: entries(first, last),
        hardState: { term: 1, votedFor: 1, commitIndex: last },
        mustSync: true,
      });
      if (last % SNAPSHOT_EVERY_ENTRIES !== 0) continue;
      const snapshotIndex = last - SNAPSHOT_LAG_ENTRIES;
      // The first snapshot comes 7,500 entries in, below the threshold; the others 10,000 apart.
      expect(storage.shouldSnapshot(snapshotIndex)).toBe(snapshotIndex > SNAPSHOT_EVERY_ENTRIES);
      await storage.saveSnapshot(snapshotAt(snapshotIndex));
      expect(storage.snapshotIndex()).toBe(snapshotIndex);
      expect(storage.shouldSnapshot(snapshotIndex + 1)).toBe(false);
      const segmentFiles = filesEndingWith(walDirectory, '.wal').length;
      const snapshotFiles = filesEndingWith(snapDirectory, '.snap').length;
      segmentFilesMax = Math.max(segmentFilesMax, segmentFiles);
      snapshotFilesMax = Math.max(snapshotFilesMax, snapshotFiles);
      expect(
        segmentFiles,
        `segment files after the snapshot at ${snapshotIndex}`,
      ).toBeLessThanOrEqual(SEGMENT_FILES_MAX);
      expect(segmentFiles).toBe(storage.segmentCount());
      expect(
        snapshotFiles,
        `snapshot files after the snapshot at ${snapshotIndex}`,
      ).toBeLessThanOrEqual(SNAPSHOTS_RETAINED);
    }
    const tailLast = ENTRY_COUNT + TAIL_ENTRY_COUNT;
    await storage.persist({
      entries: entries(ENTRY_COUNT + 1, tailLast),
      hardState: { term: 1, votedFor: 1, commitIndex: tailLast },
      mustSync: true,
    });
    await storage.close();
    const writeSeconds = (performance.now() - started) / 1000;

    // Without rotation the bound above would hold trivially: the log must have gone through
    // many segments, and deleted all but the few left.
    const logBytes = (ENTRY_COUNT + TAIL_ENTRY_COUNT) * (16 + 24 + ENTRY_DATA_BYTES);
    expect(counts.segmentsCreated).toBeGreaterThanOrEqual(
      Math.floor(logBytes / SEGMENT_BYTES_TARGET),
    );
    const segmentFilesAtEnd = filesEndingWith(walDirectory, '.wal').length;
    expect(segmentFilesAtEnd).toBeLessThanOrEqual(SEGMENT_FILES_MAX);
    expect(counts.segmentsDeleted).toBe(counts.segmentsCreated - segmentFilesAtEnd);
    expect(filesEndingWith(snapDirectory, '.snap')).toHaveLength(SNAPSHOTS_RETAINED);

    const reopenStarted = performance.now();
    const reopened = await DurableStorage.open(options);
    const reopenSeconds = (performance.now() - reopenStarted) / 1000;
    try {
      const { snapshot, entries: recovered, hardState, report } = reopened.recovered;
      const lastSnapshotIndex = ENTRY_COUNT - SNAPSHOT_LAG_ENTRIES;
      expect(snapshot?.metadata.index).toBe(lastSnapshotIndex);
      expect(snapshot?.data).toEqual(entryData(lastSnapshotIndex));
      expect(reopened.snapshotIndex()).toBe(lastSnapshotIndex);
      expect(recovered).toHaveLength(tailLast - lastSnapshotIndex);
      recovered.forEach((entry, position) => {
        const index = lastSnapshotIndex + 1 + position;
        expect(entry.index).toBe(index);
        if (entry.kind !== 'normal') throw new Error(`entry ${index} is ${entry.kind}`);
        expect(entry.data).toEqual(entryData(index));
      });
      expect(hardState.commitIndex).toBe(tailLast);
      expect(report.segmentCount).toBe(segmentFilesAtEnd);
      expect(report.tornTail).toBeUndefined();
    } finally {
      await reopened.close();
    }
    process.stdout.write(
      `compaction: ${ENTRY_COUNT + TAIL_ENTRY_COUNT} entries written and ` +
        `${ENTRY_COUNT / SNAPSHOT_EVERY_ENTRIES} snapshots taken in ${writeSeconds.toFixed(1)} s; ` +
        `${counts.segmentsCreated} segments created, at most ${segmentFilesMax} segment files and ` +
        `${snapshotFilesMax} snapshot files on disk; reopened in ${reopenSeconds.toFixed(2)} s\n`,
    );
  }, 120_000);
});
