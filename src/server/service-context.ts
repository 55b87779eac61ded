/**
 * What the gRPC services share: the member's identity, its loop and state, request limits, and
 * the `unary` wrapper that turns a promise-returning handler into a grpc-js handler with one
 * error mapping, metrics and logging for every method.
 */
import { type Metadata, type sendUnaryData, type ServerUnaryCall, status } from '@grpc/grpc-js';

import type { Logger, NodeId } from '../common/index.js';
import type { ResponseHeader } from '../generated/etcdserverpb/rpc.js';
import { CLIENT_ID_BYTES_MAX, type ClientSession } from './entry-envelope.js';
import { toGrpcFailure } from './grpc-status-mapping.js';
import type { RaftLoop } from './raft-loop.js';
import type { ReplicatedState } from './replicated-state.js';
import { ServerError } from './server-error.js';

/** Size and count limits on client requests (etcd-like defaults come from the node config). */
export interface RequestLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly requestBytesMax: number;
  readonly txnOpsMax: number;
}

/** Called once per finished client call, for metrics. */
export type RequestObserver = (method: string, code: string, seconds: number) => void;

/** The member as its services see it. */
export interface ServiceContext {
  readonly selfId: NodeId;
  readonly clusterId: number;
  readonly loop: RaftLoop;
  readonly state: ReplicatedState;
  readonly limits: RequestLimits;
  readonly logger: Logger;
  readonly observeRequest: RequestObserver;
  /** How long membership and leadership calls wait for the cluster to settle. */
  readonly requestTimeoutMs: number;
  /** The client address (`host:port`) of the current leader, if known and not this member. */
  readonly leaderClientAddress: () => string | undefined;
}

/** The response header of this member at `revision`. */
export function responseHeader(context: ServiceContext, revision: number): ResponseHeader {
  return {
    clusterId: context.clusterId,
    memberId: context.selfId,
    revision,
    raftTerm: context.loop.status().term,
  };
}

const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(status)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value as number, name]),
);

/** Wraps a handler: errors mapped to etcd's statuses, every call timed and counted. */
export function unary<Request, Response>(
  context: ServiceContext,
  method: string,
  handler: (request: Request, metadata: Metadata) => Promise<Response>,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) => {
    const started = performance.now();
    let promise: Promise<Response>;
    try {
      promise = handler(call.request, call.metadata);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (response) => {
        context.observeRequest(method, 'OK', (performance.now() - started) / 1000);
        callback(null, response);
      },
      (error: unknown) => {
        const failure = toGrpcFailure(error);
        if (!failure.isExpected) {
          context.logger.error({ method, err: error }, 'request failed with an internal error');
        }
        const codeName = STATUS_NAMES[failure.code] ?? String(failure.code);
        context.observeRequest(method, codeName, (performance.now() - started) / 1000);
        callback({ code: failure.code, details: failure.details });
      },
    );
  };
}

/**
 * The exactly-once session of a write, from the `raftkv-client-id` and `raftkv-sequence`
 * metadata (DESIGN.md §6). Both or neither must be present.
 */
export function sessionFromMetadata(metadata: Metadata): ClientSession | undefined {
  const clientIds = metadata.get('raftkv-client-id');
  const sequences = metadata.get('raftkv-sequence');
  if (clientIds.length === 0 && sequences.length === 0) return undefined;
  const clientId = clientIds[0];
  const sequenceText = sequences[0];
  if (typeof clientId !== 'string' || typeof sequenceText !== 'string') {
    throw new ServerError(
      'INVALID_ARGUMENT',
      'raftkv: metadata raftkv-client-id and raftkv-sequence must be sent together, as text',
    );
  }
  if (clientId.length === 0 || Buffer.byteLength(clientId) > CLIENT_ID_BYTES_MAX) {
    throw new ServerError(
      'INVALID_ARGUMENT',
      `raftkv: metadata raftkv-client-id must be 1 to ${CLIENT_ID_BYTES_MAX} bytes`,
    );
  }
  const sequence = Number(sequenceText);
  if (!/^[0-9]+$/.test(sequenceText) || !Number.isSafeInteger(sequence) || sequence < 1) {
    throw new ServerError(
      'INVALID_ARGUMENT',
      'raftkv: metadata raftkv-sequence must be a positive integer',
    );
  }
  return { clientId, sequence };
}
