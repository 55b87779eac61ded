import { afterEach, describe, expect, it } from 'vitest';

import { ServerError } from '../../src/server/server-error.js';
import { LoopCluster } from './loop-cluster.js';

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);
const decoder = new TextDecoder();

describe('RaftLoop', () => {
  let cluster: LoopCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('elects a leader and applies writes proposed on any member, answering each proposer', async () => {
    cluster = new LoopCluster([1, 2, 3]);
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const followerId = [1, 2, 3].find((id) => id !== leaderId) ?? 1;
    const onLeader = await cluster.write(leaderId, { put: { key: bytes('a'), value: bytes('1') } });
    const onFollower = await cluster.write(followerId, {
      put: { key: bytes('b'), value: bytes('2') },
    });
    expect(onLeader.kind).toBe('applied');
    expect(onFollower.kind).toBe('applied');
    if (onFollower.kind !== 'applied' || onFollower.response === undefined) throw new Error();
    expect('put' in onFollower.response && onFollower.response.put.revision).toBe(3);
    // Every member converges on the same state.
    await expect.poll(() => cluster?.member(3).state.kv.revision(), { timeout: 2000 }).toBe(3);
  });

  it('batches many concurrent proposals into few persists (group commit)', async () => {
    cluster = new LoopCluster([1, 2, 3]);
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const leader = cluster.member(leaderId);
    const before = leader.persistCount.value;
    const writes = Array.from({ length: 500 }, (_, index) =>
      cluster!.write(leaderId, { put: { key: bytes(`k${index}`), value: bytes('v') } }),
    );
    const outcomes = await Promise.all(writes);
    expect(outcomes.every((outcome) => outcome.kind === 'applied')).toBe(true);
    const persists = leader.persistCount.value - before;
    expect(persists).toBeLessThan(100);
  });

  it('serves linearizable reads on a follower after its state caught up', async () => {
    cluster = new LoopCluster([1, 2, 3]);
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const followerId = [1, 2, 3].find((id) => id !== leaderId) ?? 1;
    await cluster.write(leaderId, { put: { key: bytes('x'), value: bytes('42') } });
    await cluster.member(followerId).loop.readBarrier();
    const read = cluster.member(followerId).state.kv.range({ key: bytes('x') });
    expect(decoder.decode(read.kvs[0]?.value)).toBe('42');
  });

  it('serves reads that two followers forward at the same moment (read contexts are unique)', async () => {
    // Both followers start their first read round together: with per-member counters as
    // contexts they collided at the leader, which answered only one of them.
    cluster = new LoopCluster([1, 2, 3], { requestTimeoutMs: 3000 });
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    await cluster.write(leaderId, { put: { key: bytes('x'), value: bytes('1') } });
    const followers = [1, 2, 3].filter((id) => id !== leaderId);
    const started = Date.now();
    await Promise.all(followers.map((id) => cluster!.member(id).loop.readBarrier()));
    // Well before a retry (5 ticks of 5 ms is 25 ms, but under load give it room): the point
    // is that neither read waited for its deadline.
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('asks the leader again when a forwarded read or its answer is lost', async () => {
    cluster = new LoopCluster([1, 2, 3], { requestTimeoutMs: 3000 });
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const followerId = [1, 2, 3].find((id) => id !== leaderId) ?? 1;
    let lostCount = 0;
    cluster.isLost = (message) => {
      if (message.kind !== 'readIndexRequest' || lostCount >= 2) return false;
      lostCount++;
      return true;
    };
    await cluster.member(followerId).loop.readBarrier();
    expect(lostCount).toBe(2);
  });

  it('holds proposals while there is no leader and fails them with request timed out', async () => {
    cluster = new LoopCluster([1, 2, 3], { requestTimeoutMs: 300 });
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const followerId = [1, 2, 3].find((id) => id !== leaderId) ?? 1;
    // Cut the follower off: it loses the leader (after an election timeout) and cannot win.
    cluster.member(followerId).isDisconnected = true;
    const outcome = cluster.write(followerId, { put: { key: bytes('k'), value: bytes('v') } });
    await expect(outcome).rejects.toBeInstanceOf(ServerError);
    await expect(outcome).rejects.toThrow('etcdserver: request timed out');
  });

  it('times out a read while there is no leader and keeps running (no busy loop)', async () => {
    cluster = new LoopCluster([1, 2, 3], { requestTimeoutMs: 300 });
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const followerId = [1, 2, 3].find((id) => id !== leaderId) ?? 1;
    const follower = cluster.member(followerId);
    follower.isDisconnected = true;
    await expect.poll(() => follower.loop.status().leaderId, { timeout: 3000 }).toBe(0);
    // A spinning loop would starve the timers: the read could never time out.
    await expect(follower.loop.readBarrier()).rejects.toThrow('etcdserver: request timed out');
    // Still alive: once reconnected it follows the leader again and serves reads.
    follower.isDisconnected = false;
    await expect.poll(() => follower.loop.status().leaderId, { timeout: 3000 }).not.toBe(0);
    await follower.loop.readBarrier();
  });

  it('transfers leadership on request', async () => {
    cluster = new LoopCluster([1, 2, 3]);
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const targetId = [1, 2, 3].find((id) => id !== leaderId) ?? 1;
    await cluster.member(leaderId).loop.transferLeadership(targetId);
    await expect
      .poll(() => cluster?.member(targetId).loop.status().role, { timeout: 3000 })
      .toBe('leader');
  });

  it('refuses a configuration change on a follower with not leader', async () => {
    cluster = new LoopCluster([1, 2, 3]);
    cluster.start();
    const leaderId = await cluster.waitForLeader();
    const followerId = [1, 2, 3].find((id) => id !== leaderId) ?? 1;
    await expect(
      cluster
        .member(followerId)
        .loop.proposeConfigurationChange({ changes: [{ kind: 'addLearner', nodeId: 9 }] }),
    ).rejects.toThrow('etcdserver: not leader');
    const index = await cluster
      .member(leaderId)
      .loop.proposeConfigurationChange({ changes: [{ kind: 'addLearner', nodeId: 9 }] });
    expect(index).toBeGreaterThan(1);
    expect(cluster.member(leaderId).loop.status().configuration.learners).toContain(9);
  });
});
