/**
 * Property tests of the wire mapping: every Raft message kind survives encoding to peer.proto
 * bytes and back exactly, the size estimate used for batching bounds the real size, and
 * snapshots survive chunking and reassembly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import * as wire from '../generated/raftkv/peer/v1/peer.js';
import type {
  ConfigurationState,
  Entry,
  InstallSnapshotRequest,
  Message,
  MessageKind,
} from '../raft/index.js';
import { decodeMessage, encodeMessage, messageBytesEstimate } from './message-codec.js';
import { SnapshotAssembler, snapshotHeader } from './snapshot-assembler.js';
import { PeerProtocolError } from './transport-errors.js';

const id = fc.maxSafeNat();
const bytes = fc.uint8Array({ maxLength: 48 });
/** Well-formed UTF-16 only: protobuf strings are UTF-8, and the core's contexts are ours. */
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 8 }));
const base = { from: id, to: id, term: id };

const configurationState: fc.Arbitrary<ConfigurationState> = fc.record({
  voters: fc.array(id, { maxLength: 5 }),
  votersOutgoing: fc.array(id, { maxLength: 5 }),
  learners: fc.array(id, { maxLength: 3 }),
  learnersNext: fc.array(id, { maxLength: 3 }),
  isAutoLeave: fc.boolean(),
});

const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ kind: fc.constant('normal' as const), index: id, term: id, data: bytes }),
  fc.record({
    kind: fc.constant('configurationChange' as const),
    index: id,
    term: id,
    change: fc.record({
      changes: fc.array(
        fc.record({
          kind: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'removeNode' as const),
          nodeId: id,
        }),
        { maxLength: 4 },
      ),
    }),
  }),
);

const installSnapshotRequest: fc.Arbitrary<InstallSnapshotRequest> = fc.record({
  kind: fc.constant('installSnapshotRequest' as const),
  ...base,
  snapshot: fc.record({
    metadata: fc.record({ index: id, term: id, configuration: configurationState }),
    data: fc.uint8Array({ maxLength: 300 }),
  }),
});

/** One arbitrary per message kind; the record type forces a new kind to be added here. */
const messageByKind: { readonly [K in MessageKind]: fc.Arbitrary<Message> } = {
  voteRequest: fc.record({
    kind: fc.constant('voteRequest' as const),
    ...base,
    lastLogIndex: id,
    lastLogTerm: id,
    isLeadershipTransfer: fc.boolean(),
  }),
  preVoteRequest: fc.record({
    kind: fc.constant('preVoteRequest' as const),
    ...base,
    lastLogIndex: id,
    lastLogTerm: id,
    isLeadershipTransfer: fc.boolean(),
  }),
  voteResponse: fc.record({
    kind: fc.constant('voteResponse' as const),
    ...base,
    isGranted: fc.boolean(),
  }),
  preVoteResponse: fc.record({
    kind: fc.constant('preVoteResponse' as const),
    ...base,
    isGranted: fc.boolean(),
  }),
  appendRequest: fc.record({
    kind: fc.constant('appendRequest' as const),
    ...base,
    prevLogIndex: id,
    prevLogTerm: id,
    entries: fc.array(entry, { maxLength: 6 }),
    leaderCommit: id,
  }),
  appendResponse: fc.record({
    kind: fc.constant('appendResponse' as const),
    ...base,
    isRejected: fc.boolean(),
    index: id,
    hintIndex: id,
    hintTerm: id,
  }),
  heartbeatRequest: fc.record({
    kind: fc.constant('heartbeatRequest' as const),
    ...base,
    leaderCommit: id,
    readContext: fc.option(text, { nil: null }),
  }),
  heartbeatResponse: fc.record({
    kind: fc.constant('heartbeatResponse' as const),
    ...base,
    readContext: fc.option(text, { nil: null }),
  }),
  installSnapshotRequest,
  timeoutNowRequest: fc.record({ kind: fc.constant('timeoutNowRequest' as const), ...base }),
  forwardedProposal: fc.record({
    kind: fc.constant('forwardedProposal' as const),
    ...base,
    commands: fc.array(bytes, { maxLength: 5 }),
  }),
  readIndexRequest: fc.record({
    kind: fc.constant('readIndexRequest' as const),
    ...base,
    readContext: text,
  }),
  readIndexResponse: fc.record({
    kind: fc.constant('readIndexResponse' as const),
    ...base,
    readContext: text,
    readIndex: id,
  }),
};

const anyMessage = fc.oneof(...Object.values(messageByKind));

