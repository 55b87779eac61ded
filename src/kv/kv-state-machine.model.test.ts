/**
 * Property test: KvStateMachine against a naive reference model (a plain array of entries kept
 * sorted by key bytes) over random sequences of put, delete, range and transaction on a small key
 * alphabet. Every response and the final state must agree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvError } from './kv-error.js';
import { KvStateMachine } from './kv-state-machine.js';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './kv-types.js';

/** Bytewise order written independently of the store's compareKeys. */
function modelCompare(left: Uint8Array, right: Uint8Array): number {
  const leftText = [...left].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  const rightText = [...right].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return leftText < rightText ? -1 : leftText > rightText ? 1 : 0;
}

function inRange(key: Uint8Array, start: Uint8Array, rangeEnd: Uint8Array | undefined): boolean {
  if (rangeEnd === undefined || rangeEnd.length === 0) {
    return modelCompare(key, start) === 0;
  }
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) {
    return modelCompare(key, start) >= 0;
  }
  return modelCompare(key, start) >= 0 && modelCompare(key, rangeEnd) < 0;
}

/** The reference: an array sorted by key, rebuilt on every write. */
class ReferenceModel {
  entries: KeyValue[] = [];
  revision = 1;

  matching(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyValue[] {
    return this.entries.filter((entry) => inRange(entry.key, key, rangeEnd));
  }

  range(request: RangeRequest, revision: number): RangeResponse {
    const all = this.matching(request.key, request.rangeEnd);
    const limit = request.limit ?? 0;
    const kvs = request.countOnly === true ? [] : limit > 0 ? all.slice(0, limit) : all;
    return {
      kvs: request.keysOnly === true ? kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) })) : kvs,
      more: request.countOnly !== true && kvs.length < all.length,
      count: all.length,
      revision,
    };
  }

  put(request: PutRequest, revision: number): PutResponse {
    const previous = this.entries.find((entry) => modelCompare(entry.key, request.key) === 0);
    const others = this.entries.filter((entry) => modelCompare(entry.key, request.key) !== 0);
    others.push({
      key: request.key,
      value: request.value,
      createRevision: previous?.createRevision ?? revision,
      modRevision: revision,
      version: (previous?.version ?? 0) + 1,
    });
    this.entries = others.sort((left, right) => modelCompare(left.key, right.key));
    return request.prevKv === true && previous !== undefined
      ? { revision, prevKv: previous }
      : { revision };
  }

  deleteRange(request: DeleteRangeRequest, revision: number): DeleteRangeResponse {
    const doomed = this.matching(request.key, request.rangeEnd);
    this.entries = this.entries.filter((entry) => !doomed.includes(entry));
    return { revision, deleted: doomed.length, prevKvs: request.prevKv === true ? doomed : [] };
  }

  compareHolds(compare: Compare): boolean {
    const all = this.matching(compare.key, compare.rangeEnd);
    const holds = (entry: KeyValue | undefined): boolean => {
      let difference: number;
      if (compare.target === 'value') {
        if (entry === undefined) {
          return false;
        }
        difference = modelCompare(entry.value, compare.targetValue);
      } else if (compare.target === 'lease') {
        throw new Error('not generated');
      } else {
        difference = (entry?.[compare.target] ?? 0) - compare.targetValue;
      }
      return compare.result === 'equal'
        ? difference === 0
        : compare.result === 'notEqual'
          ? difference !== 0
          : compare.result === 'greater'
            ? difference > 0
            : difference < 0;
    };
    return all.length === 0 ? holds(undefined) : all.every(holds);
  }

  /** Whether a flat branch puts a key twice or puts a key it deletes. */
  static hasDuplicate(operations: readonly RequestOp[]): boolean {
    const puts = operations.flatMap((operation) => ('put' in operation ? [operation.put.key] : []));
    const deletes = operations.flatMap((operation) =>
      'deleteRange' in operation ? [operation.deleteRange] : [],
    );
    return puts.some(
      (key, index) =>
        puts.some((other, otherIndex) => otherIndex < index && modelCompare(key, other) === 0) ||
        deletes.some((request) => inRange(key, request.key, request.rangeEnd)),
    );
  }

  /** Applies a flat txn. */
  txn(request: TxnRequest): TxnResponse {
    const succeeded = request.compare.every((compare) => this.compareHolds(compare));
    const pending = this.revision + 1;
    let changed = false;
    const responses: ResponseOp[] = (succeeded ? request.success : request.failure).map(
      (operation): ResponseOp => {
        // etcd 3.4 reports, per operation, the revision as of that operation: the starting one
        // until the transaction's first change, the new one after it.
        const soFar = (): number => (changed ? pending : pending - 1);
        if ('put' in operation) {
          changed = true;
          return { put: this.put(operation.put, pending) };
        }
        if ('deleteRange' in operation) {
          const response = this.deleteRange(operation.deleteRange, pending);
          changed ||= response.deleted > 0;
          response.revision = soFar();
          return { deleteRange: response };
        }
        if ('range' in operation) {
          return { range: this.range(operation.range, soFar()) };
        }
        throw new Error('nested transactions are not generated');
      },
    );
    if (changed) {
      this.revision = pending;
    }
    return { succeeded, responses, revision: this.revision };
  }
}

