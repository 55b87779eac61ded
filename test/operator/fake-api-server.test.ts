/**
 * The fake Kubernetes API server's own semantics, over plain HTTP: the behaviours the operator
 * tests rely on (generation, /status, /scale, selectors, apply ownership, watch replay and 410,
 * Status error bodies, injected failures).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { mergePatch } from './fake-api-patch.js';
import { FakeApiServer } from './fake-api-server.js';
import { parseLabelSelector } from './fake-api-selectors.js';
import { raftClusterManifest, waitFor } from './kubernetes-test-support.js';

const NS = 'prod';
const CLUSTERS = `/apis/raftkv.io/v1alpha1/namespaces/${NS}/raftclusters`;
const CONFIG_MAPS = `/api/v1/namespaces/${NS}/configmaps`;

let fake: FakeApiServer;

beforeEach(async () => {
  fake = await FakeApiServer.start();
});

afterEach(async () => {
  await fake.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : { text } };
}

function metadata(object: Record<string, unknown>): Record<string, unknown> {
  return object.metadata as Record<string, unknown>;
}

describe('FakeApiServer', () => {
  it('creates with uid, timestamp and versions, and answers Status errors', async () => {
    const created = await call('POST', CLUSTERS, raftClusterManifest('kv', NS, { replicas: 3 }));
    expect(created.status).toBe(201);
    expect(metadata(created.body)).toMatchObject({
      name: 'kv',
      namespace: NS,
      generation: 1,
      uid: expect.any(String),
      creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      resourceVersion: expect.stringMatching(/^\d+$/),
    });
    const again = await call('POST', CLUSTERS, raftClusterManifest('kv', NS));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'AlreadyExists',
      code: 409,
    });
    const missing = await call('GET', `${CLUSTERS}/nope`);
    expect(missing.body).toMatchObject({
      reason: 'NotFound',
      code: 404,
      details: { name: 'nope' },
    });
    const unknownGroup = await call('GET', '/apis/example.com/v1/namespaces/x/things');
    expect(unknownGroup).toEqual({ status: 404, body: { text: '404 page not found\n' } });
  });

  it('bumps generation on spec writes only; /status writes status only', async () => {
    await call('POST', CLUSTERS, raftClusterManifest('kv', NS, { replicas: 3 }));
    const patched = await call(
      'PATCH',
      `${CLUSTERS}/kv`,
      { spec: { replicas: 5 }, status: { replicas: 9 } },
      'application/merge-patch+json',
    );
    expect(metadata(patched.body).generation).toBe(2);
    expect(patched.body.status).toBeUndefined();
    const status = await call(
      'PATCH',
      `${CLUSTERS}/kv/status`,
      { spec: { replicas: 1 }, status: { replicas: 5 } },
      'application/merge-patch+json',
    );
    expect(status.body).toMatchObject({ spec: { replicas: 5 }, status: { replicas: 5 } });
    expect(metadata(status.body).generation).toBe(2);
  });

  it('serves /scale on spec.replicas and status', async () => {
    await call('POST', CLUSTERS, raftClusterManifest('kv', NS, { replicas: 3 }));
    await call(
      'PATCH',
      `${CLUSTERS}/kv/status`,
      { status: { replicas: 3, selector: 'a=b' } },
      'application/merge-patch+json',
    );
    const scale = await call('GET', `${CLUSTERS}/kv/scale`);
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      spec: { replicas: 3 },
      status: { replicas: 3, selector: 'a=b' },
    });
    await call(
      'PATCH',
      `${CLUSTERS}/kv/scale`,
      { spec: { replicas: 5 } },
      'application/merge-patch+json',
    );
    expect(fake.object('raftkv.io/v1alpha1/raftclusters', NS, 'kv')?.spec).toEqual({ replicas: 5 });
  });

  it('honours the resourceVersion precondition of PUT', async () => {
    const created = await call('POST', CONFIG_MAPS, { metadata: { name: 'c' }, data: { a: '1' } });
    const version = metadata(created.body).resourceVersion;
    const first = await call('PUT', `${CONFIG_MAPS}/c`, {
      metadata: { name: 'c', resourceVersion: version },
      data: { a: '2' },
    });
    expect(first.status).toBe(200);
    const stale = await call('PUT', `${CONFIG_MAPS}/c`, {
      metadata: { name: 'c', resourceVersion: version },
      data: { a: '3' },
    });
    expect(stale.body).toMatchObject({ reason: 'Conflict', code: 409 });
  });

  it('applies: removes fields the manager stopped sending, and conflicts without force', async () => {
    const apply = (data: Record<string, string>, manager: string, force: boolean) =>
      call(
        'PATCH',
        `${CONFIG_MAPS}/c?fieldManager=${manager}&force=${force}`,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data },
        'application/apply-patch+yaml',
      );
    expect((await apply({ a: '1', b: '2' }, 'op', true)).status).toBe(201);
    expect((await apply({ a: '1' }, 'op', true)).body.data).toEqual({ a: '1' });
    expect((await apply({ a: '9' }, 'someone', false)).body).toMatchObject({
      reason: 'Conflict',
      message: expect.stringContaining('conflict with "op": .data.a'),
    });
    expect((await apply({ a: '9' }, 'someone', true)).body.data).toEqual({ a: '9' });
    const missingManager = await call(
      'PATCH',
      `${CONFIG_MAPS}/c`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } },
      'application/apply-patch+yaml',
    );
    expect(missingManager.status).toBe(400);
  });

  it('answers an object sent as a JSON patch with 400, as the real server does', async () => {
    await call('POST', CONFIG_MAPS, { metadata: { name: 'c' } });
    const response = await call(
      'PATCH',
      `${CONFIG_MAPS}/c`,
      { data: {} },
      'application/json-patch+json',
    );
    expect(response.status).toBe(400);
  });

  it('lists and watches by label selector, replaying from a resourceVersion', async () => {
    fake.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: NS, labels: { x: '1' } },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b', namespace: NS, labels: { x: '2' } },
    });
    const list = await call('GET', `${CONFIG_MAPS}?labelSelector=x%3D1`);
    expect((list.body.items as unknown[]).length).toBe(1);
    const since = metadata(list.body).resourceVersion as string;
    fake.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: NS, labels: { x: '1' } },
    });
    fake.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: NS, labels: { x: '3' } },
    });

    const controller = new AbortController();
    const response = await fetch(
      `${fake.url}${CONFIG_MAPS}?watch=true&labelSelector=x%3D1&resourceVersion=${since}`,
      { signal: controller.signal },
    );
    const lines: string[] = [];
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    const pump = (async () => {
      for (;;) {
        const chunk = await reader?.read().catch(() => undefined);
        if (chunk === undefined || chunk.done) return;
        lines.push(
          ...decoder
            .decode(chunk.value)
            .split('\n')
            .filter((line) => line !== ''),
        );
      }
    })();
    await waitFor(() => lines.length >= 2, 'replayed events');
    expect(
      lines
        .map((line) => JSON.parse(line) as { type: string; object: Record<string, unknown> })
        .map((event) => [event.type, metadata(event.object).name]),
    ).toEqual([
      ['ADDED', 'c'],
      ['DELETED', 'a'],
    ]);
    fake.compact();
    const gone = await call('GET', `${CONFIG_MAPS}?watch=true&resourceVersion=${since}`);
    expect(gone.body).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    controller.abort();
    await pump;
  });

  it('injects conflicts and failures once, and logs requests', async () => {
    await call('POST', CONFIG_MAPS, { metadata: { name: 'c' } });
    fake.injectConflict(`${CONFIG_MAPS}/c`);
    const merge = (): Promise<{ status: number; body: Record<string, unknown> }> =>
      call('PATCH', `${CONFIG_MAPS}/c`, { data: { a: '1' } }, 'application/merge-patch+json');
    expect((await merge()).status).toBe(409);
    expect((await merge()).status).toBe(200);
    fake.failNext({ method: 'GET', pathPrefix: CONFIG_MAPS }, 500);
    expect((await call('GET', `${CONFIG_MAPS}/c`)).status).toBe(500);
    expect((await call('GET', `${CONFIG_MAPS}/c`)).status).toBe(200);
    expect(fake.requestsTo('PATCH', CONFIG_MAPS).map((request) => request.contentType)).toEqual([
      'application/merge-patch+json',
      'application/merge-patch+json',
    ]);
  });
});

describe('fake API helpers', () => {
  it('merge-patches as RFC 7386 says', () => {
    expect(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } })).toEqual({
      a: 'z',
      c: { d: 'e' },
    });
    expect(mergePatch({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    expect(mergePatch({ a: 1 }, 'text')).toBe('text');
  });

  it('parses label selectors', () => {
    const labels = { app: 'raftkv', tier: 'db' };
    expect(parseLabelSelector('app=raftkv,tier==db')(labels)).toBe(true);
    expect(parseLabelSelector('app!=raftkv')(labels)).toBe(false);
    expect(parseLabelSelector('tier in (db, cache),!missing,app')(labels)).toBe(true);
    expect(parseLabelSelector('tier notin (db)')(labels)).toBe(false);
    expect(parseLabelSelector('')(labels)).toBe(true);
    expect(() => parseLabelSelector('=x')).toThrow();
  });
});
