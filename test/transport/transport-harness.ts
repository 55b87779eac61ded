/**
 * Helpers for socket tests of the peer transport: members on 127.0.0.1 that record everything
 * their callbacks and observer report, condition waits instead of sleeps, sample messages of
 * every kind, and cleanup of whatever a test started.
 */
import { type LogFields, type Logger, type NodeId } from '../../src/common/index.js';
import type { Message } from '../../src/raft/index.js';
import {
  PeerTransport,
  type PeerTransportOptions,
  type TransportLimits,
} from '../../src/transport/index.js';

export const CLUSTER_ID = 0x5eed_cafe_f00d;
export const HOST = '127.0.0.1';

/** A member under test and what it has seen. */
export interface TestMember {
  readonly id: NodeId;
  readonly transport: PeerTransport;
  readonly address: string;
  readonly received: Message[];
  readonly unreachable: NodeId[];
  readonly snapshotStatuses: { peerId: NodeId; isSuccess: boolean }[];
  readonly roundTrips: { peerId: NodeId; seconds: number }[];
  /** Batches sent, in order: their message counts and estimated bytes. */
  readonly batchesSent: { messages: number; bytes: number }[];
  readonly batchesReceived: number[];
  readonly dropped: { peerId: NodeId; messages: number }[];
  readonly warnings: string[];
  /** Set by tests around send() to catch callbacks made from inside it. */
  isInsideSend: boolean;
  readonly reentrantCallbacks: string[];
}

export interface MemberOptions {
  readonly clusterId?: number;
  readonly port?: number;
  readonly limits?: Partial<TransportLimits>;
  readonly onRoundTrip?: boolean;
  readonly onDiscover?: PeerTransportOptions['onDiscover'];
}

const started: PeerTransport[] = [];

function recordingLogger(warnings: string[]): Logger {
  const ignore = (_fields: LogFields, _message: string): void => undefined;
  return {
    debug: ignore,
    info: ignore,
    warn: (_fields, message) => warnings.push(message),
    error: (_fields, message) => warnings.push(message),
  };
}

/** Starts a member with recording callbacks; it is closed by {@link closeAll}. */
export async function startMember(id: NodeId, options: MemberOptions = {}): Promise<TestMember> {
  const warnings: string[] = [];
  const member: Omit<TestMember, 'transport' | 'address'> = {
    id,
    received: [],
    unreachable: [],
    snapshotStatuses: [],
    roundTrips: [],
    batchesSent: [],
    batchesReceived: [],
    dropped: [],
    warnings,
    isInsideSend: false,
    reentrantCallbacks: [],
  };
  const guard = (name: string): void => {
    if (member.isInsideSend) member.reentrantCallbacks.push(name);
  };
  const transport = await PeerTransport.start({
    selfId: id,
    clusterId: options.clusterId ?? CLUSTER_ID,
    listenHost: HOST,
    listenPort: options.port ?? 0,
    logger: recordingLogger(warnings),
    onMessages: (messages) => {
      guard('onMessages');
      member.received.push(...messages);
    },
    onUnreachable: (peerId) => {
      guard('onUnreachable');
      member.unreachable.push(peerId);
    },
    onSnapshotStatus: (peerId, isSuccess) => {
      guard('onSnapshotStatus');
      member.snapshotStatuses.push({ peerId, isSuccess });
    },
    ...(options.onRoundTrip === true
      ? { onRoundTrip: (peerId, seconds) => member.roundTrips.push({ peerId, seconds }) }
      : {}),
    ...(options.onDiscover === undefined ? {} : { onDiscover: options.onDiscover }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    observer: {
      batchSent: (_peerId, messages, bytes) => member.batchesSent.push({ messages, bytes }),
      batchReceived: (_peerId, messages) => member.batchesReceived.push(messages),
      messagesDropped: (peerId, messages) => member.dropped.push({ peerId, messages }),
    },
  });
  started.push(transport);
  return { ...member, transport, address: `${HOST}:${transport.port}` } as TestMember;
}

/** Sends as the core would, recording whether a callback ran inside send(). */
export function sendFrom(member: TestMember, messages: readonly Message[]): void {
  member.isInsideSend = true;
  try {
    member.transport.send(messages);
  } finally {
    member.isInsideSend = false;
  }
}

/** Makes every member in `members` know every other. */
export function connectAll(members: readonly TestMember[]): void {
  const peers = new Map(members.map((member) => [member.id, member.address]));
  for (const member of members) member.transport.setPeers(peers);
}

/** Closes every transport started since the last call. */
export async function closeAll(): Promise<void> {
  const transports = started.splice(0);
  await Promise.all(transports.map((transport) => transport.close()));
}

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean,
  timeoutMs = 30_000,
  pollMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A heartbeat from `from` to `to`; `leaderCommit` numbers it. */
export function heartbeat(from: NodeId, to: NodeId, leaderCommit: number): Message {
  return { kind: 'heartbeatRequest', from, to, term: 1, leaderCommit, readContext: null };
}

/** One message of every kind except installSnapshotRequest, which takes another path. */
export function messagesOfEveryKind(from: NodeId, to: NodeId, term: number): Message[] {
  const base = { from, to, term };
  return [
    { kind: 'voteRequest', ...base, lastLogIndex: 9, lastLogTerm: 2, isLeadershipTransfer: true },
    {
      kind: 'preVoteRequest',
      ...base,
      lastLogIndex: 9,
      lastLogTerm: 2,
      isLeadershipTransfer: false,
    },
    { kind: 'voteResponse', ...base, isGranted: true },
    { kind: 'preVoteResponse', ...base, isGranted: false },
    {
      kind: 'appendRequest',
      ...base,
      prevLogIndex: 9,
      prevLogTerm: 2,
      entries: [
        { kind: 'normal', index: 10, term, data: new Uint8Array([1, 2, 3]) },
        { kind: 'normal', index: 11, term, data: new Uint8Array(0) },
        {
          kind: 'configurationChange',
          index: 12,
          term,
          change: { changes: [{ kind: 'addLearner', nodeId: 2 ** 52 + 7 }] },
        },
      ],
      leaderCommit: 8,
    },
    { kind: 'appendResponse', ...base, isRejected: true, index: 9, hintIndex: 7, hintTerm: 1 },
    { kind: 'heartbeatRequest', ...base, leaderCommit: 8, readContext: 'read-1' },
    { kind: 'heartbeatResponse', ...base, readContext: null },
    { kind: 'timeoutNowRequest', ...base },
    { kind: 'forwardedProposal', ...base, commands: [new Uint8Array([4]), new Uint8Array(0)] },
    { kind: 'readIndexRequest', ...base, readContext: 'read-2' },
    { kind: 'readIndexResponse', ...base, readContext: 'read-2', readIndex: 12 },
  ];
}

/** Decoded `bytes` are Buffers; compare them as plain Uint8Arrays. */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]));
  }
  return value;
}
