/**
 * The member's plain HTTP port: `/livez` (the process and its loop are alive), `/readyz` (it can
 * serve: it knows a leader and has applied what was committed; never "is leader") and `/metrics`
 * (Prometheus text from the member's own registry). Each check answers 200 or 503 with a one-line
 * reason; `?verbose` is accepted and ignored, as Kubernetes probes sometimes send it.
 */
import { createServer, type Server } from 'node:http';

/** The answer of one health check. */
export interface HealthCheck {
  readonly isHealthy: boolean;
  readonly reason: string;
}

/** Construction options of {@link startHttpEndpoints}. */
export interface HttpEndpointsOptions {
  readonly host: string;
  readonly port: number;
  readonly live: () => HealthCheck;
  readonly ready: () => HealthCheck;
  readonly metrics: () => Promise<{ readonly contentType: string; readonly text: string }>;
}

/** Starts the HTTP server; resolves with it once listening. */
export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answerCheck = (check: HealthCheck): void => {
      response.writeHead(check.isHealthy ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(`${check.isHealthy ? 'ok' : 'not ok'}: ${check.reason}\n`);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/livez':
        answerCheck(options.live());
        return;
      case '/readyz':
        answerCheck(options.ready());
        return;
      case '/metrics':
        options.metrics().then(
          ({ contentType, text }) => {
            response.writeHead(200, { 'content-type': contentType });
            response.end(text);
          },
          (error: unknown) => {
            response.writeHead(500, { 'content-type': 'text/plain' });
            response.end(`metrics failed: ${String(error)}\n`);
          },
        );
        return;
      default:
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found: try /livez, /readyz or /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
