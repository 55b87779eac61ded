/**
 * The one place where an error becomes what a gRPC client sees: status code and message, chosen
 * to match etcd's so that etcd clients react as they do against etcd (retrying UNAVAILABLE,
 * showing `etcdserver: ...` messages). Anything unexpected is INTERNAL and logged by the caller.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

import { KvError, type KvErrorCode } from '../kv/index.js';
import { ServerError, type ServerErrorCode } from './server-error.js';

/** A status for a gRPC callback. */
export interface GrpcFailure {
  readonly code: GrpcStatus;
  readonly details: string;
  /** False for errors that are not ours (bugs): the caller logs them. */
  readonly isExpected: boolean;
}

const SERVER_CODES: Readonly<Record<ServerErrorCode, GrpcStatus>> = {
  NO_LEADER: GrpcStatus.UNAVAILABLE,
  REQUEST_TIMEOUT: GrpcStatus.UNAVAILABLE,
  TOO_MANY_REQUESTS: GrpcStatus.RESOURCE_EXHAUSTED,
  NOT_LEADER: GrpcStatus.FAILED_PRECONDITION,
  STOPPING: GrpcStatus.UNAVAILABLE,
  LEADERSHIP_TRANSFER: GrpcStatus.UNAVAILABLE,
  CONFIGURATION_CHANGE_IN_PROGRESS: GrpcStatus.UNAVAILABLE,
  INVALID_CONFIGURATION_CHANGE: GrpcStatus.FAILED_PRECONDITION,
  MEMBER_NOT_FOUND: GrpcStatus.NOT_FOUND,
  MEMBER_NOT_LEARNER: GrpcStatus.FAILED_PRECONDITION,
  LEARNER_NOT_READY: GrpcStatus.FAILED_PRECONDITION,
  PEER_URL_EXISTS: GrpcStatus.FAILED_PRECONDITION,
  BAD_PEER_URLS: GrpcStatus.INVALID_ARGUMENT,
  UNHEALTHY_CLUSTER: GrpcStatus.UNAVAILABLE,
  BAD_LEADER_TRANSFEREE: GrpcStatus.FAILED_PRECONDITION,
  REQUEST_TOO_LARGE: GrpcStatus.INVALID_ARGUMENT,
  KEY_TOO_LARGE: GrpcStatus.INVALID_ARGUMENT,
  VALUE_TOO_LARGE: GrpcStatus.INVALID_ARGUMENT,
  UNIMPLEMENTED: GrpcStatus.UNIMPLEMENTED,
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  PROPOSAL_LOST: GrpcStatus.UNAVAILABLE,
};

const KV_CODES: Readonly<Record<KvErrorCode, GrpcStatus>> = {
  EMPTY_KEY: GrpcStatus.INVALID_ARGUMENT,
  DUPLICATE_KEY: GrpcStatus.INVALID_ARGUMENT,
  TOO_MANY_OPERATIONS: GrpcStatus.INVALID_ARGUMENT,
  UNSUPPORTED: GrpcStatus.UNIMPLEMENTED,
  MALFORMED_DATA: GrpcStatus.INTERNAL,
  STALE_SEQUENCE: GrpcStatus.FAILED_PRECONDITION,
};

/** An error status answered by the leader to a forwarded call, passed through unchanged. */
export class ForwardedError extends Error {
  override readonly name = 'ForwardedError';

  constructor(
    readonly code: GrpcStatus,
    readonly details: string,
  ) {
    super(details);
  }
}

/** The gRPC status for any error thrown by a request path. */
export function toGrpcFailure(error: unknown): GrpcFailure {
  if (error instanceof ForwardedError) {
    return { code: error.code, details: error.details, isExpected: true };
  }
  if (error instanceof ServerError) {
    return { code: SERVER_CODES[error.code], details: error.message, isExpected: true };
  }
  if (error instanceof KvError) {
    return { code: KV_CODES[error.code], details: error.message, isExpected: true };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: GrpcStatus.INTERNAL,
    details: `raftkv: internal error: ${message}`,
    isExpected: false,
  };
}
