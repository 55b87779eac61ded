/**
 * Translation between the etcd v3 protobuf messages (src/generated) and the state machine's
 * plain request and response types (src/kv). Fields raftkv does not implement are refused here
 * with an UNIMPLEMENTED ServerError naming the field, never ignored. No I/O, no Raft.
 */
import type { KeyValue as StoredKeyValue } from '../kv/index.js';
import type * as kv from '../kv/index.js';
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type Compare as ProtoCompare,
  type DeleteRangeRequest as ProtoDeleteRangeRequest,
  type DeleteRangeResponse as ProtoDeleteRangeResponse,
  type PutRequest as ProtoPutRequest,
  type PutResponse as ProtoPutResponse,
  type RangeRequest as ProtoRangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeResponse as ProtoRangeResponse,
  type RequestOp as ProtoRequestOp,
  type ResponseHeader,
  type ResponseOp as ProtoResponseOp,
  type TxnRequest as ProtoTxnRequest,
  type TxnResponse as ProtoTxnResponse,
} from '../generated/etcdserverpb/rpc.js';
import type { KeyValue as ProtoKeyValue } from '../generated/mvccpb/kv.js';
import { ServerError } from './server-error.js';

/** Fills the revision of a header; the other fields come from the member. */
export type HeaderFor = (revision: number) => ResponseHeader;

