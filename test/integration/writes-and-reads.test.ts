/**
 * Writes through every member (followers forward them to the leader) and reads on every member:
 * linearizable reads see every acknowledged write at once, serializable reads are answered from
 * the member's own state, even without a quorum. A 5-member cluster elects and serves too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RaftkvClient } from '../../src/client/index.js';
import {
  printLogsOnFailure,
  startTestCluster,
  type TestCluster,
  waitUntil,
} from './test-cluster.js';

const decoder = new TextDecoder();

async function valueOf(
  client: RaftkvClient,
  key: string,
  serializable = false,
): Promise<string | null> {
  const { kvs } = await client.get(key, { serializable });
  const [found] = kvs;
  return found === undefined ? null : decoder.decode(found.value);
}

describe('writes and reads on a 3-member cluster', () => {
  let cluster: TestCluster;
  /** clients[k] talks to member k only. */
  const clients: RaftkvClient[] = [];
  printLogsOnFailure(() => cluster);

  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
    for (const ordinal of [0, 1, 2]) clients.push(await cluster.client([ordinal]));
  });
  afterAll(async () => {
    // A hung member ignores SIGTERM: do not wait 10 s for it.
    await cluster?.killUnresponsive();
    await cluster?.destroy();
  });

  it('accepts writes on every member and every member reads them linearizably', async () => {
    const leader = await cluster.waitForLeader();
    for (let round = 0; round < 3; round++) {
      for (const [writer, client] of clients.entries()) {
        const key = `from-${writer}`;
        const value = `round-${round}-by-${writer}`;
        const put = await client.put(key, value);
        expect(put.header.memberId, 'the member asked answers').toBe(
          BigInt(await cluster.memberId(writer)),
        );
        // Linearizable: every member, leader or not, sees the write as soon as it is acknowledged.
        for (const [reader, readerClient] of clients.entries()) {
          expect(await valueOf(readerClient, key), `${key} read on raftkv-${reader}`).toBe(value);
        }
      }
    }
    const statuses = await Promise.all([0, 1, 2].map((ordinal) => cluster.status(ordinal)));
    expect(new Set(statuses.map((status) => status.leader)).size, cluster.logTail()).toBe(1);
    expect(statuses[leader]?.leader).toBe(statuses[leader]?.header?.memberId);
  });

  it('deletes and transactions through a follower', async () => {
    const leader = await cluster.waitForLeader();
    const follower = [0, 1, 2].find((ordinal) => ordinal !== leader) ?? 0;
    const client = clients[follower] as RaftkvClient;
    await client.put('txn-key', 'one');
    const swapped = await client.compareAndSwap('txn-key', 'one', 'two');
    expect(swapped.succeeded).toBe(true);
    const refused = await client.compareAndSwap('txn-key', 'one', 'three');
    expect(refused.succeeded).toBe(false);
    for (const readerClient of clients) expect(await valueOf(readerClient, 'txn-key')).toBe('two');
    const deleted = await client.delete('txn-key');
    expect(deleted.deleted).toBe(1);
    for (const readerClient of clients) expect(await valueOf(readerClient, 'txn-key')).toBeNull();
  });

  it('answers serializable reads from each member, catching up to the latest write', async () => {
    await clients[0]?.put('serial', 'v1');
    for (const [reader, client] of clients.entries()) {
      // A serializable read may be stale, but each member applies the write within moments.
      await waitUntil(
        `raftkv-${reader} serves serial=v1 serializably`,
        async () => ((await valueOf(client, 'serial', true)) === 'v1' ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 50, cluster },
      );
      const { header } = await client.get('serial', { serializable: true });
      expect(header.memberId).toBe(BigInt(await cluster.memberId(reader)));
    }
  });

  // Regression: a linearizable read on a member that knew no leader used to hang it for good
  // (the loop re-queued the read and its do-while pass spun without awaiting).
  it('serves serializable reads without a quorum, refuses linearizable ones, then recovers', async () => {
    await clients[0]?.put('quorum-test', 'before');
    await cluster.waitForCaughtUp(2);
    const paused = [0, 1];
    try {
      for (const ordinal of paused) cluster.local.signal(ordinal, 'SIGSTOP');
      const isolated = await cluster.client([2], 1500);
      expect(await valueOf(isolated, 'quorum-test', true)).toBe('before');
      await waitUntil(
        'raftkv-2 knows no leader',
        async () => ((await cluster.status(2)).leader === 0 ? true : undefined),
        { timeoutMs: 10_000, cluster },
      );
      await expect(valueOf(isolated, 'quorum-test')).rejects.toMatchObject({
        code: expect.stringMatching(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/) as unknown,
      });
    } finally {
      for (const ordinal of paused) cluster.local.signal(ordinal, 'SIGCONT');
    }
    await waitUntil(
      'raftkv-2 answers again and serves a linearizable read',
      async () => (await valueOf(clients[2] as RaftkvClient, 'quorum-test')) ?? undefined,
      { timeoutMs: 10_000, cluster },
    );
  });
});

describe('a 5-member cluster', () => {
  let cluster: TestCluster;
  printLogsOnFailure(() => cluster);
  beforeAll(async () => {
    cluster = await startTestCluster({ size: 5 });
  });
  afterAll(async () => {
    // A hung member ignores SIGTERM: do not wait 10 s for it.
    await cluster?.killUnresponsive();
    await cluster?.destroy();
  });

  it('elects one leader and serves writes and reads on every member', async () => {
    const leader = await cluster.waitForLeader(30_000);
    const statuses = await Promise.all([0, 1, 2, 3, 4].map((ordinal) => cluster.status(ordinal)));
    const leaderId = statuses[leader]?.header?.memberId;
    expect(statuses.every((status) => status.leader === leaderId)).toBe(true);
    const clients = await Promise.all([0, 1, 2, 3, 4].map((ordinal) => cluster.client([ordinal])));
    for (const [writer, client] of clients.entries())
      await client.put(`five-${writer}`, `${writer}`);
    for (const [reader, client] of clients.entries()) {
      const { kvs } = await client.get('five-', { prefix: true });
      expect(
        kvs.map((kv) => decoder.decode(kv.value)),
        `keys read on raftkv-${reader}`,
      ).toEqual(['0', '1', '2', '3', '4']);
    }
    const members = await clients[0]?.memberList();
    expect(members?.members).toHaveLength(5);
    expect(members?.members.every((member) => !member.isLearner)).toBe(true);
  });
});
