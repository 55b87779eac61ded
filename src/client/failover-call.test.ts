import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';

import { fromServiceError } from './client-error.js';
import { mayTryNextEndpoint } from './failover-call.js';

function serviceError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

const NOT_SENT = serviceError(
  GrpcStatus.UNAVAILABLE,
  'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1',
);
const TIMED_OUT = serviceError(GrpcStatus.UNAVAILABLE, 'etcdserver: request timed out');
const REFUSED = serviceError(GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided');
const DEADLINE = serviceError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded');

describe('which failures may go to the next endpoint', () => {
  it('reads: any UNAVAILABLE, nothing else', () => {
    expect(mayTryNextEndpoint(TIMED_OUT, false, {})).toBe(true);
    expect(mayTryNextEndpoint(NOT_SENT, false, {})).toBe(true);
    expect(mayTryNextEndpoint(REFUSED, false, {})).toBe(false);
    expect(mayTryNextEndpoint(DEADLINE, false, {})).toBe(false);
  });

  it('writes: only when never sent, or when the server deduplicates them', () => {
    expect(mayTryNextEndpoint(NOT_SENT, true, {})).toBe(true);
    expect(mayTryNextEndpoint(TIMED_OUT, true, {})).toBe(false);
    expect(mayTryNextEndpoint(TIMED_OUT, true, { isDeduplicated: true })).toBe(true);
    expect(mayTryNextEndpoint(REFUSED, true, { isDeduplicated: true })).toBe(false);
    expect(mayTryNextEndpoint(DEADLINE, true, { isDeduplicated: true })).toBe(false);
  });
});

describe('ClientError from a grpc-js error', () => {
  it("keeps the server's message and says whether a write may have been applied", () => {
    const error = fromServiceError(TIMED_OUT, 'a:1', true);
    expect(error.message).toBe('UNAVAILABLE: etcdserver: request timed out');
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.grpcCode).toBe(GrpcStatus.UNAVAILABLE);
    expect(error.endpoint).toBe('a:1');
    expect(error.mayHaveBeenApplied).toBe(true);
    expect(error.remedy).toMatch(/majority/);
    expect(fromServiceError(TIMED_OUT, 'a:1', false).mayHaveBeenApplied).toBe(false);
    expect(fromServiceError(NOT_SENT, 'a:1', true).mayHaveBeenApplied).toBe(false);
    expect(fromServiceError(REFUSED, 'a:1', true).mayHaveBeenApplied).toBe(false);
    expect(fromServiceError(DEADLINE, 'a:1', true).mayHaveBeenApplied).toBe(true);
  });
});
