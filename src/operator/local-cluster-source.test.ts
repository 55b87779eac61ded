import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  createLocalCluster,
  localClusterPaths,
  updateLocalClusterSpec,
} from './local-cluster-files.js';
import { LocalClusterSource } from './local-cluster-source.js';
import { LocalPlatform } from './local-platform.js';
import { readAllPodRecords, signalProcess } from './local-pod-process.js';

const POLL_INTERVAL_MS = 50;
const KEY = 'local/demo';

let root: string;
let source: LocalClusterSource;
let changes: string[];

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'raftkv-local-source-'));
  source = new LocalClusterSource({ root, pollIntervalMs: POLL_INTERVAL_MS });
  changes = [];
});

afterEach(async () => {
  await source.stop();
  for (const record of await readAllPodRecords(localClusterPaths(root))) {
    await signalProcess(record, 'SIGKILL');
  }
  rmSync(root, { recursive: true, force: true });
});

/** Waits until `onChange` was called for KEY again (after the calls so far). */
async function nextChange(timeoutMs = 5000): Promise<void> {
  const seen = changes.length;
  const deadlineMs = Date.now() + timeoutMs;
  while (changes.length === seen) {
    if (Date.now() > deadlineMs) throw new Error('onChange was not called');
    await sleep(10);
  }
  expect(changes.slice(seen).every((key) => key === KEY)).toBe(true);
}

describe('LocalClusterSource', () => {
  it('serves the cluster and wakes on spec changes, not on status writes', async () => {
    await createLocalCluster(root, 'demo', { replicas: 3 });
    await source.start((key) => changes.push(key));
    expect(changes).toEqual([KEY]);
    expect(source.list().map((cluster) => cluster.metadata.name)).toEqual(['demo']);
    const cluster = source.get(KEY);
    if (cluster === undefined) throw new Error('no cluster');
    expect(source.get('local/other')).toBeUndefined();

    const platform = new LocalPlatform({
      root,
      ports: { clientPortBase: 1, peerPortBase: 2, httpPortBase: 3, stride: 3 },
      nodeCommand: { file: process.execPath, args: [] },
    });
    await platform.writeStatus(cluster, { observedGeneration: 1, replicas: 3 });
    await sleep(POLL_INTERVAL_MS * 4);
    expect(source.get(KEY)?.status).toEqual({ observedGeneration: 1, replicas: 3 });
    expect(changes).toEqual([KEY]);

    await updateLocalClusterSpec(root, { replicas: 5 });
    await nextChange();
    expect(source.get(KEY)?.metadata.generation).toBe(2);
    expect(source.get(KEY)?.spec.replicas).toBe(5);
    // The status stays merged in across a spec change.
    expect(source.get(KEY)?.status?.observedGeneration).toBe(1);

    rmSync(localClusterPaths(root).cluster);
    await nextChange();
    expect(source.list()).toEqual([]);
  });

  it('wakes when a pod process starts and when it exits', async () => {
    const cluster = await createLocalCluster(root, 'demo', { replicas: 1 });
    await source.start((key) => changes.push(key));
    const platform = new LocalPlatform({
      root,
      ports: { clientPortBase: 1, peerPortBase: 2, httpPortBase: 3, stride: 3 },
      // A stand-in pod: runs until killed, ignores the serve flags.
      nodeCommand: { file: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] },
    });
    await platform.applyWorkload(cluster, {
      replicas: 1,
      initialReplicas: 1,
      initialClusterState: 'new',
      quorum: 1,
    });
    await nextChange();
    const [record] = await readAllPodRecords(localClusterPaths(root));
    if (record === undefined) throw new Error('no pod');
    await signalProcess(record, 'SIGKILL');
    await nextChange();
  });
});

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
