/**
 * RaftkvClient's key-value methods against a real single-member etcd 3.4: values, revisions and
 * 64-bit ids as etcd reports them (checked against etcdctl), prefixes and ranges, transactions,
 * compare-and-swap, server errors with etcd's messages, failover past a dead endpoint, no
 * endpoint reachable, timeouts, and a closed client.
 */
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ClientError, RaftkvClient } from '../../src/client/index.js';
import { EtcdCluster, etcdctl, freePorts } from './etcd-cluster.js';

const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}

/** Resolves once process `pid` is in the stopped state ('T' in /proc/PID/stat). */
async function waitUntilStopped(pid: number | undefined): Promise<void> {
  if (pid === undefined) throw new Error('no process to stop');
  for (let attempt = 0; attempt < 500; attempt++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`process ${pid} did not stop`);
}

describe('RaftkvClient key-value methods against etcd', () => {
  let etcd: EtcdCluster;
  let client: RaftkvClient;
  let deadEndpoint: string;

  beforeAll(async () => {
    etcd = await EtcdCluster.start(1);
    client = await RaftkvClient.connect({ endpoints: etcd.endpoints, requestTimeoutMs: 5000 });
    deadEndpoint = `127.0.0.1:${(await freePorts(1))[0]}`;
  });

  afterAll(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('puts and gets, with revisions and the header ids etcdctl reports', async () => {
    const put = await client.put('greeting', 'hello');
    const second = await client.put('greeting', new TextEncoder().encode('hello again'), {
      prevKv: true,
    });
    expect(second.header.revision).toBe(put.header.revision + 1);
    expect(text(second.prevKv?.value)).toBe('hello');

    const got = await client.get(Uint8Array.from(Buffer.from('greeting')));
    expect(got.count).toBe(1);
    expect(got.kvs).toHaveLength(1);
    const [kv] = got.kvs;
    expect(text(kv?.key)).toBe('greeting');
    expect(text(kv?.value)).toBe('hello again');
    expect(kv?.version).toBe(2);
    expect(kv?.modRevision).toBe(second.header.revision);
    expect(kv?.createRevision).toBe(put.header.revision);

    // etcd's ids are random 64-bit numbers; etcdctl prints them exactly, in decimal, in JSON.
    const listed = await etcdctl(etcd.endpoints, 'member', 'list', '-w', 'json');
    const clusterId = /"cluster_id":(\d+)/.exec(listed)?.[1];
    const memberId = /"member_id":(\d+)/.exec(listed)?.[1];
    expect(got.header.clusterId).toBe(BigInt(clusterId ?? -1));
    expect(got.header.memberId).toBe(BigInt(memberId ?? -1));
  });

  it('stores bytes unchanged', async () => {
    const key = Uint8Array.of(0x62, 0x00, 0xff, 0x01);
    const value = Uint8Array.of(0x00, 0x80, 0xfe, 0xff);
    await client.put(key, value);
    const got = await client.get(key);
    expect([...(got.kvs[0]?.value ?? [])]).toEqual([...value]);
  });

  it('reads prefixes, ranges, limits, keys only, counts and serializably', async () => {
    for (const name of ['fruit/apple', 'fruit/banana', 'fruit/cherry', 'fruits', 'fruit0']) {
      await client.put(name, `value of ${name}`);
    }
    const prefix = await client.get('fruit/', { prefix: true });
    expect(prefix.kvs.map((kv) => text(kv.key))).toEqual([
      'fruit/apple',
      'fruit/banana',
      'fruit/cherry',
    ]);
    const limited = await client.get('fruit/', { prefix: true, limit: 2 });
    expect(limited.kvs).toHaveLength(2);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    const keysOnly = await client.get('fruit/', { prefix: true, keysOnly: true });
    expect(keysOnly.kvs.map((kv) => text(kv.value))).toEqual(['', '', '']);
    const countOnly = await client.get('fruit/', { prefix: true, countOnly: true });
    expect(countOnly.kvs).toEqual([]);
    expect(countOnly.count).toBe(3);
    const range = await client.get('fruit/b', { rangeEnd: 'fruit/d' });
    expect(range.kvs.map((kv) => text(kv.key))).toEqual(['fruit/banana', 'fruit/cherry']);
    const serializable = await client.get('fruit/apple', { serializable: true });
    expect(text(serializable.kvs[0]?.value)).toBe('value of fruit/apple');
    const everything = await client.get('', { prefix: true, keysOnly: true });
    expect(everything.kvs.map((kv) => text(kv.key))).toContain('fruits');
    expect((await client.get('no such key')).kvs).toEqual([]);
  });

  it('deletes a key and a prefix, returning the previous values', async () => {
    await client.put('gone/1', 'a');
    await client.put('gone/2', 'b');
    await client.put('gone', 'c');
    const one = await client.delete('gone', { prevKv: true });
    expect(one.deleted).toBe(1);
    expect(text(one.prevKvs[0]?.value)).toBe('c');
    const prefix = await client.delete('gone/', { prefix: true });
    expect(prefix.deleted).toBe(2);
    expect((await client.get('gone', { prefix: true })).count).toBe(0);
    expect((await client.delete('gone')).deleted).toBe(0);
  });

  it('runs transactions: compares on value, version and revision, both branches', async () => {
    const put = await client.put('txn/key', 'v1');
    const succeeded = await client.txn({
      compare: [
        { key: 'txn/key', target: 'value', result: '=', value: 'v1' },
        { key: 'txn/key', target: 'modRevision', result: '=', value: put.header.revision },
        { key: 'txn/other', target: 'version', result: '=', value: 0 },
      ],
      success: [
        { type: 'put', key: 'txn/key', value: 'v2', options: { prevKv: true } },
        { type: 'put', key: 'txn/other', value: 'o' },
        { type: 'get', key: 'txn/', options: { prefix: true } },
      ],
      failure: [],
    });
    expect(succeeded.succeeded).toBe(true);
    expect(succeeded.results.map((result) => result.type)).toEqual(['put', 'put', 'get']);
    const [first, , third] = succeeded.results;
    expect(first?.type === 'put' && text(first.prevKv?.value)).toBe('v1');
    expect(third?.type === 'get' && third.kvs.map((kv) => text(kv.value))).toEqual(['v2', 'o']);

    const failed = await client.txn({
      compare: [{ key: 'txn/key', target: 'version', result: '>', value: 5 }],
      success: [{ type: 'delete', key: 'txn/', options: { prefix: true } }],
      failure: [{ type: 'delete', key: 'txn/other', options: { prevKv: true } }],
    });
    expect(failed.succeeded).toBe(false);
    const [deleted] = failed.results;
    expect(deleted?.type === 'delete' && deleted.deleted).toBe(1);
    expect((await client.get('txn/', { prefix: true })).count).toBe(1);
  });

  it('compare-and-swaps on a value or on absence, reporting what it found', async () => {
    const created = await client.compareAndSwap('cas', null, 'one');
    expect(created.succeeded).toBe(true);
    expect(created.previous).toBeUndefined();

    const notAbsent = await client.compareAndSwap('cas', null, 'other');
    expect(notAbsent.succeeded).toBe(false);
    expect(text(notAbsent.previous?.value)).toBe('one');

    const wrong = await client.compareAndSwap('cas', 'two', 'three');
    expect(wrong.succeeded).toBe(false);
    expect(text(wrong.previous?.value)).toBe('one');

    const swapped = await client.compareAndSwap('cas', 'one', 'two');
    expect(swapped.succeeded).toBe(true);
    expect(text(swapped.previous?.value)).toBe('one');
    expect(text((await client.get('cas')).kvs[0]?.value)).toBe('two');

    const missing = await client.compareAndSwap('cas-missing', 'x', 'y');
    expect(missing.succeeded).toBe(false);
    expect(missing.previous).toBeUndefined();
  });

  it("reports the server's refusals with etcd's code and message", async () => {
    const emptyKey = await rejection(client.put('', 'value'));
    expect(emptyKey.code).toBe('INVALID_ARGUMENT');
    expect(emptyKey.grpcCode).toBe(3);
    expect(emptyKey.details).toBe('etcdserver: key is not provided');
    expect(emptyKey.message).toBe('INVALID_ARGUMENT: etcdserver: key is not provided');
    expect(emptyKey.endpoint).toBe(etcd.endpoints[0]);
    expect(emptyKey.mayHaveBeenApplied).toBe(false);

    // Over etcd's --max-request-bytes (1.5 MiB) but under its gRPC limit (that + 512 KiB).
    const tooLarge = await rejection(client.put('big', 'x'.repeat(1_700_000)));
    expect(tooLarge.code).toBe('INVALID_ARGUMENT');
    expect(tooLarge.details).toBe('etcdserver: request is too large');

    const bothRanges = await rejection(client.get('a', { prefix: true, rangeEnd: 'b' }));
    expect(bothRanges.code).toBe('INVALID_ARGUMENT');
    expect(bothRanges.endpoint).toBeUndefined();
  });

  it('fails over past an endpoint that refuses connections, for reads and writes', async () => {
    const failover = await RaftkvClient.connect({
      endpoints: [deadEndpoint, ...etcd.endpoints],
      requestTimeoutMs: 5000,
    });
    try {
      // The dead endpoint never accepted a connection, so even a write provably was not sent.
      await failover.put('failover', 'written');
      expect(text((await failover.get('failover')).kvs[0]?.value)).toBe('written');
    } finally {
      failover.close();
    }
  });

  it('says clearly when no endpoint is reachable', async () => {
    const [second] = await freePorts(1);
    const unreachable = await RaftkvClient.connect({
      endpoints: [deadEndpoint, `http://127.0.0.1:${second}`],
      requestTimeoutMs: 5000,
    });
    try {
      for (const call of [() => unreachable.get('k'), () => unreachable.put('k', 'v')]) {
        const started = Date.now();
        const error = await rejection(call());
        expect(error.code).toBe('UNAVAILABLE');
        expect(error.grpcCode).toBe(14);
        expect(error.message).toBe(
          `UNAVAILABLE: no endpoint reachable (tried ${deadEndpoint}, 127.0.0.1:${second})`,
        );
        expect(error.mayHaveBeenApplied).toBe(false);
        expect(Date.now() - started).toBeLessThan(2000);
      }
      const status = await rejection(unreachable.status(deadEndpoint));
      expect(status.message).toBe(`UNAVAILABLE: endpoint ${deadEndpoint} is not reachable`);
    } finally {
      unreachable.close();
    }
  });

  it('times out on a member that does not answer; a write may then have been applied', async () => {
    const member = etcd.members[0];
    const quick = await RaftkvClient.connect({ endpoints: etcd.endpoints, requestTimeoutMs: 500 });
    try {
      await quick.get('warm-up'); // connected before the member stops answering
      member?.process?.kill('SIGSTOP');
      // kill() only queues the signal: a request sent before etcd has stopped may still be
      // answered (CI saw it, in 8 ms). Wait until the kernel reports the process stopped.
      await waitUntilStopped(member?.process?.pid);
      const read = await rejection(quick.get('k'));
      expect(read.code).toBe('DEADLINE_EXCEEDED');
      expect(read.details).toBe(`no answer from ${etcd.endpoints[0]} within 500 ms`);
      expect(read.mayHaveBeenApplied).toBe(false);
      const write = await rejection(quick.put('k', 'v'));
      expect(write.code).toBe('DEADLINE_EXCEEDED');
      expect(write.mayHaveBeenApplied).toBe(true);
    } finally {
      member?.process?.kill('SIGCONT');
      quick.close();
    }
  });

  it('rejects bad options and calls on a closed client', async () => {
    await expect(RaftkvClient.connect({ endpoints: [], requestTimeoutMs: 1000 })).rejects.toThrow(
      'INVALID_ARGUMENT: no endpoints given',
    );
    await expect(
      RaftkvClient.connect({ endpoints: ['https://127.0.0.1:2379'], requestTimeoutMs: 1000 }),
    ).rejects.toThrow(/TLS/);
    await expect(
      RaftkvClient.connect({ endpoints: ['127.0.0.1:2379'], requestTimeoutMs: 0 }),
    ).rejects.toThrow(/requestTimeoutMs/);
    const closed = await RaftkvClient.connect({
      endpoints: etcd.endpoints,
      requestTimeoutMs: 1000,
    });
    closed.close();
    const error = await rejection(closed.get('k'));
    expect(error.code).toBe('CANCELLED');
  });
});
