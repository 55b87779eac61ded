/**
 * Exactly-once writes (DESIGN.md §6) seen from a raw gRPC client: the etcd KV service of a
 * 3-member raftkv cluster, with the `raftkv-client-id` and `raftkv-sequence` metadata set by
 * hand. A retry with the same sequence gets the first answer and applies nothing; an older
 * sequence is refused; without metadata nothing is deduplicated; bad metadata is rejected.
 */
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  KVClient,
  type PutResponse,
  type RangeResponse,
  type TxnResponse,
  Compare_CompareResult,
  Compare_CompareTarget,
  type TxnRequest,
} from '../../src/generated/etcdserverpb/rpc.js';
import { startTestCluster, type TestCluster } from '../integration/test-cluster.js';

const CALL_TIMEOUT_MS = 10_000;

function sessionMetadata(clientId?: string, sequence?: string): Metadata {
  const metadata = new Metadata();
  if (clientId !== undefined) metadata.set('raftkv-client-id', clientId);
  if (sequence !== undefined) metadata.set('raftkv-sequence', sequence);
  return metadata;
}

/** One unary call as a promise. */
function call<Request, Response>(
  client: KVClient,
  method: 'put' | 'range' | 'txn' | 'deleteRange',
  request: Request,
  metadata: Metadata = new Metadata(),
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const invoke = client[method].bind(client) as unknown as (
      request: Request,
      metadata: Metadata,
      options: { deadline: Date },
      callback: (error: ServiceError | null, response: Response) => void,
    ) => void;
    invoke(
      request,
      metadata,
      { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) },
      (error, response) => (error === null ? resolve(response) : reject(error)),
    );
  });
}

const bytes = (text: string): Buffer => Buffer.from(text);

