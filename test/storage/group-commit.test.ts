/**
 * Group commit must group: with N producers each awaiting its own persist, every write after
 * the first few should carry (nearly) all N appends, whatever the depth of the caller's async
 * chain.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { Entry } from '../../src/raft/index.js';
import { DurableStorage, type PersistRequest } from '../../src/storage/index.js';

const PRODUCER_COUNT = 64;
const PERSISTS_PER_PRODUCER = 40;

describe('group commit', () => {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true });
  });

  it.each([0, 1, 2])('puts all %i-deep waiting producers into one write', async (callerDepth) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-group-commit-'));
    directories.push(directory);
    const recordsPerWrite: number[] = [];
    const storage = await DurableStorage.open({
      directory,
      clusterId: 1n,
      nodeId: 1,
      incarnationForNewDirectory: 1n,
      observer: { walBatchWritten: (records) => recordsPerWrite.push(records) },
    });
    // The node reaches persist through a few async functions of its own.
    const persistThrough = async (request: PersistRequest, depth: number): Promise<void> => {
      if (depth === 0) return storage.persist(request);
      await persistThrough(request, depth - 1);
    };
    let nextIndex = 1;
    const data = new Uint8Array(64);
    const produce = async (): Promise<void> => {
      for (let count = 0; count < PERSISTS_PER_PRODUCER; count++) {
        const index = nextIndex++;
        const entry: Entry = { kind: 'normal', index, term: 1, data };
        await persistThrough(
          {
            entries: [entry],
            hardState: { term: 1, votedFor: 1, commitIndex: index - 1 },
            mustSync: true,
          },
          callerDepth,
        );
      }
    };
    await Promise.all(Array.from({ length: PRODUCER_COUNT }, produce));
    await storage.close();
    const steady = recordsPerWrite.slice(4, -4);
    const mean = steady.reduce((sum, records) => sum + records, 0) / steady.length;
    expect(mean).toBeGreaterThanOrEqual(PRODUCER_COUNT * 0.9);
  });
});
