/**
 * RaftkvClient's membership and maintenance methods against real etcd 3.4: a 3-member cluster for
 * member list, status and move-leader (the leader found through status, or through the member
 * list when it is not among the endpoints), learner add / promote refusal / remove; and a full
 * learner lifecycle (add, start, catch up, promote, remove) on a 1-member cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ClientError,
  type EndpointStatus,
  formatMemberId,
  type RaftkvClient as Client,
  RaftkvClient,
} from '../../src/client/index.js';
import { EtcdCluster, etcdctl, freePorts } from './etcd-cluster.js';

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * etcd refuses membership changes ('etcdserver: unhealthy cluster') until every member has been
 * connected for 5 s, which a cluster just started (or a leader just elected) may not have been.
 */
async function retryWhileUnhealthy<T>(change: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await change();
    } catch (error) {
      const isUnhealthy =
        error instanceof ClientError && error.details === 'etcdserver: unhealthy cluster';
      if (!isUnhealthy || attempt >= 50) throw error;
      await sleep(200);
    }
  }
}

async function statuses(client: Client): Promise<EndpointStatus[]> {
  return Promise.all(client.endpoints.map((endpoint) => client.status(endpoint)));
}

describe('RaftkvClient cluster methods against a 3-member etcd', () => {
  let etcd: EtcdCluster;
  let client: RaftkvClient;

  beforeAll(async () => {
    etcd = await EtcdCluster.start(3);
    client = await RaftkvClient.connect({ endpoints: etcd.endpoints, requestTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('lists the members with the exact ids etcdctl prints', async () => {
    const { header, members } = await client.memberList();
    const etcdctlIds = (await etcdctl(etcd.endpoints, 'member', 'list'))
      .trim()
      .split('\n')
      .map((line) => line.split(',')[0]);
    expect(members.map((member) => formatMemberId(member.id)).sort()).toEqual(etcdctlIds.sort());
    expect(members.map((member) => member.name).sort()).toEqual(['etcd0', 'etcd1', 'etcd2']);
    for (const member of members) {
      const described = etcd.members.find((candidate) => candidate.name === member.name);
      expect(member.clientUrls).toEqual([`http://${described?.endpoint}`]);
      expect(member.peerUrls).toEqual([described?.peerUrl]);
      expect(member.isLearner).toBe(false);
    }
    expect(header.clusterId).not.toBe(0n);
    const serializable = await client.memberList({ linearizable: false });
    expect(serializable.members).toHaveLength(3);
  });

  it('reads each endpoint status: one leader that every member knows', async () => {
    const all = await statuses(client);
    const leader = all[0]?.leader;
    expect(leader).not.toBe(0n);
    expect(all.every((status) => status.leader === leader)).toBe(true);
    expect(all.filter((status) => status.header.memberId === leader)).toHaveLength(1);
    expect(all.map((status) => status.endpoint)).toEqual(etcd.endpoints);
    for (const status of all) {
      expect(status.version).toBe('3.4.23');
      expect(status.raftIndex).toBeGreaterThan(0);
      expect(status.raftAppliedIndex).toBeGreaterThan(0);
      expect(status.raftTerm).toBeGreaterThan(0);
      expect(status.isLearner).toBe(false);
    }
  });

  it('moves leadership to a follower through the leader found by status', async () => {
    const before = await statuses(client);
    const leader = before[0]?.leader ?? 0n;
    const target = before.find((status) => status.header.memberId !== leader);
    const result = await client.moveLeader(target?.header.memberId ?? 0n);
    expect(result.previousLeader).toBe(leader);
    expect(result.leaderEndpoint).toBe(
      before.find((status) => status.header.memberId === leader)?.endpoint,
    );
    const after = await client.status(target?.endpoint ?? '');
    expect(after.leader).toBe(target?.header.memberId);
  });

  it('finds the leader through the member list when it is not among the endpoints', async () => {
    const before = await statuses(client);
    const leader = before[0]?.leader ?? 0n;
    const [first, second] = before.filter((status) => status.header.memberId !== leader);
    const followerOnly = await RaftkvClient.connect({
      endpoints: [first?.endpoint ?? ''],
      requestTimeoutMs: 10_000,
    });
    try {
      const result = await followerOnly.moveLeader(second?.header.memberId ?? 0n);
      expect(result.previousLeader).toBe(leader);
      expect(result.leaderEndpoint).toBe(
        before.find((status) => status.header.memberId === leader)?.endpoint,
      );
      expect((await client.status(second?.endpoint ?? '')).leader).toBe(second?.header.memberId);
    } finally {
      followerOnly.close();
    }
  });

  it('reports etcd refusing a transfer to an unknown member', async () => {
    const error = await rejection(client.moveLeader(0x1234n));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.details).toBe('etcdserver: bad leader transferee');
  });

  it('adds a learner, cannot promote it before it started, and removes it', async () => {
    const [peerPort] = await freePorts(1);
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const added = await retryWhileUnhealthy(() => client.memberAdd([peerUrl], { isLearner: true }));
    expect(added.member.isLearner).toBe(true);
    expect(added.member.peerUrls).toEqual([peerUrl]);
    expect(added.member.name).toBe('');
    expect(added.members.map((member) => member.id)).toContain(added.member.id);
    const listed = await client.memberList();
    expect(listed.members.find((member) => member.id === added.member.id)?.isLearner).toBe(true);

    const promote = await rejection(client.memberPromote(added.member.id));
    expect(promote.code).toBe('FAILED_PRECONDITION');
    expect(promote.details).toBe(
      'etcdserver: can only promote a learner member which is in sync with leader',
    );
    expect(promote.mayHaveBeenApplied).toBe(false);

    const removed = await retryWhileUnhealthy(() => client.memberRemove(added.member.id));
    expect(removed.members.map((member) => member.id)).not.toContain(added.member.id);
    const again = await rejection(client.memberRemove(added.member.id));
    expect(again.code).toBe('NOT_FOUND');
    expect(again.details).toBe('etcdserver: member not found');
  });

  it('refuses to add a member without peer URLs before sending anything', async () => {
    const error = await rejection(client.memberAdd([]));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.endpoint).toBeUndefined();
  });
});

describe('RaftkvClient learner lifecycle against etcd', () => {
  let etcd: EtcdCluster;
  let client: RaftkvClient;

  beforeAll(async () => {
    etcd = await EtcdCluster.start(1);
    client = await RaftkvClient.connect({ endpoints: etcd.endpoints, requestTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('adds a learner, starts it, promotes it once caught up, and removes it', async () => {
    for (let index = 0; index < 20; index += 1) await client.put(`data/${index}`, 'x');
    const learner = await etcd.newMember('learner');
    const added = await retryWhileUnhealthy(() =>
      client.memberAdd([learner.peerUrl], { isLearner: true }),
    );
    const initialCluster = added.members
      .map((member) => {
        const name = member.id === added.member.id ? learner.name : member.name;
        return `${name}=${member.peerUrls[0]}`;
      })
      .join(',');
    await etcd.join(learner, initialCluster);

    // etcd refuses until the learner's log is within 90% of the leader's; retry briefly.
    let promoted;
    for (let attempt = 0; promoted === undefined; attempt += 1) {
      try {
        promoted = await client.memberPromote(added.member.id);
      } catch (error) {
        if (!(error instanceof ClientError) || attempt >= 50) throw error;
        expect(error.code).toBe('FAILED_PRECONDITION');
        await sleep(200);
      }
    }
    const member = promoted.members.find((candidate) => candidate.id === added.member.id);
    expect(member?.isLearner).toBe(false);
    expect(member?.name).toBe('learner');
    const status = await client.status(learner.endpoint);
    expect(status.header.memberId).toBe(added.member.id);
    expect(status.isLearner).toBe(false);

    await retryWhileUnhealthy(() => client.memberRemove(added.member.id));
    await etcd.stopMember(learner);
    const { members } = await client.memberList();
    expect(members.map((candidate) => candidate.id)).not.toContain(added.member.id);
  });
});
