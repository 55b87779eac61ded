/**
 * LocalPlatform with real raftkv nodes (dist/cli/main.js, built by the global setup): three pods
 * found a cluster and elect a leader, a second platform adopts them, a SIGKILLed pod is
 * restarted, lowering replicas stops the highest ordinal, stopAll leaves nothing running. One
 * cluster, steps in order. Every process is killed by PID in afterAll, failure or not.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { RaftkvClient } from '../../src/client/index.js';
import {
  createLocalCluster,
  localClusterPaths,
  readLocalCluster,
} from '../../src/operator/local-cluster-files.js';
import { LocalClaimInUseError, LocalPlatform } from '../../src/operator/local-platform.js';
import {
  isAlive,
  type PodRecord,
  type ProcessIdentity,
  readAllPodRecords,
  signalProcess,
} from '../../src/operator/local-pod-process.js';
import type { WorkloadObservation } from '../../src/operator/platform.js';
import type { RaftCluster } from '../../src/operator/raft-cluster.js';
import { findFreePortRange } from '../integration/test-cluster.js';

const REPOSITORY = path.resolve(import.meta.dirname, '../..');
const PORTS_PER_POD = 3;
const POD_SLOTS = 4;
const READY_TIMEOUT_MS = 45_000;

let root: string;
let cluster: RaftCluster;
let portBase: number;
const clients: RaftkvClient[] = [];
/** Every pod process seen, killed by PID (and start time) in afterAll. */
const seen = new Map<number, ProcessIdentity>();

function platform(): LocalPlatform {
  return new LocalPlatform({
    root,
    ports: {
      clientPortBase: portBase,
      peerPortBase: portBase + 1,
      httpPortBase: portBase + 2,
      stride: PORTS_PER_POD,
    },
    nodeCommand: {
      file: process.execPath,
      args: [path.join(REPOSITORY, 'dist', 'cli', 'main.js')],
    },
    extraArgs: ['--wal-segment-bytes=4MiB'],
    gracePeriodMs: 10_000,
  });
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'raftkv-local-nodes-'));
  portBase = await findFreePortRange(PORTS_PER_POD * POD_SLOTS);
  cluster = await createLocalCluster(root, 'rkv', {
    replicas: 3,
    raft: { tickIntervalMs: 50, electionTimeoutTicks: 10 },
    requestTimeoutMs: 5000,
  });
});

afterAll(async () => {
  for (const client of clients) client.close();
  if (root === undefined) return;
  await records();
  await Promise.all([...seen.values()].map((identity) => signalProcess(identity, 'SIGKILL')));
  rmSync(root, { recursive: true, force: true });
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    process.stderr.write(`pod logs at the failure:\n${logTail()}\n`);
  });
});

