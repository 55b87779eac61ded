/**
 * LocalPlatform with stand-in node processes (a small script that answers /readyz, records its
 * arguments, and crashes, exits on SIGTERM or ignores it as told): the StatefulSet and kubelet
 * behaviour, fast. test/operator/local-platform.test.ts runs real raftkv nodes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  createLocalCluster,
  localClusterPaths,
  readLocalStatefulSet,
  writeLocalStatefulSet,
} from './local-cluster-files.js';
import {
  LocalClaimInUseError,
  LocalPlatform,
  type LocalPlatformOptions,
  LocalPortRangeError,
  LocalWorkloadNotOwnedError,
} from './local-platform.js';
import {
  isAlive,
  type PodRecord,
  type ProcessIdentity,
  readAllPodRecords,
  signalProcess,
  spawnDetached,
  writePodRecord,
} from './local-pod-process.js';
import type { PodObservation, WorkloadObservation } from './platform.js';
import type { RaftCluster } from './raft-cluster.js';

/** The stand-in node: `node fake-node.mjs MODE serve --flags...`. */
const FAKE_NODE = `
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const [mode] = process.argv.slice(2);
const flag = (name) => process.argv.find((arg) => arg.startsWith('--' + name + '='))?.split('=')[1];
writeFileSync(flag('data-dir') + '/argv.json', JSON.stringify(process.argv.slice(3)));
if (mode === 'crash') process.exit(3);
createServer((request, response) => {
  response.statusCode = request.url === '/readyz' ? 200 : 404;
  response.end();
}).listen(Number(flag('http-port')), '127.0.0.1');
process.on('SIGTERM', () => {
  if (mode !== 'stubborn') process.exit(0);
});
`;

const PORTS_PER_POD = 3;
const POD_SLOTS = 4;

let root: string;
let cluster: RaftCluster;
let portBase: number;
/** Every process a test saw, killed by PID (and start time) after it. */
const seen = new Map<number, ProcessIdentity>();

beforeEach(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'raftkv-local-platform-'));
  writeFileSync(path.join(root, 'fake-node.mjs'), FAKE_NODE);
  cluster = await createLocalCluster(root, 'demo', { replicas: 3 });
  portBase = await findFreePortRange(PORTS_PER_POD * POD_SLOTS);
});

afterEach(async () => {
  for (const record of await readAllPodRecords(localClusterPaths(root))) remember(record);
  await Promise.all([...seen.values()].map((identity) => signalProcess(identity, 'SIGKILL')));
  seen.clear();
  rmSync(root, { recursive: true, force: true });
});

function platform(mode: 'run' | 'crash' | 'stubborn', options: Partial<LocalPlatformOptions> = {}) {
  return new LocalPlatform({
    root,
    ports: {
      clientPortBase: portBase,
      peerPortBase: portBase + 1,
      httpPortBase: portBase + 2,
      stride: PORTS_PER_POD,
    },
    nodeCommand: { file: process.execPath, args: [path.join(root, 'fake-node.mjs'), mode] },
    extraArgs: ['--wal-segment-bytes=4MiB'],
    gracePeriodMs: 2000,
    ...options,
  });
}

function remember(identity: ProcessIdentity): void {
  if (identity.startTime !== null) seen.set(identity.pid, identity);
}

async function records(): Promise<PodRecord[]> {
  const all = await readAllPodRecords(localClusterPaths(root));
  all.forEach(remember);
  return all;
}

async function pidsByOrdinal(): Promise<Map<number, number>> {
  return new Map((await records()).map((record) => [record.ordinal, record.pid]));
}

function pod(workload: WorkloadObservation, ordinal: number): PodObservation | undefined {
  return workload.pods.find((candidate) => candidate.ordinal === ordinal);
}

async function observeUntil(
  target: LocalPlatform,
  description: string,
  isDone: (workload: WorkloadObservation) => boolean,
  timeoutMs = 10_000,
): Promise<WorkloadObservation> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const workload = await target.observe(cluster);
    await records();
    if (isDone(workload)) return workload;
    if (Date.now() > deadlineMs) {
      throw new Error(`timed out waiting until ${description}: ${JSON.stringify(workload)}`);
    }
    await sleep(100);
  }
}

