/**
 * A light unary gRPC client on `node:http2` with hand-framed messages (grpc-wire.ts), used by the
 * cluster benchmarks for random keys and latency percentiles. It costs ~50-80 µs of CPU per call
 * here, against ~150 µs for @grpc/grpc-js (docs: /work/shared/reference/performance.md), and the
 * client shares the two cores with the servers, so a light client is a condition of fairness.
 *
 * One HTTP/2 session per endpoint (like one gRPC channel), reconnected lazily when it died (a
 * killed member). A call succeeds only with HTTP status 200 *and* `grpc-status: 0`: gRPC errors
 * travel inside HTTP 200, in the trailers, or in the headers of a trailers-only response.
 */
import * as http2 from 'node:http2';
import { performance } from 'node:perf_hooks';

import { percentile } from '../statistics.js';
import { GRPC_STATUS_OK } from './grpc-wire.js';

/** The status a call gets when no gRPC status arrived (reset, refused, local deadline). */
export const NO_GRPC_STATUS = -1;

export interface CallOutcome {
  /** The gRPC status, or NO_GRPC_STATUS when the call ended without one. */
  readonly status: number;
  /** grpc-message, or what went wrong locally. */
  readonly message: string;
  /** The response body (gRPC frames), when asked for with `keepBody`. */
  readonly body: Buffer | undefined;
}

export interface CallOptions {
  /** Local deadline; also sent as `grpc-timeout` so the server gives up too. */
  readonly timeoutMs: number;
  readonly keepBody?: boolean;
}

const { NGHTTP2_CANCEL } = http2.constants;

const headersCache = new Map<string, http2.OutgoingHttpHeaders>();

/** The request headers of a unary call (one object per path and deadline, reused). */
function requestHeaders(path: string, timeoutMs: number): http2.OutgoingHttpHeaders {
  const key = `${path} ${timeoutMs}`;
  let headers = headersCache.get(key);
  if (headers === undefined) {
    headers = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      // gRPC timeout units: "m" is milliseconds, at most 8 digits.
      'grpc-timeout': `${Math.min(99_999_999, Math.max(1, Math.ceil(timeoutMs)))}m`,
    };
    headersCache.set(key, headers);
  }
  return headers;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec); keep it raw if malformed. */
function decodeGrpcMessage(value: unknown): string {
  const text = String(value);
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One server endpoint ("host:port") with one lazily (re)connected HTTP/2 session. */
export class GrpcEndpoint {
  private session: http2.ClientHttp2Session | undefined;

  constructor(readonly address: string) {}

  private currentSession(): http2.ClientHttp2Session {
    const existing = this.session;
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(`http://${this.address}`, {
      // Until the server's SETTINGS arrive, Node assumes 100 concurrent streams; the servers
      // here allow (nearly) unlimited ones, so do not hold back the first burst of a 256 row.
      peerMaxConcurrentStreams: 4096,
      settings: { enablePush: false, initialWindowSize: 4 * 1024 * 1024 },
    });
    // A refused or reset connection (a killed member) fails the calls on it; the error itself
    // must not become an uncaught exception. The next call reconnects.
    session.on('error', () => undefined);
    session.on('goaway', () => session.close());
    session.setMaxListeners(0);
    this.session = session;
    return session;
  }

  /** One unary call; never rejects (failures come back as a status). */
  call(path: string, frame: Buffer, options: CallOptions): Promise<CallOutcome> {
    return new Promise((resolve) => {
      let isSettled = false;
      let grpcStatus: string | undefined;
      let grpcMessage = '';
      let httpStatus = 0;
      const chunks: Buffer[] | undefined = options.keepBody === true ? [] : undefined;
      const finish = (status: number, message: string): void => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        resolve({
          status,
          message,
          body: chunks === undefined ? undefined : Buffer.concat(chunks),
        });
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.currentSession().request(requestHeaders(path, options.timeoutMs));
      } catch (error) {
        resolve({ status: NO_GRPC_STATUS, message: `request: ${String(error)}`, body: undefined });
        return;
      }
      const timer = setTimeout(() => {
        finish(NO_GRPC_STATUS, 'local deadline exceeded');
        stream.close(NGHTTP2_CANCEL);
      }, options.timeoutMs);
      stream.on('response', (headers) => {
        httpStatus = Number(headers[':status']);
        // A trailers-only response carries grpc-status in its (only) headers.
        const status = headers['grpc-status'];
        if (status !== undefined) grpcStatus = String(status);
        const message = headers['grpc-message'];
        if (message !== undefined) grpcMessage = decodeGrpcMessage(message);
      });
      stream.on('trailers', (trailers) => {
        const status = trailers['grpc-status'];
        if (status !== undefined) grpcStatus = String(status);
        const message = trailers['grpc-message'];
        if (message !== undefined) grpcMessage = decodeGrpcMessage(message);
      });
      if (chunks === undefined) stream.resume();
      else stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => finish(NO_GRPC_STATUS, `stream: ${error.message}`));
      stream.on('close', () => {
        if (httpStatus !== 200) {
          finish(NO_GRPC_STATUS, httpStatus === 0 ? 'no response' : `HTTP status ${httpStatus}`);
        } else if (grpcStatus === undefined) {
          finish(NO_GRPC_STATUS, `no grpc-status (RST code ${stream.rstCode ?? 'none'})`);
        } else {
          finish(Number(grpcStatus), grpcMessage);
        }
      });
      stream.end(frame);
    });
  }

  /** Closes the session at once (outstanding calls fail). */
  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }
}

