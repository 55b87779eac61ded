/**
 * One call with endpoint failover: try the endpoints in the pool's order, each only once a
 * connection to it is established (so a failure to connect proves the request was never sent),
 * and move on after UNAVAILABLE when that is safe: always for a read, for a write only when it
 * provably was not sent or when the server deduplicates it (exactly-once). Every other status is
 * the answer. The whole call, failover included, shares one deadline.
 */
import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';

import { ClientError, fromServiceError, isServiceError, wasNeverSent } from './client-error.js';
import type { EndpointPool } from './endpoint-pool.js';
import type { UnaryMethod } from './rpc-methods.js';

export interface CallSettings {
  /** When the whole call must be over (ms since the epoch). */
  readonly deadline: number;
  /** The request timeout the deadline came from, for messages. */
  readonly timeoutMs: number;
  /** Longest wait for one endpoint's connection. */
  readonly connectTimeoutMs: number;
  /** Sent with the request (exactly-once session). */
  readonly metadata?: Metadata | undefined;
  /** The server applies this write at most once, so it may be resent after an unknown outcome. */
  readonly isDeduplicated?: boolean;
}

type AttemptOutcome<Response> =
  | { readonly kind: 'answered'; readonly response: Response }
  | { readonly kind: 'unreachable' }
  | { readonly kind: 'failed'; readonly error: ServiceError };

/** The method called on `endpoint` once, without failover. */
export async function callEndpoint<Request, Response>(
  pool: EndpointPool,
  endpoint: string,
  method: UnaryMethod<Request, Response>,
  request: Request,
  settings: CallSettings,
): Promise<Response> {
  const outcome = await attempt(pool, endpoint, method, request, settings);
  switch (outcome.kind) {
    case 'answered':
      return outcome.response;
    case 'unreachable':
      if (Date.now() >= settings.deadline) throw deadlineError([endpoint], settings);
      throw new ClientError(GrpcStatus.UNAVAILABLE, `endpoint ${endpoint} is not reachable`, {
        endpoint,
      });
    case 'failed':
      throw toClientError(outcome.error, endpoint, method.isWrite, settings);
  }
}

/** The method called with failover over the pool's endpoints. */
export async function callWithFailover<Request, Response>(
  pool: EndpointPool,
  method: UnaryMethod<Request, Response>,
  request: Request,
  settings: CallSettings,
): Promise<Response> {
  const tried: string[] = [];
  let lastFailure: ClientError | undefined;
  for (const endpoint of pool.attemptOrder()) {
    if (Date.now() >= settings.deadline) break;
    tried.push(endpoint);
    const outcome = await attempt(pool, endpoint, method, request, settings);
    if (outcome.kind === 'answered') {
      pool.markAnswered(endpoint);
      return outcome.response;
    }
    if (outcome.kind === 'unreachable') continue;
    const failure = toClientError(outcome.error, endpoint, method.isWrite, settings);
    if (!mayTryNextEndpoint(outcome.error, method.isWrite, settings)) throw failure;
    lastFailure = failure;
  }
  if (lastFailure !== undefined) throw lastFailure;
  if (tried.length < pool.endpoints.length) throw deadlineError(tried, settings);
  throw new ClientError(
    GrpcStatus.UNAVAILABLE,
    `no endpoint reachable (tried ${tried.join(', ')})`,
  );
}

/** Whether a failed call may be sent to the next endpoint. */
export function mayTryNextEndpoint(
  error: ServiceError,
  isWrite: boolean,
  settings: Pick<CallSettings, 'isDeduplicated'>,
): boolean {
  if (error.code !== GrpcStatus.UNAVAILABLE) return false;
  return !isWrite || wasNeverSent(error) || settings.isDeduplicated === true;
}

async function attempt<Request, Response>(
  pool: EndpointPool,
  endpoint: string,
  method: UnaryMethod<Request, Response>,
  request: Request,
  settings: CallSettings,
): Promise<AttemptOutcome<Response>> {
  const connectDeadline = Math.min(settings.deadline, Date.now() + settings.connectTimeoutMs);
  const connection = await pool.awaitConnection(endpoint, connectDeadline);
  if (connection === 'closed') throw closedError();
  if (connection !== 'ready') return { kind: 'unreachable' };
  try {
    const response = await unaryCall(pool, endpoint, method, request, settings);
    return { kind: 'answered', response };
  } catch (error) {
    if (!isServiceError(error)) throw error;
    if (pool.closed) throw closedError();
    return { kind: 'failed', error };
  }
}

function unaryCall<Request, Response>(
  pool: EndpointPool,
  endpoint: string,
  method: UnaryMethod<Request, Response>,
  request: Request,
  settings: CallSettings,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    pool
      .clientFor(endpoint)
      .makeUnaryRequest(
        method.path,
        method.serialize,
        method.deserialize,
        request,
        settings.metadata ?? new Metadata(),
        { deadline: settings.deadline },
        (error, response) => {
          if (error !== null) reject(error);
          else if (response === undefined) reject(new Error(`${method.path}: empty response`));
          else resolve(response);
        },
      );
  });
}

function toClientError(
  error: ServiceError,
  endpoint: string,
  isWrite: boolean,
  settings: CallSettings,
): ClientError {
  const failure = fromServiceError(error, endpoint, isWrite);
  if (error.code !== GrpcStatus.DEADLINE_EXCEEDED || Date.now() < settings.deadline) return failure;
  // Our own deadline: grpc-js's text ("Deadline exceeded after 5.001s,LB pick: ...") says less.
  return new ClientError(
    GrpcStatus.DEADLINE_EXCEEDED,
    `no answer from ${endpoint} within ${settings.timeoutMs} ms`,
    { endpoint, mayHaveBeenApplied: failure.mayHaveBeenApplied, cause: error },
  );
}

function deadlineError(tried: readonly string[], settings: CallSettings): ClientError {
  return new ClientError(
    GrpcStatus.DEADLINE_EXCEEDED,
    `no answer within ${settings.timeoutMs} ms (tried ${tried.join(', ')})`,
  );
}

function closedError(): ClientError {
  return new ClientError(GrpcStatus.CANCELLED, 'the client was closed');
}
