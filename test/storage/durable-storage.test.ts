/**
 * DurableStorage on a real directory: what goes in comes back after a reopen, with the core's
 * overwrite rules, snapshots (installed ones replace the log, local ones keep it), group commit
 * sharing syncs, back-pressure, compaction thresholds and segment deletion.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  type ConfigurationState,
  type Entry,
  MemoryStorage,
  type Snapshot,
} from '../../src/raft/index.js';
import {
  DurableStorage,
  type DurableStorageOptions,
  type FileSystem,
  NODE_FILE_SYSTEM,
} from '../../src/storage/index.js';
import { SnapshotFiles } from '../../src/storage/snapshot-files.js';
import { segmentFileName } from '../../src/storage/wal-format.js';
import { SILENT_LOGGER } from '../../src/common/index.js';

const THREE_VOTERS: ConfigurationState = {
  voters: [1, 2, 3],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  isAutoLeave: false,
};
const IDENTITY = { clusterId: 0xfeedn, nodeId: 2, incarnation: 0x1234n };

let directory: string;
beforeEach(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-durable-'));
});
afterEach(() => {
  fs.rmSync(directory, { recursive: true, force: true });
});

function options(overrides: Partial<DurableStorageOptions> = {}): DurableStorageOptions {
  return {
    directory,
    clusterId: IDENTITY.clusterId,
    nodeId: IDENTITY.nodeId,
    incarnationForNewDirectory: IDENTITY.incarnation,
    segmentBytesTarget: 64 * 1024,
    isPreallocationEnabled: false,
    ...overrides,
  };
}

function entry(index: number, term: number, tag = 0): Entry {
  return { kind: 'normal', index, term, data: new TextEncoder().encode(`${index}/${term}/${tag}`) };
}

function entries(first: number, last: number, term: number, tag = 0): Entry[] {
  const result: Entry[] = [];
  for (let index = first; index <= last; index++) result.push(entry(index, term, tag));
  return result;
}

function snapshot(index: number, term: number, data = `state@${index}`): Snapshot {
  return {
    metadata: { index, term, configuration: THREE_VOTERS },
    data: new TextEncoder().encode(data),
  };
}

/** Opens a new directory and persists the founding snapshot at index 1, term 1. */
async function bootstrapped(overrides: Partial<DurableStorageOptions> = {}) {
  const storage = await DurableStorage.open(options(overrides));
  await storage.persist({
    snapshot: snapshot(1, 1, ''),
    entries: [],
    hardState: { term: 1, votedFor: 0, commitIndex: 1 },
    mustSync: true,
  });
  return storage;
}

async function reopen(overrides: Partial<DurableStorageOptions> = {}) {
  return DurableStorage.open(options(overrides));
}

function indexTerms(list: readonly Entry[]): string[] {
  return list.map((item) => `${item.index}/${item.term}`);
}

/** A FileSystem that counts fdatasync calls. */
function countingFileSystem(): { fileSystem: FileSystem; syncs: () => number } {
  let count = 0;
  const fileSystem: FileSystem = {
    ...NODE_FILE_SYSTEM,
    fdatasync: (fd) => {
      count++;
      return NODE_FILE_SYSTEM.fdatasync(fd);
    },
  };
  return { fileSystem, syncs: () => count };
}

describe('DurableStorage identity', () => {
  it('stamps a new directory once and keeps its incarnation', async () => {
    const first = await DurableStorage.open(options());
    expect(first.recovered.isNew).toBe(true);
    expect(first.recovered.identity).toEqual(IDENTITY);
    await first.close();
    const second = await reopen({ incarnationForNewDirectory: 999n });
    expect(second.recovered.isNew).toBe(false);
    expect(second.recovered.identity.incarnation).toBe(IDENTITY.incarnation);
    await second.close();
  });
});

