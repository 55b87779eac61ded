/**
 * Overlapping calls into DurableStorage that involve snapshots, found while building the crash
 * test (its child keeps several persist calls in flight, as group commit invites). Two bugs:
 *
 * - a persist made while an earlier persist carrying a snapshot is still writing the snapshot
 *   file reaches the log before that snapshot's marker, is acknowledged first, and leaves a log
 *   that no longer opens (an entry gap), without any crash;
 * - two overlapping snapshot saves both delete the same oldest segment; the second unlink fails
 *   with ENOENT, which is fatal.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { Entry } from '../../../src/raft/index.js';
import { DurableStorage } from '../../../src/storage/index.js';
import { CLUSTER_ID, entryData, INCARNATION, NODE_ID, snapshotAt } from './entry-content.js';

const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0)) {
    fs.rmSync(directory, { recursive: true, force: true });
  }
});

function openStorage(directory: string): Promise<DurableStorage> {
  return DurableStorage.open({
    directory,
    clusterId: CLUSTER_ID,
    nodeId: NODE_ID,
    incarnationForNewDirectory: INCARNATION,
    segmentBytesTarget: 64 * 1024,
  });
}

function entries(firstIndex: number, lastIndex: number): Entry[] {
  const made: Entry[] = [];
  for (let index = firstIndex; index <= lastIndex; index++) {
    made.push({ kind: 'normal', index, term: 1, data: entryData(index, 1) });
  }
  return made;
}

/** A bootstrapped directory holding entries 2..lastIndex, open. */
async function storageWithLog(lastIndex: number): Promise<DurableStorage> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-crash-overlap-'));
  directories.push(directory);
  const storage = await openStorage(directory);
  await storage.persist({
    snapshot: snapshotAt(1, 1),
    entries: [],
    hardState: { term: 1, votedFor: 0, commitIndex: 1 },
    mustSync: true,
  });
  for (let first = 2; first <= lastIndex; first += 50) {
    await storage.persist({
      entries: entries(first, Math.min(first + 49, lastIndex)),
      mustSync: true,
    });
  }
  return storage;
}

describe('overlapping persist and snapshot calls', () => {
  it('[bug] a persist made while a received snapshot is being saved is logged after it', async () => {
    const storage = await storageWithLog(50);
    const directory = directories.at(-1) as string;
    // A follower: the leader's snapshot at 100 arrives, then the next Ready's entries 101..110,
    // persisted before the first call resolved.
    const installing = storage.persist({
      snapshot: snapshotAt(100, 1),
      entries: [],
      hardState: { term: 1, votedFor: 0, commitIndex: 100 },
      mustSync: true,
    });
    const appending = storage.persist({ entries: entries(101, 110), mustSync: true });
    await Promise.all([installing, appending]);
    await storage.close();

    const reopened = await openStorage(directory);
    expect(reopened.recovered.snapshot?.metadata.index).toBe(100);
    expect(reopened.recovered.entries.map((entry) => entry.index)).toEqual(
      entries(101, 110).map((entry) => entry.index),
    );
    await reopened.close();
  });

  it('[bug] two overlapping local snapshots both succeed', async () => {
    const storage = await storageWithLog(1000);
    const segmentCountBefore = storage.segmentCount();

    await expect(
      Promise.all([
        storage.saveSnapshot(snapshotAt(900, 1)),
        storage.saveSnapshot(snapshotAt(950, 1)),
      ]),
    ).resolves.toBeDefined();
    expect(storage.fatalError()).toBeUndefined();
    expect(storage.segmentCount()).toBeLessThan(segmentCountBefore);
    await storage.close();
  });
});
