/**
 * The replicated state machine with etcd v3 KV semantics: an ordered map of keys to values and
 * metadata, and a store revision that each state-changing write request raises by exactly one.
 * It applies committed writes and serves reads; it must stay deterministic (no clock, no
 * randomness, no I/O) so every member reaches the same state from the same log.
 */
import sortedBtree from 'sorted-btree';
import { assertNever } from '../common/index.js';
import { compareKeys, type KeyRange, resolveRange } from './key-range.js';
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
  WriteRequest,
  WriteResponse,
} from './kv-types.js';
import { KvError } from './kv-error.js';
import { decodeSnapshot, encodeSnapshot } from './kv-snapshot.js';
import { CLIENTS_MAX_DEFAULT, type SessionKey, SessionTable } from './session-table.js';
import {
  validateDeleteRange,
  validatePut,
  validateRange,
  validateTxn,
} from './request-validation.js';

/**
 * sorted-btree is CommonJS. Node's ESM loader hands over `module.exports` (the class is its
 * `default`); bundler-style interop (vitest) hands over the class itself. Accept both.
 */
type BTreeClass = typeof sortedBtree.default;
const BTree: BTreeClass =
  'default' in sortedBtree ? sortedBtree.default : (sortedBtree as unknown as BTreeClass);
type KeyTree = InstanceType<typeof BTree<Uint8Array, KeyValue>>;

/** etcd's default limit on operations per transaction branch (`--max-txn-ops`). */
export const TXN_OPS_MAX_DEFAULT = 128;

/** Construction options of {@link KvStateMachine}. */
export interface KvStateMachineOptions {
  /** Most operations (or compares) allowed in one branch of a transaction; default 128. */
  readonly txnOpsMax?: number;
  /** Most clients the exactly-once session table remembers; default {@link CLIENTS_MAX_DEFAULT}. */
  readonly clientsMax?: number;
}

/**
 * The write in progress: the revision its changes get and whether anything changed yet.
 *
 * Each response inside a transaction reports the revision as of that operation, as etcd 3.4 does
 * (measured against `etcd` 3.4.23): the starting revision until the transaction's first change,
 * the new one after it. The outermost response reports the committed revision.
 */
interface WriteContext {
  readonly pendingRevision: number;
  changed: boolean;
}

/** The revision an operation of `context` reports: the new one once anything changed. */
function revisionSoFar(context: WriteContext): number {
  return context.changed ? context.pendingRevision : context.pendingRevision - 1;
}

/**
 * The etcd-compatible key-value state machine. `apply` is for committed log entries only; it
 * validates first, so a request it refuses with a KvError leaves the state untouched. Values
 * returned are shared with the store and must not be mutated by the caller.
 */
export class KvStateMachine {
  private readonly tree: KeyTree;
  private currentRevision: number;
  private readonly txnOpsMax: number;
  private readonly sessions: SessionTable;

  constructor(options: KvStateMachineOptions = {}) {
    this.tree = new BTree<Uint8Array, KeyValue>(undefined, compareKeys);
    // etcd starts at revision 1 for an empty store.
    this.currentRevision = 1;
    this.txnOpsMax = options.txnOpsMax ?? TXN_OPS_MAX_DEFAULT;
    this.sessions = new SessionTable(options.clientsMax ?? CLIENTS_MAX_DEFAULT);
  }

  /** The store revision: 1 when empty, raised by one per state-changing write request. */
  revision(): number {
    return this.currentRevision;
  }

  /**
   * Encodes the whole state (revision and every key with its metadata) deterministically:
   * identical states give identical bytes. Restore it with {@link KvStateMachine.restore}.
   */
  snapshot(): Uint8Array {
    return encodeSnapshot({
      revision: this.currentRevision,
      keyValues: this.tree.valuesArray(),
      sessions: this.sessions.list(),
    });
  }

