/**
 * Exactly-once metadata and the failover rules for writes, against tiny grpc-js KV servers that
 * record what they receive and fail on demand: with exactlyOnce every write carries
 * `raftkv-client-id` and `raftkv-sequence`, a retry on the next endpoint reuses the sequence, the
 * next write takes the next number, writes go one at a time; without it, a write that failed
 * after reaching a server is never resent; reads always fail over on UNAVAILABLE; an endpoint
 * that comes back is used again.
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';

import { ClientError, RaftkvClient } from '../../src/client/index.js';
import {
  DeleteRangeResponse,
  KVService,
  PutResponse,
  RangeResponse,
  TxnResponse,
} from '../../src/generated/etcdserverpb/rpc.js';
import { freePorts } from './etcd-cluster.js';

interface ReceivedCall {
  readonly method: string;
  readonly clientId: string | undefined;
  readonly sequence: string | undefined;
}

/** What a fake server does with the next call: answer, or fail with a status. */
type Outcome = 'ok' | { readonly code: GrpcStatus; readonly details: string };

const TIMED_OUT: Outcome = {
  code: GrpcStatus.UNAVAILABLE,
  details: 'etcdserver: request timed out',
};

function metadataValue(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return value === undefined ? undefined : String(value);
}

/** A KV service on a loopback port that records each call and follows a script of outcomes. */
class FakeKvServer {
  readonly received: ReceivedCall[] = [];
  /** Outcomes for the next calls, in order; 'ok' once empty. */
  readonly script: Outcome[] = [];
  delayMs = 0;
  inFlight = 0;
  inFlightMax = 0;
  private readonly server = new Server();
  endpoint = '';

  static async start(port = 0): Promise<FakeKvServer> {
    const fake = new FakeKvServer();
    const answer =
      (method: string, response: () => unknown) =>
      (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        void fake.handle(method, call.metadata, response, callback);
      };
    fake.server.addService(KVService, {
      range: answer('range', () => RangeResponse.fromPartial({ header: { revision: 1 } })),
      put: answer('put', () => PutResponse.fromPartial({ header: { revision: 2 } })),
      deleteRange: answer('deleteRange', () =>
        DeleteRangeResponse.fromPartial({ header: { revision: 3 }, deleted: 1 }),
      ),
      txn: answer('txn', () =>
        TxnResponse.fromPartial({ header: { revision: 4 }, succeeded: true }),
      ),
      compact: answer('compact', () => ({})),
    });
    const bound = await new Promise<number>((resolve, reject) => {
      fake.server.bindAsync(
        `127.0.0.1:${port}`,
        ServerCredentials.createInsecure(),
        (error, boundPort) => (error === null ? resolve(boundPort) : reject(error)),
      );
    });
    fake.endpoint = `127.0.0.1:${bound}`;
    return fake;
  }