const KEY_ALPHABET = [[0x00], [0x01], [0x01, 0x00], [0x01, 0xff], [0x7f], [0x80], [0xff]];
const keyArbitrary = fc.constantFrom(...KEY_ALPHABET).map((key) => new Uint8Array(key));
const rangeEndArbitrary = fc.option(
  fc.oneof(fc.constant(new Uint8Array(0)), fc.constant(new Uint8Array([0])), keyArbitrary),
  { nil: undefined },
);
const valueArbitrary = fc.uint8Array({ maxLength: 3 });

const rangeArbitrary = fc.record(
  {
    key: keyArbitrary,
    rangeEnd: rangeEndArbitrary,
    limit: fc.integer({ min: 0, max: 4 }),
    countOnly: fc.boolean(),
    keysOnly: fc.boolean(),
  },
  { requiredKeys: ['key'] },
) as fc.Arbitrary<RangeRequest>;
const putArbitrary = fc.record(
  { key: keyArbitrary, value: valueArbitrary, prevKv: fc.boolean() },
  { requiredKeys: ['key', 'value'] },
) as fc.Arbitrary<PutRequest>;
const deleteArbitrary = fc.record(
  { key: keyArbitrary, rangeEnd: rangeEndArbitrary, prevKv: fc.boolean() },
  { requiredKeys: ['key'] },
) as fc.Arbitrary<DeleteRangeRequest>;
const compareArbitrary: fc.Arbitrary<Compare> = fc.oneof(
  fc.record({
    key: keyArbitrary,
    target: fc.constantFrom('version' as const, 'createRevision' as const, 'modRevision' as const),
    result: fc.constantFrom(
      'equal' as const,
      'greater' as const,
      'less' as const,
      'notEqual' as const,
    ),
    targetValue: fc.integer({ min: 0, max: 6 }),
  }),
  fc.record({
    key: keyArbitrary,
    rangeEnd: keyArbitrary,
    target: fc.constant('value' as const),
    result: fc.constantFrom(
      'equal' as const,
      'greater' as const,
      'less' as const,
      'notEqual' as const,
    ),
    targetValue: valueArbitrary,
  }),
);
const operationArbitrary: fc.Arbitrary<RequestOp> = fc.oneof(
  rangeArbitrary.map((range) => ({ range })),
  putArbitrary.map((put) => ({ put })),
  deleteArbitrary.map((deleteRange) => ({ deleteRange })),
);
const txnArbitrary: fc.Arbitrary<TxnRequest> = fc.record({
  compare: fc.array(compareArbitrary, { maxLength: 2 }),
  success: fc.array(operationArbitrary, { maxLength: 4 }),
  failure: fc.array(operationArbitrary, { maxLength: 4 }),
});
const stepArbitrary = fc.oneof(
  rangeArbitrary.map((range) => ({ range })),
  putArbitrary.map((put) => ({ put })),
  deleteArbitrary.map((deleteRange) => ({ deleteRange })),
  txnArbitrary.map((txn) => ({ txn })),
);

describe('KvStateMachine against a reference model', () => {
  it('agrees on every response and on the final state', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 40 }), (steps) => {
        const store = new KvStateMachine();
        const model = new ReferenceModel();
        for (const step of steps) {
          if ('range' in step) {
            expect(store.range(step.range)).toEqual(model.range(step.range, model.revision));
          } else if ('put' in step) {
            model.revision += 1;
            expect(store.put(step.put)).toEqual(model.put(step.put, model.revision));
          } else if ('deleteRange' in step) {
            const response = model.deleteRange(step.deleteRange, model.revision + 1);
            if (response.deleted > 0) {
              model.revision += 1;
            }
            response.revision = model.revision;
            expect(store.deleteRange(step.deleteRange)).toEqual(response);
          } else if (
            ReferenceModel.hasDuplicate(step.txn.success) ||
            ReferenceModel.hasDuplicate(step.txn.failure)
          ) {
            expect(() => store.txn(step.txn)).toThrow(KvError);
          } else {
            expect(store.txn(step.txn)).toEqual(model.txn(step.txn));
          }
          expect(store.revision()).toBe(model.revision);
        }
        expect(store.keyCount()).toBe(model.entries.length);
        expect(
          store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }).kvs,
        ).toEqual(model.entries);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
