/** Example tests for KvStateMachine: each etcd v3 KV rule it implements, one at a time. */
import { describe, expect, it } from 'vitest';
import { KvError, type KvErrorCode } from './kv-error.js';
import { KvStateMachine } from './kv-state-machine.js';
import type { KeyValue, RangeResponse, RequestOp, ResponseOp, TxnRequest } from './kv-types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

const ZERO = new Uint8Array([0]);

function keysOf(kvs: readonly KeyValue[]): string[] {
  return kvs.map((keyValue) => decoder.decode(keyValue.key));
}

function storeWith(...keys: string[]): KvStateMachine {
  const store = new KvStateMachine();
  for (const key of keys) {
    store.put({ key: bytes(key), value: bytes(`v-${key}`) });
  }
  return store;
}

function expectKvError(action: () => unknown, code: KvErrorCode, messagePart?: string): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KvError);
  const kvError = caught as KvError;
  expect(kvError.code).toBe(code);
  expect(kvError.remedy.length).toBeGreaterThan(0);
  if (messagePart !== undefined) {
    expect(kvError.message).toContain(messagePart);
  }
}

function rangeOf(response: ResponseOp | undefined): RangeResponse {
  if (response === undefined || !('range' in response)) {
    throw new Error('expected a range response');
  }
  return response.range;
}

describe('KvStateMachine revisions and versions', () => {
  it('starts empty at revision 1', () => {
    const store = new KvStateMachine();
    expect(store.revision()).toBe(1);
    expect(store.keyCount()).toBe(0);
  });

  it('creates a key with createRevision = modRevision = new revision and version 1', () => {
    const store = new KvStateMachine();
    const response = store.put({ key: bytes('a'), value: bytes('1') });
    expect(response).toEqual({ revision: 2 });
    expect(store.range({ key: bytes('a') }).kvs).toEqual([
      { key: bytes('a'), value: bytes('1'), createRevision: 2, modRevision: 2, version: 1 },
    ]);
  });

  it('updates modRevision and version but keeps createRevision', () => {
    const store = storeWith('a', 'b');
    const response = store.put({ key: bytes('a'), value: bytes('new'), prevKv: true });
    expect(response.revision).toBe(4);
    expect(response.prevKv).toEqual({
      key: bytes('a'),
      value: bytes('v-a'),
      createRevision: 2,
      modRevision: 2,
      version: 1,
    });
    const [stored] = store.range({ key: bytes('a') }).kvs;
    expect(stored).toMatchObject({ createRevision: 2, modRevision: 4, version: 2 });
  });

  it('omits prevKv for a new key even when asked', () => {
    const store = new KvStateMachine();
    expect(store.put({ key: bytes('a'), value: bytes('1'), prevKv: true })).toEqual({
      revision: 2,
    });
  });

  it('deletes a key entirely, so a later put recreates it with version 1', () => {
    const store = storeWith('a');
    const deleted = store.deleteRange({ key: bytes('a'), prevKv: true });
    expect(deleted.revision).toBe(3);
    expect(deleted.deleted).toBe(1);
    expect(keysOf(deleted.prevKvs)).toEqual(['a']);
    expect(store.keyCount()).toBe(0);
    store.put({ key: bytes('a'), value: bytes('again') });
    expect(store.range({ key: bytes('a') }).kvs[0]).toMatchObject({
      createRevision: 4,
      modRevision: 4,
      version: 1,
    });
  });

  it('does not raise the revision for a delete that deletes nothing', () => {
    const store = storeWith('a');
    const response = store.deleteRange({ key: bytes('zz'), rangeEnd: ZERO, prevKv: true });
    expect(response).toEqual({ revision: 2, deleted: 0, prevKvs: [] });
    expect(store.revision()).toBe(2);
  });

  it('returns prevKvs only when asked', () => {
    const store = storeWith('a', 'b');
    expect(store.deleteRange({ key: bytes('a'), rangeEnd: bytes('c') })).toEqual({
      revision: 4,
      deleted: 2,
      prevKvs: [],
    });
  });

  it('copies keys and values so later caller mutation cannot change the store', () => {
    const store = new KvStateMachine();
    const value = bytes('x');
    store.put({ key: bytes('a'), value });
    value[0] = 0;
    expect(store.range({ key: bytes('a') }).kvs[0]?.value).toEqual(bytes('x'));
  });

  it('reads do not change state', () => {
    const store = storeWith('a');
    store.range({ key: bytes('a'), rangeEnd: ZERO });
    expect(store.revision()).toBe(2);
  });
});

