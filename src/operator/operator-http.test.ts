import { Agent, request } from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import {
  type OperatorHealthCheck,
  type OperatorHttpOptions,
  type OperatorHttpServer,
  startOperatorHttp,
} from './operator-http.js';

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** One request to the server on 127.0.0.1, without keep-alive. */
function call(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method, agent: false }, (reply) => {
      let body = '';
      reply.setEncoding('utf8');
      reply.on('data', (chunk: string) => (body += chunk));
      reply.on('end', () =>
        resolve({
          status: reply.statusCode ?? 0,
          contentType: reply.headers['content-type'] ?? '',
          body,
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const servers: OperatorHttpServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(overrides: Partial<OperatorHttpOptions> = {}): Promise<OperatorHttpServer> {
  const server = await startOperatorHttp({
    host: '127.0.0.1',
    port: 0,
    live: () => ({ isHealthy: true, reason: 'work loop alive' }),
    ready: () => ({ isHealthy: true, reason: 'informers synced' }),
    metricsText: async () => 'raftkv_operator_is_leader 1\n',
    metricsContentType: 'text/plain; version=0.0.4; charset=utf-8',
    ...overrides,
  });
  servers.push(server);
  return server;
}

describe('startOperatorHttp', () => {
  it('answers /healthz and /readyz from the checks it is given, as they change', async () => {
    let ready: OperatorHealthCheck = { isHealthy: false, reason: 'informers not synced' };
    const server = await start({ ready: () => ready });
    expect(server.port).toBeGreaterThan(0);
    expect(await call(server.port, '/healthz')).toEqual({
      status: 200,
      contentType: 'text/plain',
      body: 'ok: work loop alive\n',
    });
    expect(await call(server.port, '/readyz?verbose')).toMatchObject({
      status: 503,
      body: 'not ok: informers not synced\n',
    });
    ready = { isHealthy: true, reason: 'informers synced' };
    expect(await call(server.port, '/readyz')).toMatchObject({ status: 200 });
    expect((await call(server.port, '/readyz', 'HEAD')).status).toBe(200);
  });

  it('answers 503 when a check throws', async () => {
    const server = await start({
      live: () => {
        throw new Error('loop stuck');
      },
    });
    expect(await call(server.port, '/healthz')).toMatchObject({
      status: 503,
      body: 'not ok: check failed: Error: loop stuck\n',
    });
  });

  it('serves metrics with their content type, and 500 if they fail', async () => {
    const server = await start();
    expect(await call(server.port, '/metrics')).toEqual({
      status: 200,
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      body: 'raftkv_operator_is_leader 1\n',
    });
    const failing = await start({
      metricsText: () => Promise.reject(new Error('registry broken')),
    });
    expect(await call(failing.port, '/metrics')).toMatchObject({
      status: 500,
      body: 'metrics failed: Error: registry broken\n',
    });
  });

  it('refuses other paths and methods', async () => {
    const server = await start();
    expect(await call(server.port, '/livez')).toMatchObject({ status: 404 });
    expect((await call(server.port, '/healthz', 'POST')).status).toBe(405);
  });

  it('closes with a keep-alive connection open, freeing its port', async () => {
    const server = await startOperatorHttp({
      host: '127.0.0.1',
      port: 0,
      live: () => ({ isHealthy: true, reason: 'alive' }),
      ready: () => ({ isHealthy: true, reason: 'synced' }),
      metricsText: async () => '',
      metricsContentType: 'text/plain',
    });
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path: '/healthz', agent }, (reply) => {
        reply.resume();
        reply.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    await server.close();
    agent.destroy();
    await expect(call(server.port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('rejects when the port is taken', async () => {
    const server = await start();
    await expect(start({ port: server.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