describe('LocalPlatform with raftkv nodes', () => {
  let first: Map<number, number>;

  it('starts three nodes that elect a leader and serve writes', async () => {
    const local = platform();
    await local.applyWorkload(cluster, {
      replicas: 3,
      initialReplicas: 3,
      initialClusterState: 'new',
      quorum: 2,
    });
    await observeUntil(local, 'three pods are Ready', (workload) => countReady(workload) === 3);
    const endpoints = [0, 1, 2].map((ordinal) => local.clientEndpoint(cluster, ordinal));
    const client = await connect(endpoints);
    const statuses = await Promise.all(endpoints.map((endpoint) => client.status(endpoint)));
    const leaders = new Set(statuses.map((status) => status.leader));
    expect(leaders.size).toBe(1);
    expect([...leaders][0]).not.toBe(0n);
    await client.put('greeting', 'hello');
    first = await pidsByOrdinal();
    expect(first.size).toBe(3);
  });

  it('is adopted by a new platform: same processes, no restarts', async () => {
    const workload = await platform().observe(cluster);
    expect(await pidsByOrdinal()).toEqual(first);
    expect(workload.pods.map((pod) => [pod.name, pod.isRunning, pod.restartCount])).toEqual([
      ['rkv-0', true, 0],
      ['rkv-1', true, 0],
      ['rkv-2', true, 0],
    ]);
    expect(workload).toMatchObject({ replicas: 3, initialReplicas: 3, isOwned: true });
    expect(workload.claimOrdinals).toEqual([0, 1, 2]);
  });

  it('restarts a pod killed with SIGKILL, with restartCount 1', async () => {
    const local = platform();
    const victim = (await records()).find((record) => record.ordinal === 1);
    if (victim === undefined) throw new Error('no pod rkv-1');
    expect(await signalProcess(victim, 'SIGKILL')).toBe(true);
    await waitUntilGone(victim);
    const workload = await observeUntil(
      local,
      'rkv-1 is Ready again',
      (observed) => countReady(observed) === 3,
    );
    expect(workload.pods.map((pod) => pod.restartCount)).toEqual([0, 1, 0]);
    const after = await pidsByOrdinal();
    expect(after.get(1)).not.toBe(first.get(1));
    expect(after.get(0)).toBe(first.get(0));
    const client = await connect([local.clientEndpoint(cluster, 1)]);
    const { kvs } = await client.get('greeting');
    expect(Buffer.from(kvs[0]?.value ?? new Uint8Array()).toString()).toBe('hello');
  });

  it('stops the highest ordinal when replicas go down; its claim goes only after', async () => {
    const local = platform();
    const before = await pidsByOrdinal();
    const stopped = (await records()).find((record) => record.ordinal === 2);
    if (stopped === undefined) throw new Error('no pod rkv-2');
    await local.applyWorkload(cluster, {
      replicas: 2,
      initialReplicas: 3,
      initialClusterState: 'new',
      quorum: 2,
    });
    await expect(local.deleteClaim(cluster, 2)).rejects.toBeInstanceOf(LocalClaimInUseError);
    const workload = await observeUntil(local, 'rkv-2 is gone', (observed) =>
      observed.pods.every((pod) => pod.ordinal !== 2),
    );
    expect(await isAlive(stopped)).toBe(false);
    expect(workload.pods.map((pod) => [pod.name, pod.isRunning])).toEqual([
      ['rkv-0', true],
      ['rkv-1', true],
    ]);
    expect(await pidsByOrdinal()).toEqual(new Map([...before].filter(([ordinal]) => ordinal < 2)));
    await expect(local.deleteClaim(cluster, 1)).rejects.toBeInstanceOf(LocalClaimInUseError);
    await local.deleteClaim(cluster, 2);
    expect(existsSync(path.join(root, 'data', 'rkv-2'))).toBe(false);
    expect((await local.observe(cluster)).claimOrdinals).toEqual([0, 1]);
    // The two remaining voters of three still form a quorum.
    const client = await connect([local.clientEndpoint(cluster, 0)]);
    await client.put('after-scale-down', 'yes');
  });

  it('writes status that readLocalCluster returns', async () => {
    await platform().writeStatus(cluster, { observedGeneration: 1, replicas: 3, leader: 'rkv-0' });
    expect((await readLocalCluster(root)).status).toEqual({
      observedGeneration: 1,
      replicas: 3,
      leader: 'rkv-0',
    });
  });

  it('stopAll stops every pod and leaves no process behind', async () => {
    const running = await records();
    expect(running).toHaveLength(2);
    await platform().stopAll();
    for (const record of running) expect(await isAlive(record)).toBe(false);
    expect(await readAllPodRecords(localClusterPaths(root))).toEqual([]);
  });
});

async function records(): Promise<PodRecord[]> {
  const all = await readAllPodRecords(localClusterPaths(root));
  for (const record of all) if (record.startTime !== null) seen.set(record.pid, record);
  return all;
}

async function pidsByOrdinal(): Promise<Map<number, number>> {
  return new Map((await records()).map((record) => [record.ordinal, record.pid]));
}

function countReady(workload: WorkloadObservation): number {
  return workload.pods.filter((pod) => pod.isReady && !pod.isTerminating).length;
}

async function connect(endpoints: readonly string[]): Promise<RaftkvClient> {
  const client = await RaftkvClient.connect({ endpoints, requestTimeoutMs: 5000 });
  clients.push(client);
  return client;
}

async function observeUntil(
  local: LocalPlatform,
  description: string,
  isDone: (workload: WorkloadObservation) => boolean,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<WorkloadObservation> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const workload = await local.observe(cluster);
    await records();
    if (isDone(workload)) return workload;
    if (Date.now() > deadlineMs) {
      throw new Error(`timed out waiting until ${description}: ${JSON.stringify(workload)}`);
    }
    await sleep(200);
  }
}

async function waitUntilGone(identity: ProcessIdentity, timeoutMs = 10_000): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (await isAlive(identity)) {
    if (Date.now() > deadlineMs) throw new Error(`process ${identity.pid} still runs`);
    await sleep(50);
  }
}

/** The last lines of every pod's log file. */
function logTail(lines = 40): string {
  const logs = path.join(root, 'logs');
  if (!existsSync(logs)) return '(no logs)';
  return readdirSync(logs)
    .map((file) => {
      const text = readFileSync(path.join(logs, file), 'utf8').trimEnd().split('\n');
      return `--- ${file}\n${text.slice(-lines).join('\n')}`;
    })
    .join('\n');
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