const allReady = (count: number) => (workload: WorkloadObservation) =>
  workload.pods.length === count && workload.pods.every((candidate) => candidate.isReady);

describe('LocalPlatform (stand-in nodes)', () => {
  it('starts ordinals [0, replicas) with the serve flags and observes them Ready', async () => {
    const local = platform('run');
    await local.applyWorkload(cluster, {
      replicas: 2,
      initialReplicas: 2,
      initialClusterState: 'new',
      quorum: 2,
    });
    expect(await readLocalStatefulSet(root)).toEqual({
      replicas: 2,
      initialReplicas: 2,
      initialClusterState: 'new',
      ownerUid: cluster.metadata.uid,
    });
    const workload = await observeUntil(local, 'both pods are Ready', allReady(2));
    expect(workload).toMatchObject({ replicas: 2, initialReplicas: 2, isOwned: true });
    expect(workload.claimOrdinals).toEqual([0, 1]);
    expect(
      workload.pods.map(({ name, isRunning, isTerminating, restartCount }) => ({
        name,
        isRunning,
        isTerminating,
        restartCount,
      })),
    ).toEqual([
      { name: 'demo-0', isRunning: true, isTerminating: false, restartCount: 0 },
      { name: 'demo-1', isRunning: true, isTerminating: false, restartCount: 0 },
    ]);
    const argv = JSON.parse(
      readFileSync(path.join(root, 'data', 'demo-1', 'argv.json'), 'utf8'),
    ) as string[];
    expect(argv).toEqual([
      'serve',
      '--hostname=demo-1',
      '--name=demo-1',
      `--data-dir=${path.join(root, 'data', 'demo-1')}`,
      '--listen-host=127.0.0.1',
      `--client-port=${portBase + 3}`,
      `--peer-port=${portBase + 4}`,
      `--http-port=${portBase + 5}`,
      `--peer-address-template=127.0.0.1:{${portBase + 1}+3*ordinal}`,
      `--client-address-template=127.0.0.1:{${portBase}+3*ordinal}`,
      '--initial-cluster-size=2',
      `--initial-cluster-token=local/demo/${cluster.metadata.uid}`,
      '--initial-cluster-state=new',
      '--tick-interval-ms=100',
      '--election-timeout-ticks=10',
      '--heartbeat-interval-ticks=1',
      '--request-timeout-ms=5000',
      '--snapshot-entries-threshold=10000',
      '--log-level=info',
      '--log-format=json',
      '--wal-segment-bytes=4MiB',
    ]);
    expect(local.clientEndpoint(cluster, 1)).toBe(`127.0.0.1:${portBase + 3}`);
    expect(local.peerUrl(cluster, 1)).toBe(`http://127.0.0.1:${portBase + 4}`);
    expect(existsSync(path.join(root, 'logs', 'demo-0.log'))).toBe(true);
  });

  it('is adopted by a new platform on the same directory without restarts', async () => {
    await platform('run').applyWorkload(cluster, {
      replicas: 2,
      initialReplicas: 2,
      initialClusterState: 'new',
      quorum: 2,
    });
    const before = await pidsByOrdinal();
    const successor = platform('run');
    const workload = await observeUntil(successor, 'both pods are Ready', allReady(2));
    expect(await pidsByOrdinal()).toEqual(before);
    expect(workload.pods.map((candidate) => candidate.restartCount)).toEqual([0, 0]);
  });

  it('restarts a crashed pod at once, then backs off as the crashes repeat', async () => {
    const backoffMs = 600;
    const local = platform('crash', { crashBackoffBaseMs: backoffMs });
    await local.applyWorkload(cluster, {
      replicas: 1,
      initialReplicas: 1,
      initialClusterState: 'new',
      quorum: 1,
    });
    const first = (await records())[0];
    if (first === undefined) throw new Error('no pod record');
    await waitUntilGone(first);
    // First crash: restarted by this observe, without delay.
    await local.observe(cluster);
    const second = (await records())[0];
    expect(second?.restartCount).toBe(1);
    expect(second?.pid).not.toBe(first.pid);
    if (second === undefined) throw new Error('no pod record');
    await waitUntilGone(second);
    // Second crash in a row: a back-off of one base period before the next start.
    const crashedAtMs = Date.now();
    const backingOff = await local.observe(cluster);
    expect(pod(backingOff, 0)).toMatchObject({ isRunning: false, restartCount: 1 });
    const restarted = await observeUntil(
      local,
      'the pod restarts again',
      (workload) => (pod(workload, 0)?.restartCount ?? 0) >= 2,
    );
    expect(Date.now() - crashedAtMs).toBeGreaterThanOrEqual(backoffMs - 50);
    expect(pod(restarted, 0)?.restartCount).toBe(2);
    const events = readFileSync(localClusterPaths(root).events, 'utf8');
    expect(events).toContain('"reason":"PodExited"');
    expect(events).toContain('"reason":"BackOff"');
  });

  it('stops the highest ordinal when replicas go down, and deleteClaim waits for it', async () => {
    const local = platform('run');
    await local.applyWorkload(cluster, {
      replicas: 3,
      initialReplicas: 3,
      initialClusterState: 'new',
      quorum: 2,
    });
    await observeUntil(local, 'three pods are Ready', allReady(3));
    const before = await pidsByOrdinal();
    await local.applyWorkload(cluster, {
      replicas: 2,
      initialReplicas: 3,
      initialClusterState: 'new',
      quorum: 2,
    });
    const stopping = await local.observe(cluster);
    expect(pod(stopping, 2)?.isTerminating).toBe(true);
    await expect(local.deleteClaim(cluster, 0)).rejects.toBeInstanceOf(LocalClaimInUseError);
    const after = await observeUntil(local, 'pod 2 is gone', (workload) => !pod(workload, 2));
    expect(after.replicas).toBe(2);
    expect(after.claimOrdinals).toEqual([0, 1, 2]);
    expect(await pidsByOrdinal()).toEqual(new Map([...before].filter(([ordinal]) => ordinal < 2)));
    await local.deleteClaim(cluster, 2);
    await local.deleteClaim(cluster, 2); // already gone: fine
    expect((await local.observe(cluster)).claimOrdinals).toEqual([0, 1]);
  });

  it('SIGKILLs a pod that ignores SIGTERM after the grace period; the pod comes back', async () => {
    const gracePeriodMs = 500;
    const local = platform('stubborn', { gracePeriodMs });
    await local.applyWorkload(cluster, {
      replicas: 1,
      initialReplicas: 1,
      initialClusterState: 'new',
      quorum: 1,
    });
    await observeUntil(local, 'the pod is Ready', allReady(1));
    const [first] = await records();
    const deletedAtMs = Date.now();
    await local.deletePod(cluster, 0);
    expect(pod(await local.observe(cluster), 0)?.isTerminating).toBe(true);
    if (first === undefined) throw new Error('no pod record');
    await waitUntilGone(first);
    expect(Date.now() - deletedAtMs).toBeGreaterThanOrEqual(gracePeriodMs - 50);
    // A deleted pod is a new pod: restartCount starts again at 0.
    const back = await observeUntil(
      local,
      'a new pod is Ready',
      (workload) => allReady(1)(workload) && (pod(workload, 0)?.isTerminating ?? true) === false,
    );
    expect(pod(back, 0)?.restartCount).toBe(0);
    expect((await records())[0]?.pid).not.toBe(first.pid);
  });

  it('finishes a stop that a killed operator began', async () => {
    await platform('stubborn').applyWorkload(cluster, {
      replicas: 1,
      initialReplicas: 1,
      initialClusterState: 'new',
      quorum: 1,
    });
    const [running] = await records();
    if (running === undefined) throw new Error('no pod record');
    // What an operator leaves behind if it dies right after marking the pod terminating.
    await writePodRecord(localClusterPaths(root), { ...running, killAtMs: Date.now() });
    await writeLocalStatefulSet(root, {
      replicas: 0,
      initialReplicas: 1,
      initialClusterState: 'new',
      ownerUid: cluster.metadata.uid,
    });
    const successor = platform('stubborn', { gracePeriodMs: 60_000 });
    await successor.observe(cluster);
    await waitUntilGone(running);
    await observeUntil(successor, 'the pod is gone', (workload) => workload.pods.length === 0);
  });

  it('adopts a pod process whose state file was never written', async () => {
    const local = platform('run');
    await local.applyWorkload(cluster, {
      replicas: 1,
      initialReplicas: 1,
      initialClusterState: 'new',
      quorum: 1,
    });
    const [tracked] = await records();
    if (tracked === undefined) throw new Error('no pod record');
    rmSync(path.join(root, 'pods', 'demo-0.json'));
    const successor = platform('run');
    const workload = await observeUntil(successor, 'the pod is Ready', allReady(1));
    expect((await records())[0]?.pid).toBe(tracked.pid);
    expect(pod(workload, 0)?.restartCount).toBe(0);
  });

  it('resets an ordinal: stops the pod, empties its storage, starts it again', async () => {
    const local = platform('run');
    await local.applyWorkload(cluster, {
      replicas: 2,
      initialReplicas: 2,
      initialClusterState: 'new',
      quorum: 2,
    });
    await observeUntil(local, 'both pods are Ready', allReady(2));
    const before = await pidsByOrdinal();
    const stale = path.join(root, 'data', 'demo-1', 'stale-member');
    writeFileSync(stale, 'x');
    await local.resetOrdinal(cluster, 1);
    await observeUntil(
      local,
      'pod 1 runs again',
      (workload) => allReady(2)(workload) && pod(workload, 1)?.isTerminating === false,
    );
    const after = await pidsByOrdinal();
    expect(after.get(0)).toBe(before.get(0));
    expect(after.get(1)).not.toBe(before.get(1));
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(path.join(root, 'data', 'demo-1'))).toBe(true);
    // An ordinal without a pod: the directory goes at once.
    writeFileSync(path.join(root, 'data', 'stale.txt'), '');
    await local.applyWorkload(cluster, {
      replicas: 1,
      initialReplicas: 2,
      initialClusterState: 'new',
      quorum: 1,
    });
    await observeUntil(local, 'pod 1 is gone', (workload) => !pod(workload, 1));
    await local.resetOrdinal(cluster, 1);
    expect((await local.observe(cluster)).claimOrdinals).toEqual([0]);
  });

  it('refuses a StatefulSet of another cluster and ports beyond 65535', async () => {
    await writeLocalStatefulSet(root, {
      replicas: 1,
      initialReplicas: 1,
      initialClusterState: 'new',
      ownerUid: 'someone',
    });
    const local = platform('run');
    await expect(
      local.applyWorkload(cluster, {
        replicas: 1,
        initialReplicas: 1,
        initialClusterState: 'new',
        quorum: 1,
      }),
    ).rejects.toBeInstanceOf(LocalWorkloadNotOwnedError);
    const workload = await local.observe(cluster);
    expect(workload).toMatchObject({ isOwned: false, pods: [], replicas: 1 });
    expect(() => local.clientEndpoint(cluster, 30_000)).toThrow(LocalPortRangeError);
  });

  it('stopAll stops every pod and starts none afterwards', async () => {
    const local = platform('run');
    await local.applyWorkload(cluster, {
      replicas: 3,
      initialReplicas: 3,
      initialClusterState: 'new',
      quorum: 2,
    });
    const started = await records();
    expect(started).toHaveLength(3);
    await local.stopAll();
    for (const record of started) expect(await isAlive(record)).toBe(false);
    expect(await records()).toEqual([]);
    expect((await local.observe(cluster)).pods).toEqual([]);
  });
});

describe('spawnDetached', () => {
  it('reports a command that cannot start', async () => {
    await expect(
      spawnDetached('demo-0', {
        file: path.join(root, 'no-such-program'),
        args: [],
        cwd: root,
        env: {},
        logFile: path.join(root, 'logs', 'demo-0.log'),
      }),
    ).rejects.toMatchObject({ code: 'LOCAL_POD_START_FAILED' });
  });
});

async function waitUntilGone(identity: ProcessIdentity, timeoutMs = 10_000): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (await isAlive(identity)) {
    if (Date.now() > deadlineMs) throw new Error(`process ${identity.pid} still runs`);
    await sleep(50);
  }
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with `count` free ports after it. */
async function findFreePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let isFree = true;
    for (let port = base; port < base + count && isFree; port++) isFree = await isPortFree(port);
    if (isFree) return base;
  }
  throw new Error('no free port range found');
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
