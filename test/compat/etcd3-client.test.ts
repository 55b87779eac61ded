/**
 * The `etcd3` npm client (1.1.x, grpc-js) against a 3-member raftkv cluster of real processes:
 * the basic operations an application uses (put, get, prefix ranges, delete, transactions with
 * its if/then/else builder, STM), the Cluster and Maintenance clients, and how the features
 * raftkv does not implement surface in it.
 */
import { Etcd3, GRPCFailedPreconditionError, GRPCNotImplementedError } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestCluster, type TestCluster } from '../integration/test-cluster.js';
import { waitForPublishedMembers } from './etcdctl-runner.js';

/** etcd3's STM isolation level RepeatableReads (a const enum in its typings). */
const REPEATABLE_READS = 2;

describe('the etcd3 npm client against a 3-member raftkv cluster', () => {
  let cluster: TestCluster;
  let client: Etcd3;

  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
    await waitForPublishedMembers(cluster.endpoints(), 3);
    client = new Etcd3({ hosts: cluster.endpoints().map((endpoint) => `http://${endpoint}`) });
  });
  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
  });

  it('put, get, getAll().prefix(), delete', async () => {
    const put = await client.put('e3/a').value('1').exec();
    expect(Number(put.header.revision)).toBeGreaterThan(1);
    expect(Number(put.header.raft_term)).toBeGreaterThanOrEqual(2);
    expect(await client.get('e3/a').string()).toBe('1');
    expect(await client.get('e3/missing').string()).toBeNull();
    await client.put('e3/b').value('2');
    await client.put('e3/c').value(Buffer.from([0, 1, 2]));
    await client.put('e4').value('outside');

    expect(await client.getAll().prefix('e3/').keys()).toEqual(['e3/a', 'e3/b', 'e3/c']);
    expect(await client.getAll().prefix('e3/').count()).toBe(3);
    expect((await client.get('e3/c').buffer())?.equals(Buffer.from([0, 1, 2]))).toBe(true);
    const limited = await client.getAll().prefix('e3/').limit(2).exec();
    expect(limited.kvs.map((entry) => entry.key.toString())).toEqual(['e3/a', 'e3/b']);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe('3');

    const raw = await client.get('e3/a').exec();
    expect(raw.kvs[0]?.version).toBe('1');
    expect(raw.kvs[0]?.create_revision).toBe(put.header.revision);
    expect(raw.header.cluster_id).toBe(String((await cluster.status(0)).header?.clusterId));

    // Previous value on put, serializable reads.
    expect((await client.put('e3/a').value('1b').getPrevious())?.value.toString()).toBe('1');
    expect(await client.get('e3/a').serializable(true).string()).toBe('1b');

    const deletedOne = await client.delete().key('e3/c').exec();
    expect(deletedOne.deleted).toBe('1');
    const deleted = await client.delete().prefix('e3/').getPrevious();
    expect(deleted.map((entry) => entry.key.toString()).sort()).toEqual(['e3/a', 'e3/b']);
    expect(await client.getAll().prefix('e3/').count()).toBe(0);
    expect(await client.get('e4').string()).toBe('outside');
  });

  it('txn with if().then().else(): both branches', async () => {
    await client.put('lock').value('free');
    const acquired = await client
      .if('lock', 'Value', '==', 'free')
      .and('lock', 'Version', '>', 0)
      .and('lock', 'Create', '>', 0)
      .then(client.put('lock').value('mine'), client.get('lock'))
      .else(client.get('lock'))
      .commit();
    expect(acquired.succeeded).toBe(true);
    expect(acquired.responses).toHaveLength(2);
    expect(acquired.responses[1]?.response_range?.kvs[0]?.value.toString()).toBe('mine');

    const refused = await client
      .if('lock', 'Value', '==', 'free')
      .then(client.put('lock').value('theirs'))
      .else(client.get('lock'))
      .commit();
    expect(refused.succeeded).toBe(false);
    expect(refused.responses[0]?.response_range?.kvs[0]?.value.toString()).toBe('mine');
    expect(await client.get('lock').string()).toBe('mine');

    // Compare on the mod revision (what etcd3's own lock and STM use).
    const mod = (await client.get('lock').exec()).kvs[0]?.mod_revision ?? '0';
    const released = await client
      .if('lock', 'Mod', '==', Number(mod))
      .then(client.delete().key('lock'))
      .commit();
    expect(released.succeeded).toBe(true);
    expect(await client.get('lock').string()).toBeNull();
    // The lock idiom: create revision 0 means absent.
    const created = await client
      .if('lock', 'Create', '==', 0)
      .then(client.put('lock').value('again'))
      .commit();
    expect(created.succeeded).toBe(true);
  });

  it('STM with RepeatableReads moves a value atomically', async () => {
    await client.put('bank/a').value('100');
    await client.put('bank/b').value('0');
    await client.stm({ isolation: REPEATABLE_READS as never }).transact(async (tx) => {
      const a = Number(await tx.get('bank/a').string());
      const b = Number(await tx.get('bank/b').string());
      await tx.put('bank/a').value(String(a - 30));
      await tx.put('bank/b').value(String(b + 30));
    });
    expect(await client.get('bank/a').string()).toBe('70');
    expect(await client.get('bank/b').string()).toBe('30');
  });

  it('the default STM (SerializableSnapshot) reads at a revision: UNIMPLEMENTED', async () => {
    // Its second read asks for the first read's revision; raftkv keeps no history.
    const attempt = client.stm().transact(async (tx) => {
      await tx.get('bank/a').string();
      await tx.get('bank/b').string();
    });
    await expect(attempt).rejects.toBeInstanceOf(GRPCNotImplementedError);
    await expect(attempt).rejects.toThrow("raftkv: field 'revision' is not implemented");
  });

  it('cluster.memberList() and maintenance.status()', async () => {
    const list = await client.cluster.memberList({});
    expect(list.members.map((member) => member.name).sort()).toEqual([
      'raftkv-0',
      'raftkv-1',
      'raftkv-2',
    ]);
    for (const ordinal of [0, 1, 2]) {
      const local = cluster.local.member(ordinal);
      const member = list.members.find((candidate) => candidate.name === local.name);
      expect(member?.peerURLs).toEqual([`http://${local.peerAddress}`]);
      expect(member?.clientURLs).toEqual([`http://${local.clientAddress}`]);
      expect(member?.isLearner).toBe(false);
    }
    const status = await client.maintenance.status();
    expect(status.version).toMatch(/^3\.4\./);
    expect(list.members.map((member) => member.ID)).toContain(status.leader);
    expect(Number(status.raftAppliedIndex)).toBeGreaterThan(0);
    const alarms = await client.maintenance.alarm({ action: 'Get' as never, memberID: '0' });
    expect(alarms.alarms).toEqual([]);
  });

  it('leases and watches are refused with UNIMPLEMENTED', async () => {
    const lease = client.lease(10, { autoKeepAlive: false });
    await expect(lease.grant()).rejects.toBeInstanceOf(GRPCNotImplementedError);
    await expect(lease.grant()).rejects.toThrow('/etcdserverpb.Lease/LeaseGrant');
    await lease.revoke().catch(() => undefined);
    await expect(client.put('e3/leased').value('v').lease('1234').exec()).rejects.toThrow(
      "raftkv: field 'lease' is not implemented",
    );

    // etcd3's watcher never connects (create() would wait forever): it reports each failed
    // attempt as 'disconnected' and retries with backoff.
    const watcher = client.watch().key('e3/watched').watcher();
    const disconnected = await new Promise<Error>((resolve) => {
      watcher.once('disconnected', resolve);
      watcher.once('error', resolve);
    });
    await watcher.cancel().catch(() => undefined);
    // The watch stream's error arrives as grpc-js's own error (code 12, UNIMPLEMENTED).
    expect((disconnected as Error & { code?: number }).code).toBe(12);
    expect(disconnected.message).toContain('/etcdserverpb.Watch/Watch');
  });

  it('errors keep their etcd meaning', async () => {
    await expect(client.put('').value('v').exec()).rejects.toThrow(
      'etcdserver: key is not provided',
    );
    const promote = client.cluster.memberPromote({ ID: '1' });
    await expect(promote).rejects.toBeInstanceOf(GRPCFailedPreconditionError);
    await expect(promote).rejects.toThrow('etcdserver: can only promote a learner member');
  });
});