function unimplemented(field: string): ServerError {
  return new ServerError(
    'UNIMPLEMENTED',
    `raftkv: field '${field}' is not implemented (leave it unset)`,
  );
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

const SORT_ORDERS: Readonly<Record<number, kv.SortOrder>> = {
  [RangeRequest_SortOrder.NONE]: 'none',
  [RangeRequest_SortOrder.ASCEND]: 'ascend',
  [RangeRequest_SortOrder.DESCEND]: 'descend',
};
const SORT_TARGETS: Readonly<Record<number, kv.SortTarget>> = {
  [RangeRequest_SortTarget.KEY]: 'key',
  [RangeRequest_SortTarget.VERSION]: 'version',
  [RangeRequest_SortTarget.CREATE]: 'create',
  [RangeRequest_SortTarget.MOD]: 'mod',
  [RangeRequest_SortTarget.VALUE]: 'value',
};
const COMPARE_RESULTS: Readonly<Record<number, kv.CompareResult>> = {
  [Compare_CompareResult.EQUAL]: 'equal',
  [Compare_CompareResult.GREATER]: 'greater',
  [Compare_CompareResult.LESS]: 'less',
  [Compare_CompareResult.NOT_EQUAL]: 'notEqual',
};

/** A protobuf RangeRequest as the state machine's; refuses unimplemented filters. */
export function toRangeRequest(request: ProtoRangeRequest): kv.RangeRequest {
  if (request.minModRevision !== 0) throw unimplemented('min_mod_revision');
  if (request.maxModRevision !== 0) throw unimplemented('max_mod_revision');
  if (request.minCreateRevision !== 0) throw unimplemented('min_create_revision');
  if (request.maxCreateRevision !== 0) throw unimplemented('max_create_revision');
  if (request.revision !== 0) throw unimplemented('revision');
  const sortOrder = SORT_ORDERS[request.sortOrder];
  const sortTarget = SORT_TARGETS[request.sortTarget];
  if (sortOrder === undefined) throw unimplemented('sort_order');
  if (sortTarget === undefined) throw unimplemented('sort_target');
  if (sortOrder === 'descend') throw unimplemented('sort_order');
  if (sortTarget !== 'key') throw unimplemented('sort_target');
  return {
    key: request.key,
    rangeEnd: request.rangeEnd,
    // etcd treats a negative limit as no limit (`etcdctl get --limit=-1`).
    limit: Math.max(0, request.limit),
    countOnly: request.countOnly,
    keysOnly: request.keysOnly,
    serializable: request.serializable,
    sortOrder,
    sortTarget,
  };
}

/** A protobuf PutRequest as the state machine's; refuses leases. */
export function toPutRequest(request: ProtoPutRequest): kv.PutRequest {
  if (request.lease !== 0) throw unimplemented('lease');
  if (request.ignoreValue) throw unimplemented('ignore_value');
  if (request.ignoreLease) throw unimplemented('ignore_lease');
  return { key: request.key, value: request.value, prevKv: request.prevKv };
}

/** A protobuf DeleteRangeRequest as the state machine's. */
export function toDeleteRangeRequest(request: ProtoDeleteRangeRequest): kv.DeleteRangeRequest {
  return { key: request.key, rangeEnd: request.rangeEnd, prevKv: request.prevKv };
}

function toCompare(compare: ProtoCompare): kv.Compare {
  const result = COMPARE_RESULTS[compare.result];
  if (result === undefined) throw unimplemented('compare.result');
  const union = compare.targetUnion;
  const base = { key: compare.key, rangeEnd: compare.rangeEnd, result };
  const numberOf = (expected: string): number =>
    union === undefined ? 0 : union.$case === expected ? (union.value as number) : 0;
  switch (compare.target) {
    case Compare_CompareTarget.VERSION:
      return { ...base, target: 'version', targetValue: numberOf('version') };
    case Compare_CompareTarget.CREATE:
      return { ...base, target: 'createRevision', targetValue: numberOf('createRevision') };
    case Compare_CompareTarget.MOD:
      return { ...base, target: 'modRevision', targetValue: numberOf('modRevision') };
    case Compare_CompareTarget.VALUE: {
      const value = union?.$case === 'value' ? union.value : new Uint8Array(0);
      return { ...base, target: 'value', targetValue: value };
    }
    case Compare_CompareTarget.LEASE:
      throw unimplemented('compare.lease');
    default:
      throw unimplemented('compare.target');
  }
}

function toRequestOp(operation: ProtoRequestOp): kv.RequestOp {
  const request = operation.request;
  if (request === undefined) {
    throw new ServerError('INVALID_ARGUMENT', 'raftkv: a txn operation has no request set');
  }
  switch (request.$case) {
    case 'requestRange':
      return { range: toRangeRequest(request.value) };
    case 'requestPut':
      return { put: toPutRequest(request.value) };
    case 'requestDeleteRange':
      return { deleteRange: toDeleteRangeRequest(request.value) };
    case 'requestTxn':
      return { txn: toTxnRequest(request.value) };
  }
}

/** A protobuf TxnRequest as the state machine's, nested transactions included. */
export function toTxnRequest(request: ProtoTxnRequest): kv.TxnRequest {
  return {
    compare: request.compare.map(toCompare),
    success: request.success.map(toRequestOp),
    failure: request.failure.map(toRequestOp),
  };
}

/** Whether a transaction only reads (no put or delete in any branch, nested included). */
export function isReadOnlyTxn(request: kv.TxnRequest): boolean {
  const isReadOnly = (operations: readonly kv.RequestOp[]): boolean =>
    operations.every(
      (operation) => 'range' in operation || ('txn' in operation && isReadOnlyTxn(operation.txn)),
    );
  return isReadOnly(request.success) && isReadOnly(request.failure);
}

/** A stored key-value as protobuf, without copying its bytes. */
export function toProtoKeyValue(keyValue: StoredKeyValue, isKeyOnly = false): ProtoKeyValue {
  return {
    key: asBuffer(keyValue.key),
    createRevision: keyValue.createRevision,
    modRevision: keyValue.modRevision,
    version: keyValue.version,
    value: isKeyOnly ? EMPTY_BUFFER : asBuffer(keyValue.value),
    lease: 0,
  };
}

const EMPTY_BUFFER = Buffer.alloc(0);

/** A range result as protobuf. */
export function toProtoRangeResponse(
  response: kv.RangeResponse,
  header: HeaderFor,
): ProtoRangeResponse {
  return {
    header: header(response.revision),
    kvs: response.kvs.map((keyValue) => toProtoKeyValue(keyValue)),
    more: response.more,
    count: response.count,
  };
}

/** A put result as protobuf. */
export function toProtoPutResponse(response: kv.PutResponse, header: HeaderFor): ProtoPutResponse {
  return {
    header: header(response.revision),
    prevKv: response.prevKv === undefined ? undefined : toProtoKeyValue(response.prevKv),
  };
}

/** A delete result as protobuf. */
export function toProtoDeleteRangeResponse(
  response: kv.DeleteRangeResponse,
  header: HeaderFor,
): ProtoDeleteRangeResponse {
  return {
    header: header(response.revision),
    deleted: response.deleted,
    prevKvs: response.prevKvs.map((keyValue) => toProtoKeyValue(keyValue)),
  };
}

/** A transaction result as protobuf; inner headers carry each operation's own revision. */
export function toProtoTxnResponse(response: kv.TxnResponse, header: HeaderFor): ProtoTxnResponse {
  return {
    header: header(response.revision),
    succeeded: response.succeeded,
    responses: response.responses.map((operation) => toProtoResponseOp(operation, header)),
  };
}

function toProtoResponseOp(operation: kv.ResponseOp, header: HeaderFor): ProtoResponseOp {
  if ('range' in operation) {
    return {
      response: { $case: 'responseRange', value: toProtoRangeResponse(operation.range, header) },
    };
  }
  if ('put' in operation) {
    return { response: { $case: 'responsePut', value: toProtoPutResponse(operation.put, header) } };
  }
  if ('deleteRange' in operation) {
    return {
      response: {
        $case: 'responseDeleteRange',
        value: toProtoDeleteRangeResponse(operation.deleteRange, header),
      },
    };
  }
  return { response: { $case: 'responseTxn', value: toProtoTxnResponse(operation.txn, header) } };
}
