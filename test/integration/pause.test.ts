/**
 * SIGSTOP of the leader for longer than an election timeout: the two others elect a new leader
 * and keep serving; after SIGCONT the old leader steps down (it follows the new leader) and
 * catches up with everything written meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RaftkvClient } from '../../src/client/index.js';
import {
  printLogsOnFailure,
  sleep,
  startTestCluster,
  type TestCluster,
  waitUntil,
} from './test-cluster.js';

const decoder = new TextDecoder();

async function valueOf(client: RaftkvClient, key: string): Promise<string | null> {
  const [found] = (await client.get(key)).kvs;
  return found === undefined ? null : decoder.decode(found.value);
}

describe('a paused leader', () => {
  let cluster: TestCluster;
  let paused: number | undefined;
  printLogsOnFailure(() => cluster);
  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
  });
  afterAll(async () => {
    if (paused !== undefined) cluster?.local.signal(paused, 'SIGCONT');
    await cluster?.destroy();
  });

  it('is replaced while stopped, then steps down and catches up', async () => {
    const oldLeader = await cluster.waitForLeader();
    const oldLeaderId = await cluster.memberId(oldLeader);
    const oldTerm = (await cluster.status(oldLeader)).raftTerm;
    const others = [0, 1, 2].filter((ordinal) => ordinal !== oldLeader);
    const client = await cluster.client(others, 5000);
    await client.put('before-pause', 'v0');

    cluster.local.signal(oldLeader, 'SIGSTOP');
    paused = oldLeader;
    const pausedAt = performance.now();
    // Election timeout: 10 ticks of 50 ms, randomized up to twice that.
    const newLeader = await cluster.waitForLeader(15_000, [oldLeader]);
    expect(newLeader).not.toBe(oldLeader);
    const newLeaderId = await cluster.memberId(newLeader);
    const newTerm = (await cluster.status(newLeader)).raftTerm;
    expect(newTerm).toBeGreaterThan(oldTerm);
    for (let index = 0; index < 20; index++) await client.put(`during-pause-${index}`, `${index}`);
    expect(await valueOf(client, 'during-pause-19')).toBe('19');
    // Keep it stopped for a while longer than an election timeout in total.
    await sleep(Math.max(0, 1500 - (performance.now() - pausedAt)));

    cluster.local.signal(oldLeader, 'SIGCONT');
    paused = undefined;
    await waitUntil(
      `the old leader raftkv-${oldLeader} follows the new leader`,
      async () => {
        const status = await cluster.status(oldLeader);
        return status.leader === newLeaderId && status.raftTerm >= newTerm ? status : undefined;
      },
      { timeoutMs: 15_000, cluster },
    );
    const leaderNow = await cluster.waitForLeader();
    expect(leaderNow, 'nothing disrupted the new leader').toBe(newLeader);
    expect(await cluster.memberId(leaderNow)).not.toBe(oldLeaderId);
    await cluster.waitForCaughtUp(oldLeader);
    const oldLeaderClient = await cluster.client([oldLeader]);
    expect(await valueOf(oldLeaderClient, 'during-pause-19')).toBe('19');
    const serializable = await oldLeaderClient.get('during-pause-', {
      prefix: true,
      serializable: true,
    });
    expect(serializable.count).toBe(20);
  });
});