  /**
   * Builds a state machine from {@link snapshot} bytes; throws a MALFORMED_DATA KvError if they
   * are damaged or of an unknown format version.
   */
  static restore(data: Uint8Array, options: KvStateMachineOptions = {}): KvStateMachine {
    const state = decodeSnapshot(data);
    const machine = new KvStateMachine(options);
    machine.currentRevision = state.revision;
    for (const keyValue of state.keyValues) {
      machine.tree.set(keyValue.key, keyValue);
    }
    for (const session of state.sessions) {
      machine.sessions.record(session);
    }
    return machine;
  }

  /** Number of keys stored. */
  keyCount(): number {
    return this.tree.size;
  }

  /**
   * Applies one committed write request; throws a KvError (changing nothing) if it is invalid.
   * With a `session`, applies it at most once: a retry with the client's latest sequence returns
   * the recorded response without applying, an older sequence is a STALE_SEQUENCE KvError. The
   * recorded response is shared with later retries and must not be mutated.
   */
  apply(request: WriteRequest, session?: SessionKey): WriteResponse {
    if (session === undefined) {
      return this.applyOnce(request);
    }
    const recorded = this.sessions.get(session.clientId);
    if (recorded !== undefined && session.sequence === recorded.sequence) {
      return recorded.response;
    }
    if (recorded !== undefined && session.sequence < recorded.sequence) {
      throw new KvError(
        'STALE_SEQUENCE',
        `raftkv: sequence ${session.sequence} of client '${session.clientId}' is older than its latest ${recorded.sequence}`,
      );
    }
    const response = this.applyOnce(request);
    this.sessions.record({ ...session, response, revision: this.currentRevision });
    return response;
  }

  /** Number of clients the exactly-once session table currently remembers. */
  sessionCount(): number {
    return this.sessions.size;
  }

  private applyOnce(request: WriteRequest): WriteResponse {
    if ('put' in request) {
      return { put: this.put(request.put) };
    }
    if ('deleteRange' in request) {
      return { deleteRange: this.deleteRange(request.deleteRange) };
    }
    return { txn: this.txn(request.txn) };
  }

  /** Applies a put; see {@link apply}. */
  put(request: PutRequest): PutResponse {
    validatePut(request);
    return this.runWrite((context) => this.executePut(request, context));
  }

  /** Applies a delete; see {@link apply}. */
  deleteRange(request: DeleteRangeRequest): DeleteRangeResponse {
    validateDeleteRange(request);
    return this.runWrite((context) => this.executeDeleteRange(request, context));
  }

  /** Applies a transaction; see {@link apply}. */
  txn(request: TxnRequest): TxnResponse {
    validateTxn(request, this.txnOpsMax);
    return this.runWrite((context) => this.executeTxn(request, context));
  }

  /** Serves a read at the current revision; never changes state. */
  range(request: RangeRequest): RangeResponse {
    validateRange(request);
    return this.executeRange(request, this.currentRevision);
  }

  /**
   * Runs a validated write, then commits its revision: the store revision rises by one if
   * anything changed, and the request's response reports the resulting revision.
   */
  private runWrite<Response extends { revision: number }>(
    execute: (context: WriteContext) => Response,
  ): Response {
    const context: WriteContext = { pendingRevision: this.currentRevision + 1, changed: false };
    const response = execute(context);
    if (context.changed) {
      this.currentRevision = context.pendingRevision;
    }
    response.revision = this.currentRevision;
    return response;
  }

  private executePut(request: PutRequest, context: WriteContext): PutResponse {
    const previous = this.tree.get(request.key);
    const key = request.key.slice();
    this.tree.set(key, {
      key,
      value: request.value.slice(),
      createRevision: previous?.createRevision ?? context.pendingRevision,
      modRevision: context.pendingRevision,
      version: (previous?.version ?? 0) + 1,
    });
    context.changed = true;
    const revision = revisionSoFar(context);
    return request.prevKv === true && previous !== undefined
      ? { revision, prevKv: previous }
      : { revision };
  }