/** Decoded `bytes` are Buffers; compare them as plain Uint8Arrays. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]));
  }
  return value;
}

function throughWire(message: Message): Message {
  const encoded = wire.Message.encode(encodeMessage(message)).finish();
  return decodeMessage(wire.Message.decode(encoded));
}

describe('message codec', () => {
  it.each(Object.keys(messageByKind) as MessageKind[])('round-trips every %s exactly', (kind) => {
    fc.assert(
      fc.property(messageByKind[kind], (message) => {
        expect(plain(throughWire(message))).toStrictEqual(plain(message));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips whole batches in order', () => {
    fc.assert(
      fc.property(fc.array(anyMessage, { maxLength: 20 }), id, (messages, clusterId) => {
        const batch = { clusterId, from: 1, to: 2, messages: messages.map(encodeMessage) };
        const decoded = wire.MessageBatch.decode(wire.MessageBatch.encode(batch).finish());
        expect(decoded.clusterId).toBe(clusterId);
        expect(plain(decoded.messages.map(decodeMessage))).toStrictEqual(plain(messages));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps an empty read context apart from none', () => {
    const heartbeat: Message = {
      kind: 'heartbeatRequest',
      from: 1,
      to: 2,
      term: 3,
      leaderCommit: 4,
      readContext: '',
    };
    expect(throughWire(heartbeat)).toEqual(heartbeat);
    expect(throughWire({ ...heartbeat, readContext: null })).toEqual({
      ...heartbeat,
      readContext: null,
    });
  });

  it('estimates no less than the encoded size of a message inside a batch', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        const encodedBytes = wire.Message.encode(encodeMessage(message)).finish().byteLength;
        // A message inside a batch adds its field tag and length prefix.
        expect(messageBytesEstimate(message)).toBeGreaterThanOrEqual(encodedBytes + 6);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses messages the core could not represent', () => {
    const noBody = { from: 1, to: 2, term: 3, body: undefined };
    expect(() => decodeMessage(noBody)).toThrow(PeerProtocolError);
    const entryWithoutPayload = wire.Message.fromPartial({
      body: { $case: 'appendRequest', value: { entries: [{ index: 5, term: 1 }] } },
    });
    expect(() => decodeMessage(entryWithoutPayload)).toThrow(/entry 5 has no payload/);
    const unknownChange = wire.Message.fromPartial({
      body: {
        $case: 'appendRequest',
        value: {
          entries: [
            {
              index: 6,
              term: 1,
              payload: {
                $case: 'configurationChange',
                value: { changes: [{ kind: 9 as wire.MembershipChangeKind }] },
              },
            },
          ],
        },
      },
    });
    expect(() => decodeMessage(unknownChange)).toThrow(/membership change kind 9/);
    const snapshotWithoutMetadata = wire.Message.fromPartial({
      body: { $case: 'installSnapshotRequest', value: {} },
    });
    expect(() => decodeMessage(snapshotWithoutMetadata)).toThrow(PeerProtocolError);
  });
});

/** Splits `message`'s data the way the sender does and reassembles it through the wire. */
function throughChunks(message: InstallSnapshotRequest, chunkBytes: number): Message {
  const { data } = message.snapshot;
  const envelope = { clusterId: 7, from: message.from, to: message.to };
  let assembler: SnapshotAssembler | undefined;
  for (let offset = 0; offset === 0 || offset < data.byteLength; offset += chunkBytes) {
    const chunk: wire.SnapshotChunk = {
      header: offset === 0 ? snapshotHeader(envelope, message) : undefined,
      data: Buffer.from(data.subarray(offset, offset + chunkBytes)),
    };
    const decoded = wire.SnapshotChunk.decode(wire.SnapshotChunk.encode(chunk).finish());
    assembler ??= SnapshotAssembler.start(decoded.header!, 1024);
    assembler.append(decoded.data);
  }
  return assembler!.finish();
}

describe('snapshot chunks', () => {
  it('reassemble into the request they came from', () => {
    fc.assert(
      fc.property(installSnapshotRequest, fc.integer({ min: 1, max: 64 }), (message, chunk) => {
        expect(plain(throughChunks(message, chunk))).toStrictEqual(plain(message));
      }),
      { numRuns: 300 },
    );
  });

  it('refuse a snapshot larger than the limit, extra bytes and missing bytes', () => {
    const message: InstallSnapshotRequest = {
      kind: 'installSnapshotRequest',
      from: 1,
      to: 2,
      term: 3,
      snapshot: {
        metadata: {
          index: 10,
          term: 3,
          configuration: {
            voters: [1, 2],
            votersOutgoing: [],
            learners: [],
            learnersNext: [],
            isAutoLeave: false,
          },
        },
        data: new Uint8Array(100),
      },
    };
    const header = snapshotHeader({ clusterId: 7, from: 1, to: 2 }, message);
    expect(() => SnapshotAssembler.start(header, 99)).toThrow(/more than snapshotBytesMax/);
    const tooMuch = SnapshotAssembler.start(header, 100);
    tooMuch.append(new Uint8Array(60));
    expect(() => tooMuch.append(new Uint8Array(41))).toThrow(/exceed the announced 100 bytes/);
    const tooLittle = SnapshotAssembler.start(header, 100);
    tooLittle.append(new Uint8Array(99));
    expect(() => tooLittle.finish()).toThrow(/after 99 of 100 bytes/);
    const notASnapshot = { ...header, message: wire.Message.fromPartial({ body: undefined }) };
    expect(() => SnapshotAssembler.start(notASnapshot, 100)).toThrow(PeerProtocolError);
  });
});