export interface LoadOptions {
  /** Worker `w` sends to `targets[w % targets.length]`. */
  readonly targets: readonly GrpcEndpoint[];
  /** Workers, each with one call in flight at a time (closed loop). */
  readonly concurrency: number;
  readonly path: string;
  /** The gRPC frame of the next request of worker `worker` (e.g. a put of a random key). */
  readonly frameFor: (worker: number) => Buffer;
  /** Runs before the measured window; nothing of it is counted. */
  readonly warmUpSeconds: number;
  readonly seconds: number;
  readonly timeoutMs: number;
}

export interface LoadResult {
  /** Successful calls that completed inside the measured window. */
  readonly succeeded: number;
  /** Failed calls that completed inside the measured window. */
  readonly failed: number;
  /** Failures by "status: message", over the whole run including warm-up. */
  readonly failureKinds: ReadonlyMap<string, number>;
  readonly seconds: number;
  /** Successful calls per second of the measured window. */
  readonly perSecond: number;
  /** Latency percentiles of the successful calls in the window, milliseconds. */
  readonly p50Milliseconds: number;
  readonly p99Milliseconds: number;
  readonly maxMilliseconds: number;
}

/**
 * A closed-loop load: `concurrency` workers each issue a call, wait for it, issue the next.
 * Workers run through warm-up and window without pause, so the window sees steady state; a call
 * counts in the window when it *completes* inside it (throughput = completions / window length),
 * and its latency is recorded then (send to last byte, `performance.now()`).
 */
export async function runClosedLoopLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const failureKinds = new Map<string, number>();
  let failed = 0;
  const started = performance.now();
  const windowStart = started + options.warmUpSeconds * 1000;
  const windowEnd = windowStart + options.seconds * 1000;
  const callOptions: CallOptions = { timeoutMs: options.timeoutMs };

  const work = async (worker: number): Promise<void> => {
    const target = options.targets[worker % options.targets.length];
    if (target === undefined) throw new Error('no targets');
    for (;;) {
      const sent = performance.now();
      if (sent >= windowEnd) return;
      const outcome = await target.call(options.path, options.frameFor(worker), callOptions);
      const done = performance.now();
      const isInWindow = done >= windowStart && done < windowEnd;
      if (outcome.status === GRPC_STATUS_OK) {
        if (isInWindow) latencies.push(done - sent);
      } else {
        if (isInWindow) failed++;
        const kind = `${outcome.status}: ${outcome.message}`;
        failureKinds.set(kind, (failureKinds.get(kind) ?? 0) + 1);
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let worker = 0; worker < options.concurrency; worker++) workers.push(work(worker));
  await Promise.all(workers);

  latencies.sort((a, b) => a - b);
  return {
    succeeded: latencies.length,
    failed,
    failureKinds,
    seconds: options.seconds,
    perSecond: latencies.length / options.seconds,
    p50Milliseconds: percentile(latencies, 0.5),
    p99Milliseconds: percentile(latencies, 0.99),
    maxMilliseconds: latencies.at(-1) ?? Number.NaN,
  };
}

/** A uniformly random integer in [0, bound): the key chooser of the loads. */
export function randomBelow(bound: number): number {
  return Math.floor(Math.random() * bound);
}

/** The benchmark keys: fixed width so every request has the same size. */
export function benchmarkKey(prefix: string, index: number): Buffer {
  return Buffer.from(`${prefix}${index.toString().padStart(8, '0')}`);
}