  private async handle(
    method: string,
    metadata: Metadata,
    response: () => unknown,
    callback: sendUnaryData<unknown>,
  ): Promise<void> {
    this.received.push({
      method,
      clientId: metadataValue(metadata, 'raftkv-client-id'),
      sequence: metadataValue(metadata, 'raftkv-sequence'),
    });
    this.inFlight += 1;
    this.inFlightMax = Math.max(this.inFlightMax, this.inFlight);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.inFlight -= 1;
    const outcome = this.script.shift() ?? 'ok';
    if (outcome === 'ok') callback(null, response());
    else callback({ code: outcome.code, details: outcome.details, metadata: new Metadata() });
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}

describe('exactly-once writes and write failover', () => {
  const servers: FakeKvServer[] = [];
  const clients: RaftkvClient[] = [];

  async function twoServers(): Promise<[FakeKvServer, FakeKvServer]> {
    const pair: [FakeKvServer, FakeKvServer] = [
      await FakeKvServer.start(),
      await FakeKvServer.start(),
    ];
    servers.push(...pair);
    return pair;
  }

  async function clientOf(endpoints: string[], clientId?: string): Promise<RaftkvClient> {
    const client = await RaftkvClient.connect({
      endpoints,
      requestTimeoutMs: 5000,
      ...(clientId === undefined ? {} : { exactlyOnce: { clientId } }),
    });
    clients.push(client);
    return client;
  }

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) server.stop();
  });

  it('sends client id and sequence, and a retry on the next endpoint reuses the sequence', async () => {
    const [first, second] = await twoServers();
    const client = await clientOf([first.endpoint, second.endpoint], 'client-7');
    first.script.push(TIMED_OUT);

    await client.put('k', 'v1');
    expect(first.received).toEqual([{ method: 'put', clientId: 'client-7', sequence: '1' }]);
    expect(second.received).toEqual([{ method: 'put', clientId: 'client-7', sequence: '1' }]);

    // The next writes go to the endpoint that answered, each under the next number.
    await client.put('k', 'v2');
    await client.delete('k');
    await client.compareAndSwap('k', null, 'v3');
    expect(second.received.slice(1)).toEqual([
      { method: 'put', clientId: 'client-7', sequence: '2' },
      { method: 'deleteRange', clientId: 'client-7', sequence: '3' },
      { method: 'txn', clientId: 'client-7', sequence: '4' },
    ]);

    // Reads are not part of the session.
    await client.get('k');
    expect(second.received.at(-1)).toEqual({
      method: 'range',
      clientId: undefined,
      sequence: undefined,
    });
    expect(first.received).toHaveLength(1);
  });

  it('gives a failed write a new sequence when it is called again', async () => {
    const [only] = await twoServers();
    const client = await clientOf([only.endpoint], 'client-8');
    only.script.push(TIMED_OUT);
    const error = await rejection(client.put('k', 'v'));
    expect(error.mayHaveBeenApplied).toBe(true);
    await client.put('k', 'v');
    expect(only.received.map((call) => call.sequence)).toEqual(['1', '2']);
  });

  it('without exactly-once sends no metadata and never resends a write that reached a server', async () => {
    const [first, second] = await twoServers();
    const client = await clientOf([first.endpoint, second.endpoint]);
    first.script.push(TIMED_OUT);
    const error = await rejection(client.put('k', 'v'));
    expect(error.message).toBe('UNAVAILABLE: etcdserver: request timed out');
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.endpoint).toBe(first.endpoint);
    expect(error.mayHaveBeenApplied).toBe(true);
    expect(first.received).toEqual([{ method: 'put', clientId: undefined, sequence: undefined }]);
    expect(second.received).toEqual([]);
  });

  it('fails reads over on UNAVAILABLE, with or without exactly-once', async () => {
    const [first, second] = await twoServers();
    const client = await clientOf([first.endpoint, second.endpoint]);
    first.script.push({ code: GrpcStatus.UNAVAILABLE, details: 'etcdserver: no leader' });
    await client.get('k');
    expect(first.received.map((call) => call.method)).toEqual(['range']);
    expect(second.received.map((call) => call.method)).toEqual(['range']);
  });

  it('does not resend a write refused for another reason, even with exactly-once', async () => {
    const [first, second] = await twoServers();
    const client = await clientOf([first.endpoint, second.endpoint], 'client-9');
    first.script.push({ code: GrpcStatus.FAILED_PRECONDITION, details: 'raftkv: stale sequence' });
    const error = await rejection(client.put('k', 'v'));
    expect(error.code).toBe('FAILED_PRECONDITION');
    expect(error.details).toBe('raftkv: stale sequence');
    expect(error.mayHaveBeenApplied).toBe(false);
    expect(second.received).toEqual([]);
  });

  it('reports the last answer when every endpoint answered UNAVAILABLE', async () => {
    const [first, second] = await twoServers();
    const client = await clientOf([first.endpoint, second.endpoint], 'client-10');
    first.script.push(TIMED_OUT);
    second.script.push({ code: GrpcStatus.UNAVAILABLE, details: 'etcdserver: no leader' });
    const error = await rejection(client.put('k', 'v'));
    expect(error.message).toBe('UNAVAILABLE: etcdserver: no leader');
    expect(error.endpoint).toBe(second.endpoint);
    expect(second.received).toEqual([{ method: 'put', clientId: 'client-10', sequence: '1' }]);
  });

  it('sends the writes of one exactly-once client one at a time, in call order', async () => {
    const [only] = await twoServers();
    only.delayMs = 20;
    const client = await clientOf([only.endpoint], 'client-11');
    await Promise.all([1, 2, 3, 4, 5].map((value) => client.put('k', String(value))));
    expect(only.received.map((call) => call.sequence)).toEqual(['1', '2', '3', '4', '5']);
    expect(only.inFlightMax).toBe(1);

    const [other] = await twoServers();
    other.delayMs = 20;
    const concurrent = await clientOf([other.endpoint]);
    await Promise.all([1, 2, 3].map((value) => concurrent.put('k', String(value))));
    expect(other.inFlightMax).toBeGreaterThan(1);
  });

  it('uses an endpoint again once it comes back', async () => {
    const [port] = await freePorts(1);
    const client = await clientOf([`127.0.0.1:${port}`]);
    const error = await rejection(client.get('k'));
    expect(error.message).toBe(`UNAVAILABLE: no endpoint reachable (tried 127.0.0.1:${port})`);
    const server = await FakeKvServer.start(port);
    servers.push(server);
    // grpc-js reconnects in the background (backoff capped at 1 s by the client).
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await client.get('k');
        break;
      } catch (retryError) {
        if (Date.now() > deadline) throw retryError;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(server.received.map((call) => call.method)).toContain('range');
  });

  it('refuses a client id that cannot travel as gRPC metadata', async () => {
    await expect(
      RaftkvClient.connect({
        endpoints: ['127.0.0.1:2379'],
        requestTimeoutMs: 1000,
        exactlyOnce: { clientId: 'café' },
      }),
    ).rejects.toThrow(/printable ASCII/);
  });
});