describe('exactly-once writes through raftkv-client-id / raftkv-sequence metadata', () => {
  let cluster: TestCluster;
  let clients: KVClient[] = [];
  const client = (ordinal: number): KVClient => {
    const found = clients[ordinal];
    if (found === undefined) throw new Error(`no client ${ordinal}`);
    return found;
  };
  const put = (ordinal: number, key: string, value: string, metadata?: Metadata) =>
    call<object, PutResponse>(
      client(ordinal),
      'put',
      {
        key: bytes(key),
        value: bytes(value),
        lease: 0,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
      metadata,
    );
  const get = (key: string) =>
    call<object, RangeResponse>(client(0), 'range', {
      key: bytes(key),
      rangeEnd: Buffer.alloc(0),
      limit: 0,
      revision: 0,
      sortOrder: 0,
      sortTarget: 0,
      serializable: false,
      keysOnly: false,
      countOnly: false,
      minModRevision: 0,
      maxModRevision: 0,
      minCreateRevision: 0,
      maxCreateRevision: 0,
    });
  /** The store revision now (a linearizable read's header). */
  const storeRevision = async (): Promise<number> => (await get('\0')).header?.revision ?? 0;
  const failure = async (promise: Promise<unknown>): Promise<ServiceError> => {
    try {
      await promise;
    } catch (error) {
      return error as ServiceError;
    }
    throw new Error('the call succeeded');
  };

  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
    clients = cluster
      .endpoints()
      .map((endpoint) => new KVClient(endpoint, credentials.createInsecure()));
  });
  afterAll(async () => {
    for (const each of clients) each.close();
    await cluster?.destroy();
  });

  it('a retried put with the same sequence returns the first answer and applies once', async () => {
    const first = await put(0, 'once/a', 'v1', sessionMetadata('client-a', '1'));
    const revision = first.header?.revision ?? 0;
    expect(revision).toBeGreaterThan(1);
    expect(await storeRevision()).toBe(revision);

    // The retry, through every member (followers forward), even with another value.
    for (const ordinal of [0, 1, 2]) {
      const retry = await put(ordinal, 'once/a', 'v1', sessionMetadata('client-a', '1'));
      expect(retry.header?.revision).toBe(revision);
    }
    const changed = await put(1, 'once/a', 'other', sessionMetadata('client-a', '1'));
    expect(changed.header?.revision).toBe(revision);

    const stored = (await get('once/a')).kvs[0];
    expect(stored?.value.toString()).toBe('v1');
    expect(stored?.version).toBe(1);
    expect(stored?.modRevision).toBe(revision);
    expect(await storeRevision()).toBe(revision);

    // The next sequence applies.
    const next = await put(2, 'once/a', 'v2', sessionMetadata('client-a', '2'));
    expect(next.header?.revision).toBe(revision + 1);
    expect((await get('once/a')).kvs[0]?.version).toBe(2);
  });

  it('concurrent duplicates through different members apply once', async () => {
    const before = await storeRevision();
    const answers = await Promise.all(
      [0, 1, 2, 0, 1, 2].map((ordinal) =>
        put(ordinal, 'once/concurrent', 'x', sessionMetadata('client-c', '7')),
      ),
    );
    const revisions = new Set(answers.map((answer) => answer.header?.revision));
    expect([...revisions]).toEqual([before + 1]);
    expect((await get('once/concurrent')).kvs[0]?.version).toBe(1);
    expect(await storeRevision()).toBe(before + 1);
  });

  it('a retried txn returns its first outcome, not a new evaluation', async () => {
    await put(0, 'once/cas', 'free');
    const request: TxnRequest = {
      compare: [
        {
          result: Compare_CompareResult.EQUAL,
          target: Compare_CompareTarget.VALUE,
          key: bytes('once/cas'),
          rangeEnd: Buffer.alloc(0),
          targetUnion: { $case: 'value', value: bytes('free') },
        },
      ],
      success: [
        {
          request: {
            $case: 'requestPut',
            value: {
              key: bytes('once/cas'),
              value: bytes('taken'),
              lease: 0,
              prevKv: false,
              ignoreValue: false,
              ignoreLease: false,
            },
          },
        },
      ],
      failure: [],
    };
    const first = await call<TxnRequest, TxnResponse>(
      client(1),
      'txn',
      request,
      sessionMetadata('client-t', '1'),
    );
    expect(first.succeeded).toBe(true);
    const retry = await call<TxnRequest, TxnResponse>(
      client(2),
      'txn',
      request,
      sessionMetadata('client-t', '1'),
    );
    expect(retry.succeeded).toBe(true);
    expect(retry.header?.revision).toBe(first.header?.revision);
    // A fresh evaluation fails the compare.
    const fresh = await call<TxnRequest, TxnResponse>(
      client(0),
      'txn',
      request,
      sessionMetadata('client-t', '2'),
    );
    expect(fresh.succeeded).toBe(false);
    expect((await get('once/cas')).kvs[0]?.version).toBe(2);
  });

  it('an older sequence is refused with FAILED_PRECONDITION', async () => {
    await put(0, 'once/stale', 'a', sessionMetadata('client-s', '5'));
    await put(0, 'once/stale', 'b', sessionMetadata('client-s', '6'));
    const before = await storeRevision();
    const error = await failure(put(1, 'once/stale', 'c', sessionMetadata('client-s', '5')));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain("sequence 5 of client 'client-s' is older than its latest 6");
    expect(await storeRevision()).toBe(before);
    expect((await get('once/stale')).kvs[0]?.value.toString()).toBe('b');
    // Sequences may skip ahead.
    await put(2, 'once/stale', 'd', sessionMetadata('client-s', '100'));
    expect((await get('once/stale')).kvs[0]?.value.toString()).toBe('d');
  });

  it('clients are independent', async () => {
    const one = await put(0, 'once/ind', '1', sessionMetadata('client-x', '1'));
    const two = await put(0, 'once/ind', '2', sessionMetadata('client-y', '1'));
    expect(two.header?.revision).toBe((one.header?.revision ?? 0) + 1);
    expect((await get('once/ind')).kvs[0]?.version).toBe(2);
  });

  it('without metadata, two identical puts apply twice', async () => {
    const first = await put(0, 'once/plain', 'same');
    const second = await put(0, 'once/plain', 'same');
    expect(second.header?.revision).toBe((first.header?.revision ?? 0) + 1);
    expect((await get('once/plain')).kvs[0]?.version).toBe(2);
  });

  it('bad metadata is INVALID_ARGUMENT and applies nothing', async () => {
    const before = await storeRevision();
    const cases: { metadata: Metadata; message: string }[] = [
      {
        metadata: sessionMetadata('client-b', 'abc'),
        message: 'raftkv-sequence must be a positive integer',
      },
      {
        metadata: sessionMetadata('client-b', '0'),
        message: 'raftkv-sequence must be a positive integer',
      },
      {
        metadata: sessionMetadata('client-b', '-3'),
        message: 'raftkv-sequence must be a positive integer',
      },
      {
        metadata: sessionMetadata('client-b', '1.5'),
        message: 'raftkv-sequence must be a positive integer',
      },
      { metadata: sessionMetadata('client-b'), message: 'must be sent together' },
      { metadata: sessionMetadata(undefined, '1'), message: 'must be sent together' },
      { metadata: sessionMetadata('', '1'), message: 'raftkv-client-id must be 1 to' },
    ];
    for (const { metadata, message } of cases) {
      const error = await failure(put(1, 'once/bad', 'v', metadata));
      expect(error.code, JSON.stringify(metadata.getMap())).toBe(status.INVALID_ARGUMENT);
      expect(error.details, JSON.stringify(metadata.getMap())).toContain(message);
    }
    expect(await storeRevision()).toBe(before);
    expect((await get('once/bad')).kvs).toEqual([]);
  });
});
