/**
 * Endpoint addresses: what the client accepts (`host:port`, `http://host:port`, `[v6]:port`) and
 * the `host:port` form it dials. Pure.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

import { ClientError } from './client-error.js';

const PORT_MAX = 65_535;
const HOST_AND_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

/**
 * `text` as the `host:port` the client dials. Throws a ClientError (INVALID_ARGUMENT) for
 * anything else; `https://` is refused because the client speaks plain gRPC only.
 */
export function normalizeEndpoint(text: string): string {
  const trimmed = text.trim();
  if (/^https:\/\//i.test(trimmed)) {
    throw new ClientError(
      GrpcStatus.INVALID_ARGUMENT,
      `endpoint '${text}': TLS (https) is not supported; use host:port`,
    );
  }
  const address = trimmed.replace(/^http:\/\//i, '').replace(/\/$/, '');
  const match = HOST_AND_PORT.exec(address);
  const port = Number(match?.[2] ?? 'NaN');
  if (match === null || !(port >= 1 && port <= PORT_MAX)) {
    throw new ClientError(
      GrpcStatus.INVALID_ARGUMENT,
      `endpoint '${text}' is not host:port (for example 127.0.0.1:2379)`,
    );
  }
  return address;
}

/** The endpoint of a member's client URL, or undefined if it is not a plain http one. */
export function endpointOfClientUrl(url: string): string | undefined {
  try {
    return /^https:/i.test(url) ? undefined : normalizeEndpoint(url);
  } catch {
    return undefined;
  }
}
