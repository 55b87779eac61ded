/**
 * The one error type the client library throws for an operational failure: the gRPC status code
 * (a server's refusal, a timeout, no endpoint reachable, a bad argument caught before sending),
 * the server's message as it sent it (etcd's `etcdserver: ...` texts), the endpoint, and whether
 * a write may have been applied. Owns the mapping from grpc-js errors; nothing else builds one
 * from a grpc-js error.
 */
import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';

import { RaftkvError } from '../common/index.js';

/** A gRPC status code by name, e.g. `UNAVAILABLE`. */
export type GrpcCodeName = keyof typeof GrpcStatus;

function codeName(code: GrpcStatus): GrpcCodeName {
  const name = GrpcStatus[code] as GrpcCodeName | undefined;
  return name ?? 'UNKNOWN';
}

const REMEDIES: Partial<Record<GrpcCodeName, string>> = {
  UNAVAILABLE:
    'Check that the endpoints are right and their members are running; a write needs a leader, so a majority of members must be up.',
  DEADLINE_EXCEEDED:
    'The cluster did not answer in time: check that a majority of members is up, or allow more time.',
  INVALID_ARGUMENT: 'Fix the request as the message says.',
  FAILED_PRECONDITION: 'The cluster is not in a state that allows this request; see the message.',
  NOT_FOUND: 'Check the id against `raftkv member list`.',
  RESOURCE_EXHAUSTED: 'Make the request smaller or slow down.',
  CANCELLED: 'The request was cancelled before it completed.',
};
const DEFAULT_REMEDY = 'See the message; if it persists, check the members logs.';

export interface ClientErrorOptions {
  /** The endpoint whose answer this is, if one answered. */
  readonly endpoint?: string | undefined;
  /** True when a write reached a server and failed without proof that it was not applied. */
  readonly mayHaveBeenApplied?: boolean;
  readonly cause?: unknown;
}

/** A call that failed; `message` is `CODE: details`. */
export class ClientError extends RaftkvError {
  override readonly name = 'ClientError';
  /** The gRPC status name, e.g. `UNAVAILABLE`. */
  readonly code: GrpcCodeName;
  /** The numeric gRPC status code. */
  readonly grpcCode: GrpcStatus;
  /** The server's message (or the client's own, when no server answered). */
  readonly details: string;
  readonly endpoint: string | undefined;
  /** A write may have been applied despite the error: read before retrying it. */
  readonly mayHaveBeenApplied: boolean;

  constructor(grpcCode: GrpcStatus, details: string, options: ClientErrorOptions = {}) {
    const name = codeName(grpcCode);
    super(`${name}: ${details}`, REMEDIES[name] ?? DEFAULT_REMEDY, { cause: options.cause });
    this.code = name;
    this.grpcCode = grpcCode;
    this.details = details;
    this.endpoint = options.endpoint;
    this.mayHaveBeenApplied = options.mayHaveBeenApplied ?? false;
  }
}

/** Whether `error` is a grpc-js call error (a status from a server or from the channel). */
export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    typeof (error as Partial<ServiceError>).details === 'string'
  );
}

/**
 * grpc-js fails a call with this text when the channel has no connection to pick: the call was
 * never sent, so even a write may safely go to another endpoint.
 */
const NOT_SENT_PREFIX = 'No connection established';

/** Whether a failed call provably never left the client. */
export function wasNeverSent(error: ServiceError): boolean {
  return error.code === GrpcStatus.UNAVAILABLE && error.details.startsWith(NOT_SENT_PREFIX);
}

/** The status codes after which a sent write may or may not have been applied. */
const UNCERTAIN_CODES: ReadonlySet<GrpcStatus> = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNKNOWN,
  GrpcStatus.INTERNAL,
  GrpcStatus.DATA_LOSS,
]);

/** The ClientError for a grpc-js call error from `endpoint`. */
export function fromServiceError(
  error: ServiceError,
  endpoint: string,
  isWrite: boolean,
): ClientError {
  const mayHaveBeenApplied = isWrite && UNCERTAIN_CODES.has(error.code) && !wasNeverSent(error);
  return new ClientError(error.code, error.details, { endpoint, mayHaveBeenApplied, cause: error });
}