describe('KvStateMachine range forms', () => {
  const store = storeWith('a', 'ab', 'b', 'c', 'd');

  it('reads a single key when rangeEnd is absent or empty', () => {
    expect(keysOf(store.range({ key: bytes('a') }).kvs)).toEqual(['a']);
    expect(keysOf(store.range({ key: bytes('a'), rangeEnd: new Uint8Array(0) }).kvs)).toEqual([
      'a',
    ]);
    expect(store.range({ key: bytes('zz') })).toEqual({
      kvs: [],
      more: false,
      count: 0,
      revision: 6,
    });
  });

  it('reads [key, rangeEnd) otherwise', () => {
    expect(keysOf(store.range({ key: bytes('a'), rangeEnd: bytes('c') }).kvs)).toEqual([
      'a',
      'ab',
      'b',
    ]);
    expect(keysOf(store.range({ key: bytes('c'), rangeEnd: bytes('a') }).kvs)).toEqual([]);
  });

  it('reads every key >= key when rangeEnd is [0x00]', () => {
    expect(keysOf(store.range({ key: bytes('b'), rangeEnd: ZERO }).kvs)).toEqual(['b', 'c', 'd']);
  });

  it('reads all keys when key and rangeEnd are both [0x00]', () => {
    const withLowKey = storeWith('a', 'b');
    withLowKey.put({ key: new Uint8Array([0]), value: bytes('zero') });
    withLowKey.put({ key: new Uint8Array([0, 0]), value: bytes('zero-zero') });
    expect(withLowKey.range({ key: ZERO, rangeEnd: ZERO }).count).toBe(4);
  });

  it('orders keys bytewise, unsigned, shorter prefix first', () => {
    const binary = new KvStateMachine();
    for (const key of [[0xff], [0x01, 0x00], [0x01], [0x80], [0x7f, 0xff]]) {
      binary.put({ key: new Uint8Array(key), value: new Uint8Array(0) });
    }
    const kvs = binary.range({ key: ZERO, rangeEnd: ZERO }).kvs;
    expect(kvs.map((keyValue) => [...keyValue.key])).toEqual([
      [0x01],
      [0x01, 0x00],
      [0x7f, 0xff],
      [0x80],
      [0xff],
    ]);
  });

  it('cuts at limit, sets more, and counts every matching key', () => {
    const response = store.range({ key: bytes('a'), rangeEnd: ZERO, limit: 2 });
    expect(keysOf(response.kvs)).toEqual(['a', 'ab']);
    expect(response.more).toBe(true);
    expect(response.count).toBe(5);
    const exact = store.range({ key: bytes('a'), rangeEnd: ZERO, limit: 5 });
    expect(exact.more).toBe(false);
    expect(store.range({ key: bytes('a'), rangeEnd: ZERO, limit: 0 }).kvs).toHaveLength(5);
  });

  it('returns only the count with countOnly', () => {
    expect(store.range({ key: bytes('a'), rangeEnd: ZERO, countOnly: true, limit: 1 })).toEqual({
      kvs: [],
      more: false,
      count: 5,
      revision: 6,
    });
  });

  it('empties values with keysOnly but keeps the metadata', () => {
    const [first] = store.range({ key: bytes('a'), keysOnly: true }).kvs;
    expect(first).toEqual({
      key: bytes('a'),
      value: new Uint8Array(0),
      createRevision: 2,
      modRevision: 2,
      version: 1,
    });
  });

  it('accepts serializable and ascending key sort', () => {
    const response = store.range({
      key: bytes('a'),
      rangeEnd: ZERO,
      serializable: true,
      sortOrder: 'ascend',
      sortTarget: 'key',
      revision: 0,
    });
    expect(response.count).toBe(5);
  });
});

