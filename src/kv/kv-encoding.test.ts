/** Tests for the binary encodings: state machine snapshots and write commands for log entries. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from './command-codec.js';
import { KvError } from './kv-error.js';
import { KvStateMachine } from './kv-state-machine.js';
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
  WriteRequest,
} from './kv-types.js';

const ALL = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };

const keyArbitrary = fc.uint8Array({ minLength: 1, maxLength: 3 });
const bytesArbitrary = fc.uint8Array({ maxLength: 4 });
const numberArbitrary = fc.oneof(fc.integer(), fc.double());
const resultArbitrary = fc.constantFrom(
  'equal' as const,
  'greater' as const,
  'less' as const,
  'notEqual' as const,
);

const rangeArbitrary = fc.record(
  {
    key: keyArbitrary,
    rangeEnd: bytesArbitrary,
    limit: numberArbitrary,
    countOnly: fc.boolean(),
    keysOnly: fc.boolean(),
    serializable: fc.boolean(),
    revision: numberArbitrary,
    sortOrder: fc.constantFrom('none' as const, 'ascend' as const, 'descend' as const),
    sortTarget: fc.constantFrom(
      'key' as const,
      'version' as const,
      'create' as const,
      'mod' as const,
      'value' as const,
    ),
  },
  { requiredKeys: ['key'] },
) as fc.Arbitrary<RangeRequest>;
const putArbitrary = fc.record(
  {
    key: keyArbitrary,
    value: bytesArbitrary,
    prevKv: fc.boolean(),
    lease: numberArbitrary,
    ignoreValue: fc.boolean(),
    ignoreLease: fc.boolean(),
  },
  { requiredKeys: ['key', 'value'] },
) as fc.Arbitrary<PutRequest>;
const deleteArbitrary = fc.record(
  { key: keyArbitrary, rangeEnd: bytesArbitrary, prevKv: fc.boolean() },
  { requiredKeys: ['key'] },
) as fc.Arbitrary<DeleteRangeRequest>;
const compareArbitrary = fc.oneof(
  fc.record(
    {
      key: keyArbitrary,
      rangeEnd: bytesArbitrary,
      target: fc.constantFrom(
        'version' as const,
        'createRevision' as const,
        'modRevision' as const,
        'lease' as const,
      ),
      result: resultArbitrary,
      targetValue: numberArbitrary,
    },
    { requiredKeys: ['key', 'target', 'result', 'targetValue'] },
  ),
  fc.record(
    {
      key: keyArbitrary,
      rangeEnd: bytesArbitrary,
      target: fc.constant('value' as const),
      result: resultArbitrary,
      targetValue: bytesArbitrary,
    },
    { requiredKeys: ['key', 'target', 'result', 'targetValue'] },
  ),
) as fc.Arbitrary<Compare>;

const { txn: txnArbitrary } = fc.letrec<{ txn: TxnRequest; operation: RequestOp }>((tie) => ({
  txn: fc.record({
    compare: fc.array(compareArbitrary, { maxLength: 2 }),
    success: fc.array(tie('operation'), { maxLength: 3 }),
    failure: fc.array(tie('operation'), { maxLength: 3 }),
  }),
  operation: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    rangeArbitrary.map((range) => ({ range })),
    putArbitrary.map((put) => ({ put })),
    deleteArbitrary.map((deleteRange) => ({ deleteRange })),
    tie('txn').map((txn) => ({ txn })),
  ),
}));
const writeArbitrary: fc.Arbitrary<WriteRequest> = fc.oneof(
  putArbitrary.map((put) => ({ put })),
  deleteArbitrary.map((deleteRange) => ({ deleteRange })),
  txnArbitrary.map((txn) => ({ txn })),
);

/** Small valid writes over a few keys, to build states for snapshot tests. */
const smallWriteArbitrary: fc.Arbitrary<WriteRequest> = fc.oneof(
  fc
    .record({ key: fc.uint8Array({ minLength: 1, maxLength: 2, max: 3 }), value: bytesArbitrary })
    .map((put) => ({ put })),
  fc
    .record({ key: fc.uint8Array({ minLength: 1, maxLength: 2, max: 3 }) })
    .map((deleteRange) => ({ deleteRange })),
);

function expectMalformed(action: () => unknown): void {
  expect(action).toThrow(KvError);
  try {
    action();
  } catch (error) {
    expect((error as KvError).code).toBe('MALFORMED_DATA');
  }
}