describe('DurableStorage persistence', () => {
  it('returns entries, configuration changes and the hard state after a reopen', async () => {
    const storage = await bootstrapped();
    const change: Entry = {
      kind: 'configurationChange',
      index: 4,
      term: 2,
      change: { changes: [{ kind: 'addLearner', nodeId: 4 }] },
    };
    await storage.persist({
      entries: [...entries(2, 3, 2), change],
      hardState: { term: 2, votedFor: 1, commitIndex: 3 },
      mustSync: true,
    });
    await storage.close();
    const reopened = await reopen();
    expect(reopened.recovered.snapshot?.metadata.index).toBe(1);
    expect(reopened.recovered.entries).toEqual([...entries(2, 3, 2), change]);
    expect(reopened.recovered.hardState).toEqual({ term: 2, votedFor: 1, commitIndex: 3 });
    await reopened.close();
  });

  it('replays overwrites of a conflicting suffix as the core wrote them', async () => {
    const storage = await bootstrapped();
    await storage.persist({ entries: entries(2, 10, 2), mustSync: true });
    await storage.persist({
      entries: entries(6, 8, 3, 1),
      hardState: { term: 3, votedFor: 0, commitIndex: 5 },
      mustSync: true,
    });
    await storage.close();
    const reopened = await reopen();
    expect(reopened.recovered.entries).toEqual([...entries(2, 5, 2), ...entries(6, 8, 3, 1)]);
    await reopened.close();
  });

  it('fills a MemoryStorage the core can start from', async () => {
    const storage = await bootstrapped();
    await storage.persist({
      entries: entries(2, 6, 2),
      hardState: { term: 2, votedFor: 3, commitIndex: 6 },
      mustSync: true,
    });
    await storage.close();
    const reopened = await reopen();
    const memory = new MemoryStorage();
    reopened.loadInto(memory);
    expect(memory.firstIndex()).toBe(2);
    expect(memory.lastIndex()).toBe(6);
    expect(memory.term(1)).toBe(1);
    expect(memory.initialState()).toEqual({
      hardState: { term: 2, votedFor: 3, commitIndex: 6 },
      configuration: THREE_VOTERS,
    });
    await reopened.close();
  });

  it('continues appending after a reopen across many segments', async () => {
    let storage = await bootstrapped({ segmentBytesTarget: 2 * 1024 });
    for (let round = 0; round < 4; round++) {
      const first = 2 + round * 100;
      for (let index = first; index < first + 100; index += 10) {
        await storage.persist({ entries: entries(index, index + 9, 2), mustSync: true });
      }
      await storage.close();
      storage = await reopen({ segmentBytesTarget: 2 * 1024 });
      expect(storage.recovered.entries.at(-1)?.index).toBe(first + 99);
    }
    expect(storage.segmentCount()).toBeGreaterThan(5);
    expect(indexTerms(storage.recovered.entries)).toEqual(indexTerms(entries(2, 401, 2)));
    await storage.close();
  });
});

describe('DurableStorage snapshots', () => {
  it('keeps the log after a local snapshot and deletes segments wholly below it', async () => {
    const storage = await bootstrapped({ segmentBytesTarget: 4 * 1024 });
    for (let index = 2; index <= 400; index += 20) {
      await storage.persist({ entries: entries(index, index + 19, 2), mustSync: true });
    }
    const segmentsBefore = storage.segmentCount();
    await storage.saveSnapshot(snapshot(380, 2));
    expect(storage.segmentCount()).toBeLessThan(segmentsBefore);
    expect(storage.segmentCount()).toBeLessThanOrEqual(3);
    await storage.close();
    const files = fs
      .readdirSync(path.join(directory, 'wal'))
      .filter((name) => name.endsWith('.wal'));
    expect(files).toHaveLength(storage.segmentCount());
    const reopened = await reopen({ segmentBytesTarget: 4 * 1024 });
    expect(reopened.recovered.snapshot?.metadata.index).toBe(380);
    expect(indexTerms(reopened.recovered.entries)).toEqual(indexTerms(entries(381, 401, 2)));
    await reopened.close();
  });

  it('replaces the whole log with an installed snapshot', async () => {
    const storage = await bootstrapped();
    await storage.persist({ entries: entries(2, 30, 2), mustSync: true });
    await storage.persist({
      snapshot: snapshot(20, 4),
      entries: entries(21, 22, 4),
      hardState: { term: 4, votedFor: 0, commitIndex: 20 },
      mustSync: true,
    });
    await storage.close();
    const reopened = await reopen();
    expect(reopened.recovered.snapshot?.metadata).toEqual({
      index: 20,
      term: 4,
      configuration: THREE_VOTERS,
    });
    expect(indexTerms(reopened.recovered.entries)).toEqual(['21/4', '22/4']);
    await reopened.close();
  });

  it('drops the log after a snapshot it disagrees with, and keeps it when it agrees', async () => {
    const storage = await bootstrapped();
    await storage.persist({ entries: entries(2, 10, 2), mustSync: true });
    await storage.close();
    // A crash between saving a received snapshot and recording it leaves just the file.
    const files = new SnapshotFiles(
      NODE_FILE_SYSTEM,
      path.join(directory, 'snap'),
      IDENTITY,
      SILENT_LOGGER,
      {},
    );
    await files.save(snapshot(5, 3));
    const divergent = await reopen();
    expect(divergent.recovered.snapshot?.metadata.index).toBe(5);
    expect(divergent.recovered.entries).toEqual([]);
    expect(divergent.recovered.hardState.commitIndex).toBe(5);
    expect(divergent.recovered.hardState.term).toBe(3);
    await divergent.close();
    await files.save(snapshot(7, 2));
    const agreeing = await reopen();
    expect(agreeing.recovered.snapshot?.metadata.index).toBe(7);
    expect(indexTerms(agreeing.recovered.entries)).toEqual(['8/2', '9/2', '10/2']);
    await agreeing.close();
  });

  it('keeps only the newest snapshot files', async () => {
    const storage = await bootstrapped({ snapshotsRetained: 2 });
    await storage.persist({ entries: entries(2, 40, 2), mustSync: true });
    for (const index of [10, 20, 30, 40]) await storage.saveSnapshot(snapshot(index, 2));
    await storage.close();
    const names = fs.readdirSync(path.join(directory, 'snap')).sort();
    expect(names).toEqual([
      '000000000000001e-0000000000000002.snap',
      '0000000000000028-0000000000000002.snap',
    ]);
  });

  it('asks for a snapshot by applied entries and by WAL bytes', async () => {
    const byEntries = await bootstrapped({ snapshotEntriesThreshold: 50 });
    expect(byEntries.shouldSnapshot(50)).toBe(false);
    expect(byEntries.shouldSnapshot(51)).toBe(true);
    await byEntries.persist({ entries: entries(2, 51, 2), mustSync: true });
    await byEntries.saveSnapshot(snapshot(51, 2));
    expect(byEntries.snapshotIndex()).toBe(51);
    expect(byEntries.shouldSnapshot(100)).toBe(false);
    await byEntries.close();
    fs.rmSync(directory, { recursive: true });
    const byBytes = await bootstrapped({ snapshotBytesThreshold: 4096 });
    await byBytes.persist({ entries: entries(2, 5, 2), mustSync: true });
    expect(byBytes.shouldSnapshot(5)).toBe(false);
    const big: Entry = { kind: 'normal', index: 6, term: 2, data: new Uint8Array(5000) };
    await byBytes.persist({ entries: [big], mustSync: true });
    expect(byBytes.shouldSnapshot(6)).toBe(true);
    await byBytes.close();
  });
});