describe('KvStateMachine validation', () => {
  it('refuses an empty key everywhere', () => {
    const store = new KvStateMachine();
    const empty = new Uint8Array(0);
    expectKvError(() => store.range({ key: empty }), 'EMPTY_KEY', 'key is not provided');
    expectKvError(() => store.put({ key: empty, value: bytes('x') }), 'EMPTY_KEY');
    expectKvError(() => store.deleteRange({ key: empty }), 'EMPTY_KEY');
    expectKvError(
      () =>
        store.txn({
          compare: [{ key: empty, target: 'version', result: 'equal', targetValue: 0 }],
          success: [],
          failure: [],
        }),
      'EMPTY_KEY',
    );
  });

  it('names each unsupported field', () => {
    const store = new KvStateMachine();
    const key = bytes('a');
    expectKvError(() => store.range({ key, revision: 3 }), 'UNSUPPORTED', "'revision'");
    expectKvError(() => store.range({ key, sortOrder: 'descend' }), 'UNSUPPORTED', 'sortOrder');
    expectKvError(() => store.range({ key, sortTarget: 'mod' }), 'UNSUPPORTED', 'sortTarget');
    expectKvError(() => store.put({ key, value: key, lease: 7 }), 'UNSUPPORTED', "'lease'");
    expectKvError(
      () => store.put({ key, value: key, ignoreValue: true }),
      'UNSUPPORTED',
      'ignoreValue',
    );
    expectKvError(
      () => store.put({ key, value: key, ignoreLease: true }),
      'UNSUPPORTED',
      'ignoreLease',
    );
    expectKvError(
      () =>
        store.txn({
          compare: [{ key, target: 'lease', result: 'equal', targetValue: 0 }],
          success: [],
          failure: [],
        }),
      'UNSUPPORTED',
      'compare.target',
    );
    expect(store.revision()).toBe(1);
  });

  it('accepts lease 0 and false flags', () => {
    const store = new KvStateMachine();
    const key = bytes('a');
    store.put({ key, value: key, lease: 0, ignoreValue: false, ignoreLease: false });
    expect(store.revision()).toBe(2);
  });

  const put = (key: string): RequestOp => ({ put: { key: bytes(key), value: bytes('x') } });
  const remove = (key: string, rangeEnd?: string): RequestOp => ({
    deleteRange:
      rangeEnd === undefined ? { key: bytes(key) } : { key: bytes(key), rangeEnd: bytes(rangeEnd) },
  });
  const txnOf = (success: RequestOp[], failure: RequestOp[] = []): TxnRequest => ({
    compare: [],
    success,
    failure,
  });

  it('refuses a branch that puts a key twice or puts a key it deletes', () => {
    const store = storeWith('a');
    const duplicates: TxnRequest[] = [
      txnOf([put('a'), put('a')]),
      txnOf([put('b'), remove('b')]),
      txnOf([remove('a', 'c'), put('b')]),
      txnOf([put('a'), { txn: txnOf([put('a')]) }]),
      txnOf([], [{ txn: txnOf([remove('a', 'z')]) }, put('q')]),
    ];
    for (const request of duplicates) {
      expectKvError(() => store.txn(request), 'DUPLICATE_KEY', 'duplicate key given in txn');
    }
    expect(store.revision()).toBe(2);
    expect(store.keyCount()).toBe(1);
  });

  it('allows the same key in both branches, and twice across a nested then/else', () => {
    const store = new KvStateMachine();
    store.txn(txnOf([put('a'), { txn: txnOf([put('b')], [put('b')]) }], [put('a')]));
    expect(store.keyCount()).toBe(2);
    store.txn(txnOf([remove('a'), remove('a', 'c')]));
    expect(store.keyCount()).toBe(0);
  });

  it('limits operations per branch, nested transactions included', () => {
    const store = new KvStateMachine({ txnOpsMax: 2 });
    expectKvError(() => store.txn(txnOf([put('a'), put('b'), put('c')])), 'TOO_MANY_OPERATIONS');
    expectKvError(
      () => store.txn(txnOf([{ txn: txnOf([], [put('a'), put('b'), put('c')]) }])),
      'TOO_MANY_OPERATIONS',
      'txnOpsMax',
    );
    expectKvError(
      () =>
        store.txn({
          compare: [1, 2, 3].map(() => ({
            key: bytes('a'),
            target: 'version' as const,
            result: 'equal' as const,
            targetValue: 0,
          })),
          success: [],
          failure: [],
        }),
      'TOO_MANY_OPERATIONS',
    );
    store.txn(txnOf([put('a'), put('b')]));
    expect(store.revision()).toBe(2);
    expect(
      new KvStateMachine().txn(txnOf(Array.from({ length: 128 }, (_, index) => put(`k${index}`))))
        .revision,
    ).toBe(2);
    expectKvError(
      () =>
        new KvStateMachine().txn(
          txnOf(Array.from({ length: 129 }, (_, index) => put(`k${index}`))),
        ),
      'TOO_MANY_OPERATIONS',
    );
  });

  it('refuses a txn whose nested range is invalid, before applying anything', () => {
    const store = new KvStateMachine();
    expectKvError(
      () => store.txn(txnOf([put('a'), { range: { key: bytes('a'), revision: 1 } }])),
      'UNSUPPORTED',
    );
    expect(store.keyCount()).toBe(0);
  });
});