  private executeDeleteRange(
    request: DeleteRangeRequest,
    context: WriteContext,
  ): DeleteRangeResponse {
    const doomed = this.collect(resolveRange(request.key, request.rangeEnd));
    for (const keyValue of doomed) {
      this.tree.delete(keyValue.key);
    }
    if (doomed.length > 0) {
      context.changed = true;
    }
    return {
      revision: revisionSoFar(context),
      deleted: doomed.length,
      prevKvs: request.prevKv === true ? doomed : [],
    };
  }

  private executeTxn(request: TxnRequest, context: WriteContext): TxnResponse {
    const succeeded = request.compare.every((compare) => this.compareHolds(compare));
    const operations = succeeded ? request.success : request.failure;
    const responses = operations.map((operation) => this.executeOperation(operation, context));
    const response: TxnResponse = { succeeded, responses, revision: revisionSoFar(context) };
    return response;
  }

  private executeOperation(operation: RequestOp, context: WriteContext): ResponseOp {
    if ('range' in operation) {
      // Reads inside a transaction see its earlier writes, as in etcd: they run on the live tree.
      return { range: this.executeRange(operation.range, revisionSoFar(context)) };
    }
    if ('put' in operation) {
      return { put: this.executePut(operation.put, context) };
    }
    if ('deleteRange' in operation) {
      return { deleteRange: this.executeDeleteRange(operation.deleteRange, context) };
    }
    return { txn: this.executeTxn(operation.txn, context) };
  }

  private executeRange(request: RangeRequest, revision: number): RangeResponse {
    const matching = this.collect(resolveRange(request.key, request.rangeEnd));
    const count = matching.length;
    if (request.countOnly === true) {
      return { kvs: [], more: false, count, revision };
    }
    const limit = request.limit ?? 0;
    const limited = limit > 0 && count > limit ? matching.slice(0, limit) : matching;
    const kvs =
      request.keysOnly === true
        ? limited.map((keyValue) => ({ ...keyValue, value: new Uint8Array(0) }))
        : limited;
    return { kvs, more: limited.length < count, count, revision };
  }

  /** The stored entries in `range`, in key order. */
  private collect(range: KeyRange): KeyValue[] {
    if (range.kind === 'single') {
      const found = this.tree.get(range.key);
      return found === undefined ? [] : [found];
    }
    const result: KeyValue[] = [];
    for (const [key, keyValue] of this.tree.entries(range.start)) {
      if (range.end !== undefined && compareKeys(key, range.end) >= 0) {
        break;
      }
      result.push(keyValue);
    }
    return result;
  }

  private compareHolds(compare: Compare): boolean {
    const matching = this.collect(resolveRange(compare.key, compare.rangeEnd));
    if (matching.length === 0) {
      // etcd compares a missing key as all-zero metadata; a value compare on it is false.
      return compareMissing(compare);
    }
    return matching.every((keyValue) => compareKeyValue(compare, keyValue));
  }
}

function compareMissing(compare: Compare): boolean {
  return compare.target === 'value'
    ? false
    : relationHolds(compare.result, Math.sign(0 - compare.targetValue));
}

function compareKeyValue(compare: Compare, keyValue: KeyValue): boolean {
  switch (compare.target) {
    case 'value':
      return relationHolds(
        compare.result,
        Math.sign(compareKeys(keyValue.value, compare.targetValue)),
      );
    case 'version':
      return relationHolds(compare.result, Math.sign(keyValue.version - compare.targetValue));
    case 'createRevision':
      return relationHolds(
        compare.result,
        Math.sign(keyValue.createRevision - compare.targetValue),
      );
    case 'modRevision':
      return relationHolds(compare.result, Math.sign(keyValue.modRevision - compare.targetValue));
    case 'lease':
      // Refused by validation before any transaction runs.
      return false;
    default:
      return assertNever(compare, 'compare target');
  }
}

/** Whether `result` holds given the sign of (stored - target). */
function relationHolds(result: Compare['result'], sign: number): boolean {
  switch (result) {
    case 'equal':
      return sign === 0;
    case 'notEqual':
      return sign !== 0;
    case 'greater':
      return sign > 0;
    case 'less':
      return sign < 0;
    default:
      return assertNever(result, 'compare result');
  }
}
