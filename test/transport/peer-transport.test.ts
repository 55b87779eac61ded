/**
 * Socket tests of the peer transport: real transports on 127.0.0.1 exchanging every message
 * kind, batching bursts, streaming snapshots, surviving stalled and stopped peers, refusing
 * foreign clusters, measuring round trips and answering discovery. Every wait is a condition
 * with a generous deadline, never a sleep for an exact time.
 */
import { credentials, Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';

import {
  PeerClient,
  PeerService,
  type PeerServer,
} from '../../src/generated/raftkv/peer/v1/peer.js';
import type {
  AppendRequest,
  InstallSnapshotRequest,
  Message,
  NormalEntry,
} from '../../src/raft/index.js';
import { type DiscoverAnswer, DiscoverFailedError, discover } from '../../src/transport/index.js';
import {
  CLUSTER_ID,
  closeAll,
  connectAll,
  heartbeat,
  HOST,
  messagesOfEveryKind,
  plain,
  sendFrom,
  startMember,
  waitFor,
} from './transport-harness.js';

const KIBIBYTE = 1024;
const MEBIBYTE = 1024 * KIBIBYTE;

function append(from: number, to: number, index: number, dataBytes: number): AppendRequest {
  const entry: NormalEntry = {
    kind: 'normal',
    index,
    term: 1,
    data: new Uint8Array(dataBytes).fill(index & 0xff),
  };
  return {
    kind: 'appendRequest',
    from,
    to,
    term: 1,
    prevLogIndex: index - 1,
    prevLogTerm: 1,
    entries: [entry],
    leaderCommit: 0,
  };
}

function firstIndexes(messages: readonly Message[]): number[] {
  return messages.map((message) => (message as AppendRequest).entries[0]!.index);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function snapshotRequest(from: number, to: number, dataBytes: number): InstallSnapshotRequest {
  const data = new Uint8Array(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = (i * 31 + (i >>> 11)) & 0xff;
  return {
    kind: 'installSnapshotRequest',
    from,
    to,
    term: 4,
    snapshot: {
      metadata: {
        index: 5_000,
        term: 3,
        configuration: {
          voters: [1, 3],
          votersOutgoing: [1, 2, 3],
          learners: [4],
          learnersNext: [2],
          isAutoLeave: true,
        },
      },
      data,
    },
  };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function droppedFor(dropped: readonly { peerId: number; messages: number }[], peerId: number) {
  return dropped.filter((drop) => drop.peerId === peerId).reduce((sum, d) => sum + d.messages, 0);
}

const stalledServers: Server[] = [];

/** A peer server that accepts calls but never reads them, so gRPC's buffers fill up. */
async function startStalledPeer(): Promise<string> {
  const server = new Server();
  const ignore = (): void => undefined;
  const implementation: PeerServer = {
    stream: ignore,
    installSnapshot: ignore,
    ping: ignore,
    discover: ignore,
  };
  server.addService(PeerService, implementation);
  stalledServers.push(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${HOST}:0`, ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  return `${HOST}:${port}`;
}

afterEach(async () => {
  await closeAll();
  for (const server of stalledServers.splice(0)) server.forceShutdown();
});

describe('PeerTransport delivery', () => {
  it('delivers messages of every kind, in order, both ways', async () => {
    const [a, b] = await Promise.all([startMember(1), startMember(2)]);
    connectAll([a, b]);
    const toB = [1, 2, 3].flatMap((term) => messagesOfEveryKind(1, 2, term));
    const toA = messagesOfEveryKind(2, 1, 7);
    for (const message of toB.slice(0, 12)) sendFrom(a, [message]);
    sendFrom(b, toA);
    await nextTurn();
    sendFrom(a, toB.slice(12));
    await waitFor('both directions', () => {
      return b.received.length === toB.length && a.received.length === toA.length;
    });
    expect(plain(b.received)).toStrictEqual(plain(toB));
    expect(plain(a.received)).toStrictEqual(plain(toA));
    expect([...a.reentrantCallbacks, ...b.reentrantCallbacks]).toEqual([]);
    expect([...a.unreachable, ...b.unreachable]).toEqual([]);
  });

  it('carries a burst of 1,000 sends in a few batches', async () => {
    const [a, b] = await Promise.all([startMember(1), startMember(2)]);
    connectAll([a, b]);
    sendFrom(a, [append(1, 2, 1, 100)]);
    await waitFor('the stream to open', () => b.received.length === 1);
    const batchesBefore = a.batchesSent.length;
    for (let index = 2; index <= 1_001; index++) sendFrom(a, [append(1, 2, index, 100)]);
    await waitFor('the burst', () => b.received.length === 1_001);
    expect(firstIndexes(b.received)).toEqual(range(1, 1_001));
    const burstBatches = a.batchesSent.length - batchesBefore;
    expect(burstBatches).toBeLessThanOrEqual(5);
    expect(b.batchesReceived.length).toBe(a.batchesSent.length);
  });

  it('splits a long queue at batchBytesMax and keeps the order', async () => {
    const batchBytesMax = 64 * KIBIBYTE;
    const [a, b] = await Promise.all([
      startMember(1, { limits: { batchBytesMax } }),
      startMember(2),
    ]);
    connectAll([a, b]);
    const messages = range(1, 64).map((index) => append(1, 2, index, 8 * KIBIBYTE));
    sendFrom(a, messages);
    await waitFor('every message', () => b.received.length === messages.length);
    expect(firstIndexes(b.received)).toEqual(range(1, 64));
    expect(a.batchesSent.length).toBeGreaterThanOrEqual(8);
    expect(a.batchesSent.every((batch) => batch.bytes <= batchBytesMax)).toBe(true);
  });

  it('streams a 5 MiB snapshot in chunks and reports success', async () => {
    const limits = { receiveMessageBytesMax: 2 * MEBIBYTE, batchBytesMax: MEBIBYTE };
    const [a, b] = await Promise.all([startMember(1), startMember(2, { limits })]);
    connectAll([a, b]);
    const message = snapshotRequest(1, 2, 5 * MEBIBYTE);
    // A second snapshot while the first is in flight is refused, not queued.
    sendFrom(a, [message, snapshotRequest(1, 2, 10)]);
    await waitFor('both statuses', () => a.snapshotStatuses.length === 2, 60_000);
    await waitFor('the snapshot', () => b.received.length === 1);
    expect(a.snapshotStatuses).toEqual([
      { peerId: 2, isSuccess: false },
      { peerId: 2, isSuccess: true },
    ]);
    const received = b.received[0] as InstallSnapshotRequest;
    const { data, ...rest } = received.snapshot;
    expect(plain({ ...received, snapshot: rest })).toStrictEqual(
      plain({ ...message, snapshot: { metadata: message.snapshot.metadata } }),
    );
    expect(Buffer.from(data).equals(Buffer.from(message.snapshot.data))).toBe(true);
    expect(a.reentrantCallbacks).toEqual([]);
  });
});

describe('PeerTransport failures', () => {
  it('bounds the queue and reports the peer when it stops reading', async () => {
    const stalledAddress = await startStalledPeer();
    const queuedMessagesMax = 50;
    const a = await startMember(1, { limits: { queuedMessagesMax } });
    a.transport.setPeers(new Map([[2, stalledAddress]]));
    let index = 0;
    await waitFor(
      'messages to be dropped',
      () => {
        for (let i = 0; i < 10; i++) sendFrom(a, [append(1, 2, ++index, 32 * KIBIBYTE)]);
        return droppedFor(a.dropped, 2) > 0 && a.unreachable.includes(2);
      },
      30_000,
      1,
    );
    expect(a.reentrantCallbacks).toEqual([]);
    await nextTurn();
    // Everything sent was written, is queued (at most the limit) or was dropped.
    const written = a.batchesSent.reduce((sum, batch) => sum + batch.messages, 0);
    expect(index - written - droppedFor(a.dropped, 2)).toBeLessThanOrEqual(queuedMessagesMax);
  });

  it('reports a snapshot to a peer removed meanwhile as failed', async () => {
    const stalledAddress = await startStalledPeer();
    const a = await startMember(1);
    a.transport.setPeers(new Map([[2, stalledAddress]]));
    sendFrom(a, [snapshotRequest(1, 2, 4 * MEBIBYTE)]);
    await nextTurn();
    a.transport.setPeers(new Map());
    expect(a.snapshotStatuses).toEqual([]);
    await waitFor('the failure', () => a.snapshotStatuses.length === 1);
    expect(a.snapshotStatuses).toEqual([{ peerId: 2, isSuccess: false }]);
  });

  it('follows a peer to its new address', async () => {
    const [a, b, moved] = await Promise.all([startMember(1), startMember(2), startMember(2)]);
    connectAll([a, b]);
    sendFrom(a, [heartbeat(1, 2, 1)]);
    await waitFor('the old address', () => b.received.length === 1);
    a.transport.setPeers(new Map([[2, moved.address]]));
    sendFrom(a, [heartbeat(1, 2, 2)]);
    await waitFor('the new address', () => moved.received.length === 1);
    expect(b.received).toHaveLength(1);
  });

  it('keeps send() immediate while a peer is down and resumes once it is back', async () => {
    const limits = {
      queuedMessagesMax: 100,
      reconnectBackoffMsMin: 20,
      reconnectBackoffMsMax: 200,
    };
    const a = await startMember(1, { limits });
    const b = await startMember(2);
    connectAll([a, b]);
    sendFrom(a, [heartbeat(1, 2, 0)]);
    await waitFor('the first heartbeat', () => b.received.length === 1);

    await b.transport.close();
    await waitFor('the stream failure to be noticed', () => a.unreachable.includes(2));
    const startedMs = performance.now();
    for (let i = 1; i <= 10_000; i++) sendFrom(a, [heartbeat(1, 2, i)]);
    const elapsedMs = performance.now() - startedMs;
    expect(elapsedMs).toBeLessThan(2_000);
    await waitFor('the drops', () => droppedFor(a.dropped, 2) >= 10_000 - 100);
    expect(a.reentrantCallbacks).toEqual([]);

    const revived = await startMember(2, { port: b.transport.port });
    let leaderCommit = 10_000;
    await waitFor(
      'delivery to resume',
      () => {
        sendFrom(a, [heartbeat(1, 2, ++leaderCommit)]);
        return revived.received.length > 0;
      },
      30_000,
      25,
    );
    const commits = revived.received.map(
      (message) => (message as { leaderCommit: number }).leaderCommit,
    );
    expect(commits.every((commit, i) => i === 0 || commit > commits[i - 1]!)).toBe(true);
  });

  it('refuses batches from another cluster or for another member, naming both ids', async () => {
    const b = await startMember(2);
    const foreign = await startMember(1, { clusterId: 0xbad });
    foreign.transport.setPeers(new Map([[2, b.address]]));
    sendFrom(foreign, [heartbeat(1, 2, 1)]);
    await waitFor('the refusal to be reported', () => foreign.unreachable.includes(2));
    expect(b.received).toEqual([]);
    expect(b.warnings.some((warning) => warning.startsWith('peer frame refused'))).toBe(true);

    const client = new PeerClient(b.address, credentials.createInsecure());
    try {
      const sendBatch = (clusterId: number, to: number): Promise<ServiceError | null> =>
        new Promise((resolve) => {
          const call = client.stream((error) => resolve(error));
          call.write({ clusterId, from: 1, to, messages: [] });
        });
      const foreignCluster = await sendBatch(0xbad, 2);
      expect(foreignCluster?.code).toBe(status.FAILED_PRECONDITION);
      expect(foreignCluster?.details).toMatch(
        `member 1 of cluster bad sent to member 2 of cluster ${CLUSTER_ID.toString(16)}`,
      );
      const wrongMember = await sendBatch(CLUSTER_ID, 3);
      expect(wrongMember?.code).toBe(status.FAILED_PRECONDITION);
      expect(wrongMember?.details).toMatch(/for member 3 to member 2/);
    } finally {
      client.close();
    }
  });

  it('drops messages to unknown or removed peers without reporting them unreachable', async () => {
    const [a, b] = await Promise.all([startMember(1), startMember(2)]);
    connectAll([a, b]);
    sendFrom(a, [heartbeat(1, 3, 1)]);
    a.transport.setPeers(new Map());
    sendFrom(a, [heartbeat(1, 2, 2)]);
    expect(a.dropped).toEqual([
      { peerId: 3, messages: 1 },
      { peerId: 2, messages: 1 },
    ]);
    await nextTurn();
    expect(a.unreachable).toEqual([]);
  });
});

describe('PeerTransport round trips and discovery', () => {
  it('reports the round-trip time to each peer', async () => {
    const limits = { pingIntervalMs: 20 };
    const [a, b] = await Promise.all([
      startMember(1, { limits, onRoundTrip: true }),
      startMember(2),
    ]);
    connectAll([a, b]);
    await waitFor('three round trips', () => a.roundTrips.length >= 3);
    for (const { peerId, seconds } of a.roundTrips) {
      expect(peerId).toBe(2);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(5);
    }
  });

  it('answers Discover with the handler the server passed', async () => {
    const answer: DiscoverAnswer = {
      isInitialized: true,
      clusterId: CLUSTER_ID,
      leaderId: 2,
      members: [
        {
          id: 1,
          name: 'raftkv-0',
          peerUrls: ['http://127.0.0.1:2380'],
          clientUrls: ['http://127.0.0.1:2379'],
          isLearner: false,
        },
        { id: 2 ** 53 - 1, name: 'raftkv-1', peerUrls: [], clientUrls: [], isLearner: true },
      ],
    };
    const answering = await startMember(2, { onDiscover: () => answer });
    const silent = await startMember(3);
    expect(await discover(answering.address, 10_000)).toEqual(answer);

    const unimplemented = await discover(silent.address, 10_000).catch((error: unknown) => error);
    expect(unimplemented).toBeInstanceOf(DiscoverFailedError);
    expect((unimplemented as DiscoverFailedError).grpcCode).toBe(status.UNIMPLEMENTED);

    await silent.transport.close();
    const nobody = await discover(silent.address, 10_000).catch((error: unknown) => error);
    expect(nobody).toBeInstanceOf(DiscoverFailedError);
    expect((nobody as DiscoverFailedError).grpcCode).toBe(status.UNAVAILABLE);
  });
});