describe('KvStateMachine transactions', () => {
  it('runs success when every compare holds, failure otherwise', () => {
    const store = storeWith('a');
    const guarded = (targetValue: number): TxnRequest => ({
      compare: [{ key: bytes('a'), target: 'version', result: 'equal', targetValue }],
      success: [{ put: { key: bytes('yes'), value: bytes('1') } }],
      failure: [{ put: { key: bytes('no'), value: bytes('1') } }],
    });
    expect(store.txn(guarded(1)).succeeded).toBe(true);
    expect(store.txn(guarded(5)).succeeded).toBe(false);
    expect(keysOf(store.range({ key: ZERO, rangeEnd: ZERO }).kvs)).toEqual(['a', 'no', 'yes']);
  });

  it('compares every target with every result', () => {
    const store = storeWith('a', 'a'); // version 2, createRevision 2, modRevision 3
    const holds = (compare: TxnRequest['compare'][number]): boolean =>
      store.txn({ compare: [compare], success: [], failure: [] }).succeeded;
    const key = bytes('a');
    expect(holds({ key, target: 'version', result: 'equal', targetValue: 2 })).toBe(true);
    expect(holds({ key, target: 'version', result: 'greater', targetValue: 1 })).toBe(true);
    expect(holds({ key, target: 'version', result: 'less', targetValue: 2 })).toBe(false);
    expect(holds({ key, target: 'version', result: 'notEqual', targetValue: 2 })).toBe(false);
    expect(holds({ key, target: 'createRevision', result: 'equal', targetValue: 2 })).toBe(true);
    expect(holds({ key, target: 'modRevision', result: 'equal', targetValue: 3 })).toBe(true);
    expect(holds({ key, target: 'modRevision', result: 'less', targetValue: 4 })).toBe(true);
    expect(holds({ key, target: 'value', result: 'equal', targetValue: bytes('v-a') })).toBe(true);
    expect(holds({ key, target: 'value', result: 'greater', targetValue: bytes('v-') })).toBe(true);
    expect(holds({ key, target: 'value', result: 'less', targetValue: bytes('v-b') })).toBe(true);
    expect(holds({ key, target: 'value', result: 'notEqual', targetValue: bytes('v-a') })).toBe(
      false,
    );
    // A txn without writes leaves the revision alone.
    expect(store.revision()).toBe(3);
  });

  it('compares a missing key as zero metadata, and a value compare on it as false', () => {
    const store = new KvStateMachine();
    const key = bytes('missing');
    const holds = (compare: TxnRequest['compare'][number]): boolean =>
      store.txn({ compare: [compare], success: [], failure: [] }).succeeded;
    expect(holds({ key, target: 'version', result: 'equal', targetValue: 0 })).toBe(true);
    expect(holds({ key, target: 'createRevision', result: 'equal', targetValue: 0 })).toBe(true);
    expect(holds({ key, target: 'modRevision', result: 'less', targetValue: 1 })).toBe(true);
    expect(holds({ key, target: 'value', result: 'equal', targetValue: new Uint8Array(0) })).toBe(
      false,
    );
    expect(holds({ key, target: 'value', result: 'notEqual', targetValue: bytes('x') })).toBe(
      false,
    );
  });

  it('holds a range compare only if it holds for every key in the range', () => {
    const store = storeWith('a', 'b', 'c');
    store.put({ key: bytes('b'), value: bytes('again') });
    const holds = (targetValue: number, rangeEnd: string): boolean =>
      store.txn({
        compare: [
          {
            key: bytes('a'),
            rangeEnd: bytes(rangeEnd),
            target: 'version',
            result: 'equal',
            targetValue,
          },
        ],
        success: [],
        failure: [],
      }).succeeded;
    expect(holds(1, 'b')).toBe(true);
    expect(holds(1, 'd')).toBe(false);
    // An empty range compares like a missing key.
    expect(
      store.txn({
        compare: [
          {
            key: bytes('x'),
            rangeEnd: bytes('z'),
            target: 'version',
            result: 'equal',
            targetValue: 0,
          },
        ],
        success: [],
        failure: [],
      }).succeeded,
    ).toBe(true);
  });

  it('gives every write in a txn one shared revision and raises the store revision once', () => {
    const store = storeWith('old');
    const response = store.txn({
      compare: [],
      success: [
        { put: { key: bytes('a'), value: bytes('1') } },
        { deleteRange: { key: bytes('old') } },
        { put: { key: bytes('b'), value: bytes('2') } },
      ],
      failure: [],
    });
    expect(response.revision).toBe(3);
    expect(store.revision()).toBe(3);
    const kvs = store.range({ key: ZERO, rangeEnd: ZERO }).kvs;
    expect(kvs.map((keyValue) => keyValue.modRevision)).toEqual([3, 3]);
    for (const inner of response.responses) {
      const revision =
        'put' in inner
          ? inner.put.revision
          : 'deleteRange' in inner
            ? inner.deleteRange.revision
            : 0;
      expect(revision).toBe(3);
    }
  });

  it('does not raise the revision for a txn whose only write deletes nothing', () => {
    const store = storeWith('a');
    const response = store.txn({
      compare: [],
      success: [{ deleteRange: { key: bytes('zzz') } }],
      failure: [],
    });
    expect(response.revision).toBe(2);
    expect(store.revision()).toBe(2);
  });

  it('lets reads inside a txn see the txn’s own earlier writes', () => {
    const store = storeWith('a', 'b');
    const response = store.txn({
      compare: [],
      success: [
        { put: { key: bytes('c'), value: bytes('new') } },
        { deleteRange: { key: bytes('a') } },
        { range: { key: ZERO, rangeEnd: ZERO } },
        { put: { key: bytes('b'), value: bytes('b2') } },
        { range: { key: bytes('b') } },
      ],
      failure: [],
    });
    expect(keysOf(rangeOf(response.responses[2]).kvs)).toEqual(['b', 'c']);
    expect(rangeOf(response.responses[2]).revision).toBe(4);
    expect(rangeOf(response.responses[4]).kvs[0]).toMatchObject({
      value: bytes('b2'),
      version: 2,
      modRevision: 4,
    });
  });

  it('runs nested transactions, whose compares see the outer writes', () => {
    const store = new KvStateMachine();
    const response = store.txn({
      compare: [],
      success: [
        { put: { key: bytes('a'), value: bytes('1') } },
        {
          txn: {
            compare: [
              { key: bytes('a'), target: 'value', result: 'equal', targetValue: bytes('1') },
            ],
            success: [{ put: { key: bytes('b'), value: bytes('2') } }],
            failure: [{ put: { key: bytes('c'), value: bytes('3') } }],
          },
        },
      ],
      failure: [],
    });
    const nested = response.responses[1];
    expect(nested !== undefined && 'txn' in nested && nested.txn.succeeded).toBe(true);
    expect(nested !== undefined && 'txn' in nested && nested.txn.revision).toBe(2);
    expect(keysOf(store.range({ key: ZERO, rangeEnd: ZERO }).kvs)).toEqual(['a', 'b']);
    expect(store.revision()).toBe(2);
  });

  it('applies write requests through apply()', () => {
    const store = new KvStateMachine();
    expect(store.apply({ put: { key: bytes('a'), value: bytes('1') } })).toEqual({
      put: { revision: 2 },
    });
    expect(store.apply({ txn: { compare: [], success: [], failure: [] } })).toEqual({
      txn: { succeeded: true, responses: [], revision: 2 },
    });
    expect(store.apply({ deleteRange: { key: bytes('a') } })).toEqual({
      deleteRange: { revision: 3, deleted: 1, prevKvs: [] },
    });
  });
});

describe('KvStateMachine revisions inside a transaction', () => {
  it('reports each operation at the revision as of that operation, as etcd 3.4.23 does', () => {
    // Measured against etcd 3.4.23: after `put a 1; put b 1` (revision 3), the txn
    // `get a; put a 2; get a; put c 3` answered 3, 4, 4, 4 inside and 4 outside.
    const store = new KvStateMachine();
    store.put({ key: bytes('a'), value: bytes('1') });
    store.put({ key: bytes('b'), value: bytes('1') });
    const response = store.txn({
      compare: [],
      success: [
        { range: { key: bytes('a') } },
        { put: { key: bytes('a'), value: bytes('2') } },
        { range: { key: bytes('a') } },
        { put: { key: bytes('c'), value: bytes('3') } },
      ],
      failure: [],
    });
    const inner = response.responses.map((operation) =>
      'range' in operation
        ? operation.range.revision
        : 'put' in operation
          ? operation.put.revision
          : -1,
    );
    expect(inner).toEqual([3, 4, 4, 4]);
    expect(response.revision).toBe(4);
    expect(store.revision()).toBe(4);
  });
});
