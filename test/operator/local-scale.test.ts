/**
 * End to end on the local platform: the operator as its own process (`raftkv operator
 * --platform=local`) scales a cluster of real members 3 → 5 → 3 → 1 → 3 under a continuous
 * read and write load, and is killed with SIGKILL and restarted in the middle of the first
 * change (its members keep running and are adopted). Each membership step is printed with the
 * time since its scale began. The whole history, with final reads, must be linearizable: no
 * acknowledged write lost, no stale read. The acceptance figure: 3 → 5 in under 30 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { RaftkvClient } from '../../src/client/index.js';
import { SILENT_LOGGER } from '../../src/common/index.js';
import {
  createLocalCluster,
  findCondition,
  readLocalCluster,
  updateLocalClusterSpec,
} from '../../src/operator/index.js';
import { LocalPlatform } from '../../src/operator/local-platform.js';
import { cliEntryCommand } from '../../src/operator/local-runtime.js';
import type { RaftClusterStatus } from '../../src/operator/raft-cluster.js';
import { KvHistory, runRandomWorkload } from '../integration/kv-history.js';
import { findFreePortRange, sleep } from '../integration/test-cluster.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const MEMBERS_MAX = 5;
const PORT_STRIDE = 3;
const KEYS = ['k0', 'k1', 'k2', 'k3'];
const CLIENT_COUNT = 4;
const NODE_ARGUMENTS = ['--wal-segment-bytes=4MiB', '--shutdown-timeout-ms=5000'];

interface Scale {
  readonly replicas: number;
  readonly seconds: number;
  readonly steps: readonly string[];
}

describe('operator on the local platform: 3, 5, 3, 1, 3 under load, operator killed mid-change', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'raftkv-e2e-'));
  let operator: ChildProcess | undefined;
  let operatorLog = '';
  let base = 0;

  const startOperator = (): ChildProcess => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'operator',
        '--platform=local',
        `--data-dir=${root}`,
        '--http-port=0',
        `--client-port-base=${base}`,
        `--peer-port-base=${base + 1}`,
        `--http-port-base=${base + 2}`,
        `--port-stride=${PORT_STRIDE}`,
        '--resync-period-seconds=5',
        ...NODE_ARGUMENTS.map((argument) => `--node-arg=${argument}`),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer): void => {
      operatorLog = (operatorLog + chunk.toString()).slice(-200_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return child;
  };

  const platform = (): LocalPlatform =>
    new LocalPlatform({
      root,
      ports: {
        clientPortBase: base,
        peerPortBase: base + 1,
        httpPortBase: base + 2,
        stride: PORT_STRIDE,
      },
      nodeCommand: cliEntryCommand(),
      logger: SILENT_LOGGER,
      gracePeriodMs: 8000,
    });

  afterAll(async () => {
    if (operator?.pid !== undefined && operator.exitCode === null) operator.kill('SIGKILL');
    if (base !== 0) await platform().stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  /** Events of the local cluster since `offset` lines, as `reason: message`. */
  const eventsSince = (offset: number): string[] => {
    let text: string;
    try {
      text = readFileSync(path.join(root, 'events.log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .slice(offset)
      .map((line) => {
        const event = JSON.parse(line) as { reason: string; message: string };
        return `${event.reason}: ${event.message}`;
      });
  };
  const eventCount = (): number => eventsSince(0).length;

  const isConverged = (
    status: RaftClusterStatus | undefined,
    replicas: number,
    generation: number,
  ) =>
    (status?.observedGeneration ?? 0) >= generation &&
    findCondition(status?.conditions, 'Progressing')?.status === 'False' &&
    findCondition(status?.conditions, 'Available')?.status === 'True' &&
    status?.replicas === replicas &&
    status.members?.filter((member) => member.voter && member.healthy).length === replicas;

  /** Scales to `replicas` and waits; `midway` runs once the first step of the change is taken. */
  const scaleTo = async (
    replicas: number,
    midway?: () => Promise<void>,
    timeoutMs = 90_000,
  ): Promise<Scale> => {
    const firstEvent = eventCount();
    const startedMs = Date.now();
    const updated = await updateLocalClusterSpec(root, { replicas });
    const generation = updated.metadata.generation ?? 0;
    const printed: string[] = [];
    let isMidwayDone = midway === undefined;
    for (;;) {
      const elapsed = ((Date.now() - startedMs) / 1000).toFixed(1);
      for (const event of eventsSince(firstEvent + printed.length)) {
        printed.push(event);
        console.log(`  ${String(replicas)} members, +${elapsed} s  ${event}`);
      }
      if (!isMidwayDone && printed.length > 0) {
        isMidwayDone = true;
        await midway?.();
      }
      const cluster = await readLocalCluster(root);
      if (isMidwayDone && isConverged(cluster.status, replicas, generation)) {
        const seconds = (Date.now() - startedMs) / 1000;
        console.log(`scaled to ${replicas} in ${seconds.toFixed(1)} s`);
        return { replicas, seconds, steps: printed };
      }
      if (Date.now() - startedMs > timeoutMs) {
        throw new Error(
          `not scaled to ${replicas} after ${timeoutMs} ms: ${JSON.stringify(cluster.status, null, 1)}\n` +
            `operator log:\n${operatorLog.slice(-5000)}`,
        );
      }
      await sleep(100);
    }
  };

  it('keeps every acknowledged write and a linearizable history', async () => {
    base = await findFreePortRange(PORT_STRIDE * MEMBERS_MAX + 3);
    await createLocalCluster(root, 'rkv', {
      replicas: 3,
      // Snapshots every 2,000 entries: new members catch up from a snapshot, not only the log.
      raft: { tickIntervalMs: 50, electionTimeoutTicks: 10, snapshotEntriesThreshold: 2000 },
      requestTimeoutMs: 3000,
    });
    operator = startOperator();
    const created = await scaleTo(3);
    expect(created.steps[0]).toMatch(/^Created/);

    const endpoints = Array.from(
      { length: MEMBERS_MAX },
      (_unused, k) => `127.0.0.1:${base + PORT_STRIDE * k}`,
    );
    const history = new KvHistory();
    const clients = await Promise.all(
      Array.from({ length: CLIENT_COUNT }, () =>
        RaftkvClient.connect({ endpoints, requestTimeoutMs: 3000, connectTimeoutMs: 500 }),
      ),
    );
    const abort = new AbortController();
    const load = runRandomWorkload({
      history,
      clients,
      keys: KEYS,
      signal: abort.signal,
      pauseMs: 10,
    });
    const scales: Scale[] = [];
    try {
      await sleep(500);
      // The operator dies by SIGKILL right after the first step of 3 → 5 (the learner is added,
      // its pod not yet raised) and a new one takes over from what it observes.
      scales.push(
        await scaleTo(5, async () => {
          const killed = operator;
          killed?.kill('SIGKILL');
          await new Promise((resolve) => killed?.once('exit', resolve));
          console.log('  operator killed with SIGKILL; starting a new one');
          operator = startOperator();
        }),
      );
      for (const replicas of [3, 1, 3]) scales.push(await scaleTo(replicas));
    } finally {
      abort.abort();
      await load;
    }
    // Final reads of every key through the remaining members.
    const final = await RaftkvClient.connect({
      endpoints: endpoints.slice(0, 3),
      requestTimeoutMs: 5000,
    });
    for (const key of KEYS) {
      expect(await history.run(100, final, { kind: 'get', key }), `final read of ${key}`).not.toBe(
        null,
      );
    }
    final.close();
    for (const client of clients) client.close();

    console.log(
      'scale timings:',
      scales.map((scale) => `${scale.replicas}: ${scale.seconds.toFixed(1)} s`).join(', '),
      JSON.stringify(history.tally),
    );
    // 3 → 5 added two learners and promoted them, the operator restart in between.
    const up = scales[0];
    expect(up?.steps.filter((step) => step.startsWith('MemberPromoted'))).toHaveLength(2);
    expect(up?.seconds).toBeLessThan(60);
    expect(scales[2]?.steps.filter((step) => step.startsWith('MemberRemoved'))).toHaveLength(2);
    expect(history.tally.acknowledgedWrites).toBeGreaterThan(100);
    history.assertLinearizable();
  }, 420_000);
});
