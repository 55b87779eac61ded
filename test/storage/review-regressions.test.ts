/**
 * Regression tests for bugs a review of the storage found, each of which lost acknowledged data
 * or stopped a healthy node from starting: segment deletion racing a rotation, a lowered commit
 * index that was never written down, an oversized entry acknowledged and then dropped as a torn
 * tail, close() overtaking snapshot work, and a segment whose start records were torn.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { EMPTY_CONFIGURATION, type NormalEntry, type Snapshot } from '../../src/raft/index.js';
import {
  DurableStorage,
  type DurableStorageOptions,
  type FileSystem,
  NODE_FILE_SYSTEM,
} from '../../src/storage/index.js';
import { SEGMENT_HEADER_BYTES } from '../../src/storage/wal-format.js';
import {
  makeTemporaryDirectory,
  removeTemporaryDirectories,
  segmentFiles,
  storageOptions,
} from './storage-fixtures.js';

afterEach(removeTemporaryDirectories);

function temporaryDirectory(): string {
  return makeTemporaryDirectory('regressions');
}

function entry(index: number, term = 1, dataBytes = 200): NormalEntry {
  return { kind: 'normal', index, term, data: new Uint8Array(dataBytes).fill(index & 0xff) };
}

function range(first: number, last: number, term = 1): NormalEntry[] {
  const entries: NormalEntry[] = [];
  for (let index = first; index <= last; index++) entries.push(entry(index, term));
  return entries;
}

function snapshotAt(index: number, term: number): Snapshot {
  return {
    metadata: { index, term, configuration: { ...EMPTY_CONFIGURATION, voters: [3] } },
    data: new Uint8Array(8),
  };
}

/** 8 KiB segments without preallocation, so a few hundred entries span several segments. */
function options(
  directory: string,
  fileSystem: FileSystem = NODE_FILE_SYSTEM,
): DurableStorageOptions {
  return storageOptions(directory, {
    segmentBytesTarget: 8 * 1024,
    isPreallocationEnabled: false,
    fileSystem,
  });
}

function lastSegmentFile(directory: string): string {
  return segmentFiles(directory).at(-1) as string;
}

