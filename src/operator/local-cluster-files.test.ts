import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  appendLocalEvent,
  createLocalCluster,
  LocalClusterFileError,
  LocalClusterNotFoundError,
  LocalClusterSpecError,
  localClusterPaths,
  readLocalCluster,
  readLocalStatefulSet,
  updateLocalClusterSpec,
  writeLocalClusterStatus,
  writeLocalStatefulSet,
} from './local-cluster-files.js';
import type { RaftClusterStatus } from './raft-cluster.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'raftkv-local-files-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('createLocalCluster', () => {
  it('writes a RaftCluster at generation 1 with a uid, once', async () => {
    const created = await createLocalCluster(root, 'demo', { replicas: 3 });
    expect(created).toMatchObject({
      apiVersion: 'raftkv.io/v1alpha1',
      kind: 'RaftCluster',
      metadata: { name: 'demo', namespace: 'local', generation: 1 },
      spec: { replicas: 3 },
    });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.status).toBeUndefined();

    const again = await createLocalCluster(root, 'other', { replicas: 5 });
    expect(again).toEqual(created);
    // No temp file left behind by either call.
    expect(readdirSync(root)).toEqual(['raftcluster.json']);
  });

  it('refuses a name that cannot be a host name and replicas out of range', async () => {
    await expect(createLocalCluster(root, 'Demo', {})).rejects.toBeInstanceOf(
      LocalClusterSpecError,
    );
    await expect(createLocalCluster(root, 'demo-', {})).rejects.toBeInstanceOf(
      LocalClusterSpecError,
    );
    await expect(createLocalCluster(root, 'demo', { replicas: 0 })).rejects.toBeInstanceOf(
      LocalClusterSpecError,
    );
    await expect(createLocalCluster(root, 'demo', { replicas: 10 })).rejects.toBeInstanceOf(
      LocalClusterSpecError,
    );
  });
});

describe('updateLocalClusterSpec', () => {
  it('merges the patch and bumps the generation only when the spec changes', async () => {
    const created = await createLocalCluster(root, 'demo', {
      replicas: 3,
      raft: { tickIntervalMs: 50, electionTimeoutTicks: 10 },
    });
    const scaled = await updateLocalClusterSpec(root, {
      replicas: 5,
      raft: { tickIntervalMs: 20, electionTimeoutTicks: null },
    });
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.metadata.uid).toBe(created.metadata.uid);
    expect(scaled.spec).toEqual({ replicas: 5, raft: { tickIntervalMs: 20 } });

    const unchanged = await updateLocalClusterSpec(root, { replicas: 5 });
    expect(unchanged.metadata.generation).toBe(2);
  });

  it('refuses an invalid spec and a missing cluster', async () => {
    await expect(updateLocalClusterSpec(root, { replicas: 3 })).rejects.toBeInstanceOf(
      LocalClusterNotFoundError,
    );
    await createLocalCluster(root, 'demo', { replicas: 3 });
    await expect(updateLocalClusterSpec(root, { replicas: 1.5 })).rejects.toBeInstanceOf(
      LocalClusterSpecError,
    );
    expect((await readLocalCluster(root)).spec.replicas).toBe(3);
  });
});

describe('status', () => {
  it('round-trips through status.json and merges into readLocalCluster', async () => {
    await createLocalCluster(root, 'demo', { replicas: 3 });
    const status: RaftClusterStatus = {
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 2,
      leader: 'demo-1',
      conditions: [
        {
          type: 'Available',
          status: 'True',
          observedGeneration: 1,
          lastTransitionTime: '2025-01-01T00:00:00Z',
          reason: 'QuorumAvailable',
          message: '',
        },
      ],
    };
    await writeLocalClusterStatus(root, status);
    const read = await readLocalCluster(root);
    expect(read.status).toEqual(status);
    // The resource file never holds the status (it is a subresource).
    const resource = JSON.parse(readFileSync(localClusterPaths(root).cluster, 'utf8')) as object;
    expect(resource).not.toHaveProperty('status');
    // A spec update keeps the status where it is.
    await updateLocalClusterSpec(root, { replicas: 4 });
    expect((await readLocalCluster(root)).status).toEqual(status);
  });

  it('reports a missing cluster and a damaged file with typed errors', async () => {
    await expect(readLocalCluster(root)).rejects.toBeInstanceOf(LocalClusterNotFoundError);
    writeFileSync(localClusterPaths(root).cluster, '{"kind": "RaftCluster"');
    await expect(readLocalCluster(root)).rejects.toBeInstanceOf(LocalClusterFileError);
    writeFileSync(localClusterPaths(root).cluster, '{"kind": "Pod"}');
    await expect(readLocalCluster(root)).rejects.toBeInstanceOf(LocalClusterFileError);
  });
});

describe('statefulset.json and events.log', () => {
  it('round-trips the StatefulSet', async () => {
    expect(await readLocalStatefulSet(root)).toBeUndefined();
    await writeLocalStatefulSet(root, {
      replicas: 4,
      initialReplicas: 3,
      initialClusterState: 'new',
      ownerUid: 'u-1',
    });
    expect(await readLocalStatefulSet(root)).toEqual({
      replicas: 4,
      initialReplicas: 3,
      initialClusterState: 'new',
      ownerUid: 'u-1',
    });
    writeFileSync(localClusterPaths(root).statefulSet, '{"replicas": -1}');
    await expect(readLocalStatefulSet(root)).rejects.toBeInstanceOf(LocalClusterFileError);
  });

  it('appends one JSON line per event', async () => {
    const event = {
      time: '2025-01-01T00:00:00Z',
      cluster: 'local/demo',
      type: 'Normal' as const,
      reason: 'MemberAdded',
      message: 'added demo-3 as a learner',
    };
    await appendLocalEvent(root, event);
    await appendLocalEvent(root, { ...event, reason: 'MemberPromoted' });
    const lines = readFileSync(localClusterPaths(root).events, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { reason: string }).reason)).toEqual([
      'MemberAdded',
      'MemberPromoted',
    ]);
  });
});
