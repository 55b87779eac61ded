/**
 * The operator's plain HTTP port (8081 in the chart, as etcd-operator): `/healthz` (the process
 * and its work loop are alive), `/readyz` (its informers have synced) and `/metrics` (Prometheus
 * text). Each check answers 200 or 503 with a one-line reason; `?verbose` is accepted and ignored,
 * as Kubernetes probes sometimes send it.
 *
 * It owns only the HTTP plumbing: the caller decides what alive and ready mean and where metrics
 * come from. It must not touch the work queue or the elector itself. A replica that is not the
 * leader is still alive and ready (it stands by); readiness never means "is leader".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The answer of one health check. */
export interface OperatorHealthCheck {
  readonly isHealthy: boolean;
  readonly reason: string;
}

/** Options of {@link startOperatorHttp}. */
export interface OperatorHttpOptions {
  /** Address to bind, e.g. `0.0.0.0` in a pod or `127.0.0.1` in tests. */
  readonly host: string;
  /** Port to bind; 0 picks a free one (see {@link OperatorHttpServer.port}). */
  readonly port: number;
  /** `/healthz`: false makes the kubelet restart the container. */
  readonly live: () => OperatorHealthCheck;
  /** `/readyz`: true once the informers synced. */
  readonly ready: () => OperatorHealthCheck;
  /** `/metrics` body. */
  readonly metricsText: () => Promise<string>;
  /** `/metrics` Content-Type (the registry's). */
  readonly metricsContentType: string;
}

/** A listening operator HTTP server. */
export interface OperatorHttpServer {
  /** The bound port (the chosen one when asked for 0). */
  readonly port: number;
  /** Stops listening and closes every connection, including idle keep-alive ones. */
  close(): Promise<void>;
}

const PATHS_HINT = 'not found: try /healthz, /readyz or /metrics\n';

function answerCheck(response: ServerResponse, check: () => OperatorHealthCheck): void {
  let result: OperatorHealthCheck;
  try {
    result = check();
  } catch (error) {
    // A throwing check is a failing one: the probe should see it, not a dropped connection.
    result = { isHealthy: false, reason: `check failed: ${String(error)}` };
  }
  response.writeHead(result.isHealthy ? 200 : 503, { 'content-type': 'text/plain' });
  response.end(`${result.isHealthy ? 'ok' : 'not ok'}: ${result.reason}\n`);
}

function answerMetrics(response: ServerResponse, options: OperatorHttpOptions): void {
  options.metricsText().then(
    (text) => {
      response.writeHead(200, { 'content-type': options.metricsContentType });
      response.end(text);
    },
    (error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`metrics failed: ${String(error)}\n`);
    },
  );
}

function route(
  request: IncomingMessage,
  response: ServerResponse,
  options: OperatorHttpOptions,
): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch ((request.url ?? '/').split('?')[0]) {
    case '/healthz':
      answerCheck(response, options.live);
      return;
    case '/readyz':
      answerCheck(response, options.ready);
      return;
    case '/metrics':
      answerMetrics(response, options);
      return;
    default:
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end(PATHS_HINT);
  }
}

/** Starts the server; resolves once it listens. */
export async function startOperatorHttp(options: OperatorHttpOptions): Promise<OperatorHttpServer> {
  const server = createServer((request, response) => route(request, response, options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
