/**
 * Checks a request the way etcd does before it is applied, so that a refused request changes
 * nothing: empty keys, unsupported fields, the operations-per-transaction limit, and keys a
 * transaction branch writes twice. Pure functions over the request; no store access.
 */
import { KvError, unsupportedField } from './kv-error.js';
import { compareKeys, type KeyRange, rangeContains, resolveRange } from './key-range.js';
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from './kv-types.js';

function requireKey(key: Uint8Array): void {
  if (key.length === 0) {
    throw new KvError('EMPTY_KEY', 'etcdserver: key is not provided');
  }
}

/** Throws a {@link KvError} unless `request` is a range raftkv can serve. */
export function validateRange(request: RangeRequest): void {
  requireKey(request.key);
  if (request.revision !== undefined && request.revision !== 0) {
    throw unsupportedField('revision');
  }
  if (
    request.sortOrder !== undefined &&
    request.sortOrder !== 'none' &&
    request.sortOrder !== 'ascend'
  ) {
    throw unsupportedField('sortOrder');
  }
  if (request.sortTarget !== undefined && request.sortTarget !== 'key') {
    throw unsupportedField('sortTarget');
  }
}

/** Throws a {@link KvError} unless `request` is a put raftkv can apply. */
export function validatePut(request: PutRequest): void {
  requireKey(request.key);
  if (request.lease !== undefined && request.lease !== 0) {
    throw unsupportedField('lease');
  }
  if (request.ignoreValue === true) {
    throw unsupportedField('ignoreValue');
  }
  if (request.ignoreLease === true) {
    throw unsupportedField('ignoreLease');
  }
}

/** Throws a {@link KvError} unless `request` is a delete raftkv can apply. */
export function validateDeleteRange(request: DeleteRangeRequest): void {
  requireKey(request.key);
}

function validateCompare(compare: Compare): void {
  requireKey(compare.key);
  if (compare.target === 'lease') {
    throw unsupportedField('compare.target');
  }
}

/** The keys a transaction branch puts and the ranges it deletes, nested transactions included. */
interface BranchWrites {
  readonly puts: Uint8Array[];
  readonly deletes: KeyRange[];
}

/**
 * Throws a {@link KvError} unless `request` is a transaction raftkv can apply: every operation
 * valid, at most `operationsMax` operations per branch of each (nested) transaction, and no branch
 * that puts a key twice or puts a key it also deletes.
 */
export function validateTxn(request: TxnRequest, operationsMax: number): void {
  collectTxnWrites(request, operationsMax);
}

function collectTxnWrites(request: TxnRequest, operationsMax: number): BranchWrites {
  const operationCount = Math.max(
    request.compare.length,
    request.success.length,
    request.failure.length,
  );
  if (operationCount > operationsMax) {
    throw new KvError(
      'TOO_MANY_OPERATIONS',
      `etcdserver: too many operations in txn request (limit txnOpsMax = ${operationsMax})`,
    );
  }
  for (const compare of request.compare) {
    validateCompare(compare);
  }
  const success = collectBranchWrites(request.success, operationsMax);
  const failure = collectBranchWrites(request.failure, operationsMax);
  // Only one branch runs, so the two may put the same key; the parent sees the union, once.
  const failureOnly = failure.puts.filter(
    (key) => !success.puts.some((existing) => compareKeys(existing, key) === 0),
  );
  return {
    puts: [...success.puts, ...failureOnly],
    deletes: [...success.deletes, ...failure.deletes],
  };
}

function collectBranchWrites(
  operations: readonly RequestOp[],
  operationsMax: number,
): BranchWrites {
  const puts: Uint8Array[] = [];
  const deletes: KeyRange[] = [];
  const addPut = (key: Uint8Array): void => {
    if (puts.some((existing) => compareKeys(existing, key) === 0)) {
      throw duplicateKey();
    }
    puts.push(key);
  };
  for (const operation of operations) {
    if ('range' in operation) {
      validateRange(operation.range);
    } else if ('put' in operation) {
      validatePut(operation.put);
      addPut(operation.put.key);
    } else if ('deleteRange' in operation) {
      validateDeleteRange(operation.deleteRange);
      deletes.push(resolveRange(operation.deleteRange.key, operation.deleteRange.rangeEnd));
    } else {
      const nested = collectTxnWrites(operation.txn, operationsMax);
      nested.puts.forEach(addPut);
      deletes.push(...nested.deletes);
    }
  }
  if (puts.some((key) => deletes.some((range) => rangeContains(range, key)))) {
    throw duplicateKey();
  }
  return { puts, deletes };
}

function duplicateKey(): KvError {
  return new KvError('DUPLICATE_KEY', 'etcdserver: duplicate key given in txn request');
}