describe('storage review regressions', () => {
  it('keeps entries appended while segments below an installed snapshot are being deleted', async () => {
    const directory = temporaryDirectory();
    let duringFirstRemove: (() => Promise<void>) | undefined;
    const fileSystem: FileSystem = {
      ...NODE_FILE_SYSTEM,
      remove: async (file) => {
        const hook = duringFirstRemove;
        if (hook !== undefined && file.endsWith('.wal')) {
          duringFirstRemove = undefined;
          await hook();
        }
        return NODE_FILE_SYSTEM.remove(file);
      },
    };
    const storage = await DurableStorage.open(options(directory, fileSystem));
    for (let index = 1; index <= 120; index += 10) {
      const hardState = { term: 1, votedFor: 0, commitIndex: 10 };
      await storage.persist({ entries: range(index, index + 9), hardState, mustSync: true });
    }
    expect(storage.segmentCount()).toBeGreaterThan(2);
    // The member keeps appending (and is acknowledged) while the first old segment is removed;
    // the appends rotate into new segments.
    duringFirstRemove = async () => {
      for (let index = 1002; index <= 1100; index += 3) {
        await storage.persist({ entries: range(index, index + 2, 2), mustSync: true });
      }
    };
    await storage.persist({
      snapshot: snapshotAt(1000, 2),
      entries: [entry(1001, 2)],
      hardState: { term: 2, votedFor: 0, commitIndex: 1000 },
      mustSync: true,
    });
    await storage.close();
    const reopened = await DurableStorage.open(options(directory));
    expect(reopened.recovered.snapshot?.metadata.index).toBe(1000);
    expect(reopened.recovered.entries.map((item) => item.index)).toEqual(
      range(1001, 1100).map((item) => item.index),
    );
    await reopened.close();
  });

  it('writes down a commit index lowered past a torn batch, so the next start succeeds too', async () => {
    const directory = temporaryDirectory();
    const storage = await DurableStorage.open(options(directory));
    const committed = { term: 1, votedFor: 0, commitIndex: 5 };
    await storage.persist({ entries: range(1, 5), hardState: committed, mustSync: true });
    // A follower's batch whose hard state commits its own entries 6..8.
    const ahead = { term: 1, votedFor: 0, commitIndex: 8 };
    await storage.persist({ entries: range(6, 8), hardState: ahead, mustSync: true });
    await storage.close();
    // Zero the last bytes of entry 8, as a write cut short would leave them.
    const file = lastSegmentFile(directory);
    const image = fs.readFileSync(file);
    let end = image.length;
    while (end > 0 && image[end - 1] === 0) end--;
    image.fill(0, end - 100, end);
    fs.writeFileSync(file, image);
    const first = await DurableStorage.open(options(directory));
    expect(first.recovered.report.tornTail).toBeDefined();
    expect(first.recovered.hardState.commitIndex).toBe(7);
    await first.close(); // as if it crashed before writing any hard state of its own
    const second = await DurableStorage.open(options(directory));
    expect(second.recovered.report.tornTail).toBeUndefined();
    expect(second.recovered.hardState.commitIndex).toBe(7);
    await second.close();
  });

  it('refuses an entry too large for one record instead of acknowledging it', async () => {
    const directory = temporaryDirectory();
    const storage = await DurableStorage.open(options(directory));
    const huge = entry(1, 1, 64 * 1024 * 1024);
    await expect(storage.persist({ entries: [huge], mustSync: true })).rejects.toMatchObject({
      code: 'ENTRY_TOO_LARGE',
    });
    expect(storage.fatalError()).toBeUndefined();
    await storage.persist({ entries: [entry(1)], mustSync: true });
    await storage.close();
    const reopened = await DurableStorage.open(options(directory));
    expect(reopened.recovered.entries.map((item) => item.index)).toEqual([1]);
    await reopened.close();
  });

  it('lets close() wait for a snapshot still being saved', async () => {
    const directory = temporaryDirectory();
    const storage = await DurableStorage.open(options(directory));
    const hardState = { term: 1, votedFor: 0, commitIndex: 50 };
    await storage.persist({ entries: range(1, 50), hardState, mustSync: true });
    const saving = storage.saveSnapshot(snapshotAt(40, 1));
    await storage.close();
    await expect(saving).resolves.toBeUndefined();
    const reopened = await DurableStorage.open(options(directory));
    expect(reopened.recovered.snapshot?.metadata.index).toBe(40);
    await reopened.close();
  });

  it('writes the start records again when a torn write left a segment holding only its header', async () => {
    const directory = temporaryDirectory();
    const storage = await DurableStorage.open(options(directory));
    const hardState = { term: 4, votedFor: 2, commitIndex: 1 };
    await storage.persist({ snapshot: snapshotAt(1, 1), entries: [], hardState, mustSync: true });
    for (let index = 2; index <= 61; index += 10) {
      await storage.persist({ entries: range(index, index + 9, 4), mustSync: true });
    }
    expect(storage.segmentCount()).toBeGreaterThan(1);
    await storage.close();
    // Tear everything after the header of the last segment, its start records included.
    const file = lastSegmentFile(directory);
    const image = fs.readFileSync(file);
    image.fill(0, SEGMENT_HEADER_BYTES + 8);
    fs.writeFileSync(file, image);
    const repaired = await DurableStorage.open(options(directory));
    expect(repaired.recovered.report.tornTail?.file).toBe(file);
    await repaired.close();
    // Delete the older segments, as a snapshot covering them would: the vote must survive.
    for (const name of fs.readdirSync(path.join(directory, 'wal'))) {
      const older = path.join(directory, 'wal', name);
      if (name.endsWith('.wal') && older !== file) fs.rmSync(older);
    }
    const reopened = await DurableStorage.open(options(directory));
    expect(reopened.recovered.hardState).toEqual({ term: 4, votedFor: 2, commitIndex: 1 });
    await reopened.close();
  });
});
