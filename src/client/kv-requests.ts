/**
 * Key-value requests as wire messages, built from the client's options: ranges, puts, deletes
 * and transactions (compares and nested operations). Checks what the server cannot (exclusive
 * options, a negative limit) and throws a ClientError (INVALID_ARGUMENT) before anything is
 * sent. Pure.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../generated/etcdserverpb/rpc.js';
import { ClientError } from './client-error.js';
import type {
  Bytes,
  CompareResult,
  DeleteOptions,
  GetOptions,
  PutOptions,
  TxnCompare,
  TxnOperation,
  TxnRequest as ClientTxnRequest,
} from './client-types.js';
import { keyRange, toBuffer } from './key-bytes.js';

export function rangeRequest(key: Bytes, options: GetOptions = {}): RangeRequest {
  const limit = options.limit ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new ClientError(GrpcStatus.INVALID_ARGUMENT, `limit ${limit} is not a whole number ≥ 0`);
  }
  return RangeRequest.fromPartial({
    ...keyRange(key, options),
    limit,
    serializable: options.serializable ?? false,
    keysOnly: options.keysOnly ?? false,
    countOnly: options.countOnly ?? false,
  });
}

export function putRequest(key: Bytes, value: Bytes, options: PutOptions = {}): PutRequest {
  return PutRequest.fromPartial({
    key: toBuffer(key),
    value: toBuffer(value),
    prevKv: options.prevKv ?? false,
  });
}

export function deleteRangeRequest(key: Bytes, options: DeleteOptions = {}): DeleteRangeRequest {
  return DeleteRangeRequest.fromPartial({
    ...keyRange(key, options),
    prevKv: options.prevKv ?? false,
  });
}

const COMPARE_RESULTS: Readonly<Record<CompareResult, Compare_CompareResult>> = {
  '=': Compare_CompareResult.EQUAL,
  '!=': Compare_CompareResult.NOT_EQUAL,
  '<': Compare_CompareResult.LESS,
  '>': Compare_CompareResult.GREATER,
};

function compare(condition: TxnCompare): Compare {
  const common = { key: toBuffer(condition.key), result: COMPARE_RESULTS[condition.result] };
  switch (condition.target) {
    case 'value':
      return Compare.fromPartial({
        ...common,
        target: Compare_CompareTarget.VALUE,
        targetUnion: { $case: 'value', value: toBuffer(condition.value) },
      });
    case 'version':
      return Compare.fromPartial({
        ...common,
        target: Compare_CompareTarget.VERSION,
        targetUnion: { $case: 'version', value: condition.value },
      });
    case 'createRevision':
      return Compare.fromPartial({
        ...common,
        target: Compare_CompareTarget.CREATE,
        targetUnion: { $case: 'createRevision', value: condition.value },
      });
    case 'modRevision':
      return Compare.fromPartial({
        ...common,
        target: Compare_CompareTarget.MOD,
        targetUnion: { $case: 'modRevision', value: condition.value },
      });
  }
}

function requestOp(operation: TxnOperation): RequestOp {
  switch (operation.type) {
    case 'get':
      return RequestOp.fromPartial({
        request: { $case: 'requestRange', value: rangeRequest(operation.key, operation.options) },
      });
    case 'put':
      return RequestOp.fromPartial({
        request: {
          $case: 'requestPut',
          value: putRequest(operation.key, operation.value, operation.options),
        },
      });
    case 'delete':
      return RequestOp.fromPartial({
        request: {
          $case: 'requestDeleteRange',
          value: deleteRangeRequest(operation.key, operation.options),
        },
      });
  }
}

export function txnRequest(request: ClientTxnRequest): TxnRequest {
  return TxnRequest.fromPartial({
    compare: request.compare.map(compare),
    success: request.success.map(requestOp),
    failure: request.failure.map(requestOp),
  });
}