describe('command encoding', () => {
  it('round-trips every write request exactly, absent optional fields included', () => {
    fc.assert(
      fc.property(writeArbitrary, (request) => {
        const encoded = encodeCommand(request);
        // toEqual, not toStrictEqual: fast-check builds records without a prototype.
        expect(decodeCommand(encoded)).toEqual(request);
        expect(encodeCommand(decodeCommand(encoded))).toEqual(encoded);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('starts with the format version byte and refuses other versions', () => {
    const encoded = encodeCommand({ put: { key: new Uint8Array([1]), value: new Uint8Array(0) } });
    expect(encoded[0]).toBe(1);
    const foreign = encoded.slice();
    foreign[0] = 9;
    expectMalformed(() => decodeCommand(foreign));
  });

  it('refuses truncated input, trailing bytes and a bare range', () => {
    const encoded = encodeCommand({ deleteRange: { key: new Uint8Array([1, 2]), prevKv: true } });
    for (let length = 0; length < encoded.length; length++) {
      expectMalformed(() => decodeCommand(encoded.subarray(0, length)));
    }
    expectMalformed(() => decodeCommand(new Uint8Array([...encoded, 0])));
    expectMalformed(() => decodeCommand(new Uint8Array([1, 0, 0, 0, 0, 1, 7])));
  });

  it('refuses transactions nested too deep', () => {
    let request: TxnRequest = { compare: [], success: [], failure: [] };
    for (let depth = 0; depth < 40; depth++) {
      request = { compare: [], success: [{ txn: request }], failure: [] };
    }
    expectMalformed(() => decodeCommand(encodeCommand({ txn: request })));
  });

  it('throws only KvErrors on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (data) => {
        try {
          decodeCommand(data);
        } catch (error) {
          expect(error).toBeInstanceOf(KvError);
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('snapshots', () => {
  it('round-trips any state, and identical states give identical bytes', () => {
    fc.assert(
      fc.property(fc.array(smallWriteArbitrary, { maxLength: 30 }), (writes) => {
        const store = new KvStateMachine();
        const twin = new KvStateMachine();
        // Some writes carry a session, so the session table is part of the state too.
        writes.forEach((write, index) => {
          const session =
            index % 4 === 0 ? undefined : { clientId: `client-${index % 3}`, sequence: index };
          store.apply(write, session);
          twin.apply(write, session);
        });
        const snapshot = store.snapshot();
        expect(twin.snapshot()).toEqual(snapshot);
        const restored = KvStateMachine.restore(snapshot);
        expect(restored.revision()).toBe(store.revision());
        expect(restored.sessionCount()).toBe(store.sessionCount());
        expect(restored.keyCount()).toBe(store.keyCount());
        expect(restored.range(ALL)).toEqual(store.range(ALL));
        expect(restored.snapshot()).toEqual(snapshot);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('restores a store that keeps working with the same revisions', () => {
    const store = new KvStateMachine();
    store.put({ key: new Uint8Array([1]), value: new Uint8Array([1]) });
    const restored = KvStateMachine.restore(store.snapshot());
    expect(restored.put({ key: new Uint8Array([1]), value: new Uint8Array([2]) })).toEqual({
      revision: 3,
    });
    expect(restored.range({ key: new Uint8Array([1]) }).kvs[0]).toMatchObject({
      createRevision: 2,
      modRevision: 3,
      version: 2,
    });
    expect(KvStateMachine.restore(new KvStateMachine().snapshot()).revision()).toBe(1);
  });

  it('refuses damaged snapshots', () => {
    const store = new KvStateMachine();
    store.put({ key: new Uint8Array([1]), value: new Uint8Array([1]) });
    store.put({ key: new Uint8Array([2]), value: new Uint8Array([2]) });
    const snapshot = store.snapshot();
    const foreign = snapshot.slice();
    foreign[0] = 2;
    expectMalformed(() => KvStateMachine.restore(foreign));
    expectMalformed(() => KvStateMachine.restore(snapshot.subarray(0, snapshot.length - 1)));
    expectMalformed(() => KvStateMachine.restore(new Uint8Array([...snapshot, 0])));
    // Swap the two one-byte keys: out of order.
    const swapped = snapshot.slice();
    const firstKeyOffset = 1 + 8 + 4 + 4;
    const secondKeyOffset = firstKeyOffset + 1 + 4 + 1 + 24 + 4;
    swapped[firstKeyOffset] = 2;
    swapped[secondKeyOffset] = 1;
    expectMalformed(() => KvStateMachine.restore(swapped));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (data) => {
        try {
          KvStateMachine.restore(data);
        } catch (error) {
          expect(error).toBeInstanceOf(KvError);
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