describe('DurableStorage group commit', () => {
  it('shares one fdatasync among concurrent appends and resolves them in call order', async () => {
    const counter = countingFileSystem();
    const storage = await bootstrapped({ fileSystem: counter.fileSystem });
    const syncsBefore = counter.syncs();
    const resolved: number[] = [];
    const appends = [];
    for (let index = 2; index < 202; index++) {
      appends.push(
        storage
          .persist({
            entries: [entry(index, 2)],
            hardState: { term: 2, votedFor: 1, commitIndex: index - 1 },
            mustSync: true,
          })
          .then(() => resolved.push(index)),
      );
    }
    await Promise.all(appends);
    expect(resolved).toEqual(entries(2, 201, 2).map((item) => item.index));
    expect(counter.syncs() - syncsBefore).toBeLessThanOrEqual(3);
    await storage.close();
    const reopened = await reopen();
    expect(reopened.recovered.entries).toHaveLength(200);
    await reopened.close();
  });

  it('does not sync appends that do not ask for it', async () => {
    const counter = countingFileSystem();
    const storage = await bootstrapped({ fileSystem: counter.fileSystem });
    const syncsBefore = counter.syncs();
    await storage.persist({ entries: entries(2, 5, 2), mustSync: false });
    expect(counter.syncs()).toBe(syncsBefore);
    await storage.close();
  });

  it('makes producers wait, not fail, when the queue is full', async () => {
    const storage = await bootstrapped({ pendingBytesMax: 2048, writeBytesMax: 1024 });
    const resolved: number[] = [];
    const appends = [];
    for (let index = 2; index < 402; index++) {
      const appended = storage.persist({ entries: [entry(index, 2)], mustSync: true });
      appends.push(appended.then(() => resolved.push(index)));
      // A late producer arriving while others wait for room must queue behind them.
      if (index % 50 === 0) await Promise.resolve();
    }
    await Promise.all(appends);
    expect(resolved).toEqual(entries(2, 401, 2).map((item) => item.index));
    await storage.close();
    const reopened = await reopen();
    expect(reopened.recovered.entries).toHaveLength(400);
    await reopened.close();
  });
});

describe('DurableStorage recovery of a segment that was never created', () => {
  it('removes an empty last segment left by a crash during rotation', async () => {
    const storage = await bootstrapped();
    await storage.persist({ entries: entries(2, 5, 2), mustSync: true });
    await storage.close();
    const empty = path.join(directory, 'wal', segmentFileName(2));
    fs.writeFileSync(empty, Buffer.alloc(4096));
    const reopened = await reopen();
    expect(reopened.recovered.report.tornSegmentFile).toBe(empty);
    expect(indexTerms(reopened.recovered.entries)).toEqual(['2/2', '3/2', '4/2', '5/2']);
    await reopened.persist({ entries: entries(6, 6, 2), mustSync: true });
    await reopened.close();
    const again = await reopen();
    expect(again.recovered.report.tornSegmentFile).toBeUndefined();
    expect(again.recovered.entries.at(-1)?.index).toBe(6);
    await again.close();
  });
});

describe('DurableStorage after a torn batch that committed its own entries', () => {
  it('lowers the commit index to the surviving log instead of refusing to start', async () => {
    const storage = await bootstrapped();
    // A follower's Ready: the hard state commits min(leaderCommit, last new index).
    await storage.persist({
      entries: entries(2, 6, 1),
      hardState: { term: 1, votedFor: 0, commitIndex: 6 },
      mustSync: true,
    });
    await storage.close();
    const file = path.join(directory, 'wal', segmentFileName(1));
    fs.truncateSync(file, fs.statSync(file).size - 10);
    const reopened = await reopen();
    expect(reopened.recovered.report.tornTail?.file).toBe(file);
    expect(reopened.recovered.entries.at(-1)?.index).toBe(5);
    expect(reopened.recovered.hardState.commitIndex).toBe(5);
    await reopened.close();
  });
});
