/**
 * The etcd `KV` gRPC service of a member. Writes are proposed through the loop from any member
 * (a follower's core forwards them to the leader) and answered when applied here. Reads are
 * linearizable by default (a ReadIndex round confirmed by the leader, then served from the local
 * state machine once it caught up, on any member) and served locally when `serializable` is set.
 * Request limits are checked before anything is proposed.
 */
import type { Metadata } from '@grpc/grpc-js';

import {
  encodeCommand,
  type KvError,
  validateDeleteRange,
  validatePut,
  validateTxn,
  type WriteRequest,
  type WriteResponse,
} from '../kv/index.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KVServer,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../generated/etcdserverpb/rpc.js';
import { encodeEnvelope } from './entry-envelope.js';
import {
  isReadOnlyTxn,
  toDeleteRangeRequest,
  toProtoDeleteRangeResponse,
  toProtoPutResponse,
  toProtoRangeResponse,
  toProtoTxnResponse,
  toPutRequest,
  toRangeRequest,
  toTxnRequest,
} from './kv-translation.js';
import { ServerError } from './server-error.js';
import {
  responseHeader,
  type ServiceContext,
  sessionFromMetadata,
  unary,
} from './service-context.js';

/** Builds the KV service handlers. */
export function createKvService(context: ServiceContext): KVServer {
  const header = (revision: number) => responseHeader(context, revision);

  const propose = async (request: WriteRequest, metadata: Metadata): Promise<WriteResponse> => {
    const loop = context.loop;
    const requestNumber = loop.allocateRequestNumber();
    const data = encodeEnvelope({
      kind: 'kvWrite',
      originId: context.selfId,
      requestNumber,
      session: sessionFromMetadata(metadata),
      command: encodeCommand(request),
    });
    if (data.byteLength > context.limits.requestBytesMax) throw requestTooLarge();
    const outcome = await loop.propose(requestNumber, data);
    if (outcome.kind === 'refused') throw outcome.error satisfies KvError;
    if (outcome.response === undefined) throw new Error('kv write applied without a response');
    return outcome.response;
  };

  /** etcd's exact text: etcd clients recognise this error by its message. */
  const requestTooLarge = (): ServerError =>
    new ServerError('REQUEST_TOO_LARGE', 'etcdserver: request is too large');

  const checkKey = (key: Uint8Array): void => {
    if (key.byteLength > context.limits.keyBytesMax) {
      throw new ServerError(
        'KEY_TOO_LARGE',
        `raftkv: key of ${key.byteLength} bytes is over the limit key-bytes-max = ${context.limits.keyBytesMax}`,
      );
    }
  };
  const checkValue = (value: Uint8Array): void => {
    if (value.byteLength > context.limits.valueBytesMax) {
      throw new ServerError(
        'VALUE_TOO_LARGE',
        `raftkv: value of ${value.byteLength} bytes is over the limit value-bytes-max = ${context.limits.valueBytesMax}`,
      );
    }
  };

  return {
    range: unary(
      context,
      'etcdserverpb.KV/Range',
      async (request: RangeRequest): Promise<RangeResponse> => {
        const rangeRequest = toRangeRequest(request);
        if (!request.serializable) await context.loop.readBarrier();
        return toProtoRangeResponse(context.state.kv.range(rangeRequest), header);
      },
    ),

    put: unary(
      context,
      'etcdserverpb.KV/Put',
      async (request: PutRequest, metadata): Promise<PutResponse> => {
        const putRequest = toPutRequest(request);
        // The whole request first, as etcd checks it (--request-bytes-max), then raftkv's own
        // key and value limits, which are named in their messages.
        const requestBytes = putRequest.key.byteLength + putRequest.value.byteLength;
        if (requestBytes > context.limits.requestBytesMax) throw requestTooLarge();
        checkKey(putRequest.key);
        checkValue(putRequest.value);
        validatePut(putRequest);
        const response = await propose({ put: putRequest }, metadata);
        if (!('put' in response)) throw new Error('put answered with another response');
        return toProtoPutResponse(response.put, header);
      },
    ),

    deleteRange: unary(
      context,
      'etcdserverpb.KV/DeleteRange',
      async (request: DeleteRangeRequest, metadata): Promise<DeleteRangeResponse> => {
        const deleteRequest = toDeleteRangeRequest(request);
        checkKey(deleteRequest.key);
        validateDeleteRange(deleteRequest);
        const response = await propose({ deleteRange: deleteRequest }, metadata);
        if (!('deleteRange' in response)) throw new Error('delete answered with another response');
        return toProtoDeleteRangeResponse(response.deleteRange, header);
      },
    ),

    txn: unary(
      context,
      'etcdserverpb.KV/Txn',
      async (request: TxnRequest, metadata): Promise<TxnResponse> => {
        const txnRequest = toTxnRequest(request);
        validateTxn(txnRequest, context.limits.txnOpsMax);
        if (isReadOnlyTxn(txnRequest)) {
          // A transaction that only reads is served like a linearizable read, without the log.
          await context.loop.readBarrier();
          return toProtoTxnResponse(context.state.kv.txn(txnRequest), header);
        }
        const response = await propose({ txn: txnRequest }, metadata);
        if (!('txn' in response)) throw new Error('txn answered with another response');
        return toProtoTxnResponse(response.txn, header);
      },
    ),

    compact: unary(
      context,
      'etcdserverpb.KV/Compact',
      (request: CompactionRequest): Promise<CompactionResponse> => {
        // raftkv keeps no history (every read is at the current revision), so there is nothing
        // to compact; saying so is better than pretending to have compacted.
        void request;
        return Promise.reject(
          new ServerError(
            'UNIMPLEMENTED',
            "raftkv: field 'revision' of Compact is not implemented: raftkv keeps no history to compact",
          ),
        );
      },
    ),
  };
}
