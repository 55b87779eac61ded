/**
 * Errors of the Kubernetes side of the operator: the typed `NotOwnedError`, and readers of the
 * `ApiException`s `@kubernetes/client-node` 1.x throws (numeric `code`, the API server's
 * `Status` as a string `body`). Owns no I/O and decides no policy: callers choose what to ignore.
 */
import { RaftkvError } from '../common/index.js';
import { NOT_OWNED_CODE } from './platform.js';

/**
 * An object the cluster would own exists but is controlled by something else (or by an earlier
 * cluster of the same name). The operator never adopts it (decision 0011): the cluster reports
 * `Degraded` / `NotOwned` until a person resolves it.
 */
export class NotOwnedError extends RaftkvError {
  readonly code = NOT_OWNED_CODE;

  constructor(
    /** Kind of the object in the way, e.g. `StatefulSet`. */
    readonly kind: string,
    /** Its `namespace/name`. */
    readonly objectKey: string,
  ) {
    super(
      `${kind} ${objectKey} exists but is not controlled by this RaftCluster`,
      `Delete or rename ${kind} ${objectKey}, or give the RaftCluster another name; the operator never adopts objects it did not create.`,
    );
    this.name = 'NotOwnedError';
  }
}

/** The HTTP status of a client-node `ApiException`, or undefined for anything else. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  // Node system errors carry string codes (ECONNREFUSED); only API answers are numbers.
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return httpStatusOf(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return httpStatusOf(error) === 409;
}

/** The `Status` the API server answered with, when the body is one. */
export interface ApiStatus {
  readonly reason: string | undefined;
  readonly message: string | undefined;
  /** Set when a named object was not found, absent when the resource type itself is unknown. */
  readonly detailsKind: string | undefined;
}

/** Parses the `Status` body of an `ApiException`; undefined when the body is not one. */
export function apiStatusOf(error: unknown): ApiStatus | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const body = (error as { body?: unknown }).body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const status = parsed as {
    kind?: unknown;
    reason?: unknown;
    message?: unknown;
    details?: unknown;
  };
  if (status.kind !== 'Status') return undefined;
  const details = status.details as { kind?: unknown } | undefined;
  return {
    reason: typeof status.reason === 'string' ? status.reason : undefined,
    message: typeof status.message === 'string' ? status.message : undefined,
    detailsKind: typeof details?.kind === 'string' ? details.kind : undefined,
  };
}

/**
 * True when a 404 means the resource type is not served (e.g. the Prometheus Operator CRDs are
 * not installed) rather than that one object is missing: the API server answers a plain
 * `404 page not found`, or a Status without the object's kind in its details.
 */
export function isUnknownResource(error: unknown): boolean {
  if (!isNotFound(error)) return false;
  const status = apiStatusOf(error);
  return status === undefined || status.detailsKind === undefined;
}

/** A short description of an error for logs and status messages (client-node's are long). */
export function describeError(error: unknown): string {
  const code = httpStatusOf(error);
  if (code !== undefined) {
    const status = apiStatusOf(error);
    const reason = status?.reason ?? 'Unknown';
    return `HTTP ${code} ${reason}${status?.message !== undefined ? `: ${status.message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
