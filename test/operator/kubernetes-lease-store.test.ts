/**
 * KubernetesLeaseStore with the real @kubernetes/client-node against the loopback fake API
 * server, which rejects Lease times without six fractional digits as the real one does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KubernetesLeaseStore, microTimeMs } from '../../src/operator/kubernetes-lease-store.js';
import { LeaseConflictError } from '../../src/operator/platform.js';
import { FakeApiServer } from './fake-api-server.js';
import { validateManifest } from './kubernetes-test-support.js';

const NS = 'raftkv-system';
const LEASES = 'coordination.k8s.io/v1/leases';
const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/raftkv-operator`;
const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

let fake: FakeApiServer;
let store: KubernetesLeaseStore;

beforeEach(async () => {
  fake = await FakeApiServer.start();
  store = new KubernetesLeaseStore({
    kubeConfig: fake.kubeConfig(),
    namespace: NS,
    name: 'raftkv-operator',
  });
});

afterEach(async () => {
  await fake.close();
});

const FIRST = {
  holderIdentity: 'operator-0_abc',
  leaseDurationSeconds: 15,
  acquireTimeMs: T0,
  renewTimeMs: T0,
  leaseTransitions: 0,
};

describe('KubernetesLeaseStore', () => {
  it('reads null when there is no lease', async () => {
    expect(await store.get()).toBeNull();
  });

  it('creates the lease with MicroTime timestamps and reads it back in milliseconds', async () => {
    const created = await store.create(FIRST);
    expect(created).toEqual({ ...FIRST, resourceVersion: expect.stringMatching(/^\d+$/) });
    const lease = fake.object(LEASES, NS, 'raftkv-operator');
    await validateManifest(lease);
    expect(lease?.spec).toEqual({
      holderIdentity: 'operator-0_abc',
      leaseDurationSeconds: 15,
      acquireTime: '2025-01-02T03:04:05.678000Z',
      renewTime: '2025-01-02T03:04:05.678000Z',
      leaseTransitions: 0,
    });
    expect(await store.get()).toEqual(created);
  });

  it('refuses a second create with LeaseConflictError', async () => {
    await store.create(FIRST);
    await expect(
      store.create({ ...FIRST, holderIdentity: 'operator-1_def' }),
    ).rejects.toBeInstanceOf(LeaseConflictError);
  });

  it('replaces at the current version, and refuses a stale one', async () => {
    const created = await store.create(FIRST);
    const renewed = await store.replace({ ...created, renewTimeMs: T0 + 2000 });
    expect(renewed.renewTimeMs).toBe(T0 + 2000);
    expect(renewed.resourceVersion).not.toBe(created.resourceVersion);
    expect(fake.requestsTo('PUT', LEASE_PATH)).toHaveLength(1);
    await expect(
      store.replace({ ...created, holderIdentity: 'operator-1_def', leaseTransitions: 1 }),
    ).rejects.toBeInstanceOf(LeaseConflictError);
    expect((await store.get())?.holderIdentity).toBe('operator-0_abc');
  });

  it('reports an injected conflict and a deleted lease as LeaseConflictError', async () => {
    const created = await store.create(FIRST);
    fake.injectConflict(LEASE_PATH);
    await expect(store.replace(created)).rejects.toBeInstanceOf(LeaseConflictError);
    fake.remove(LEASES, NS, 'raftkv-operator');
    await expect(store.replace(created)).rejects.toBeInstanceOf(LeaseConflictError);
  });

  it('propagates other errors', async () => {
    fake.failNext({ method: 'GET', pathPrefix: LEASE_PATH }, 403, 'Forbidden');
    await expect(store.get()).rejects.toMatchObject({ code: 403 });
  });

  it('reads a lease written by another client with microsecond times', async () => {
    fake.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'raftkv-operator', namespace: NS },
      spec: {
        holderIdentity: 'go-client',
        leaseDurationSeconds: 15,
        acquireTime: '2025-01-02T03:04:05.678901Z',
        renewTime: '2025-01-02T03:04:06.000001Z',
        leaseTransitions: 3,
      },
    });
    expect(await store.get()).toMatchObject({
      holderIdentity: 'go-client',
      acquireTimeMs: T0,
      renewTimeMs: Date.UTC(2025, 0, 2, 3, 4, 6, 0),
      leaseTransitions: 3,
    });
  });
});

describe('the fake API server checks MicroTime like the real one', () => {
  it('rejects a Lease time with millisecond precision', async () => {
    const response = await fetch(
      `${fake.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'plain-date' },
          spec: { renewTime: new Date(T0).toISOString() },
        }),
      },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });
});

describe('microTimeMs', () => {
  it('reads strings, Dates and absent values', () => {
    expect(microTimeMs('2025-01-02T03:04:05.678901Z')).toBe(T0);
    expect(microTimeMs(new Date(T0))).toBe(T0);
    expect(microTimeMs(undefined)).toBe(0);
    expect(microTimeMs('garbage')).toBe(0);
  });
});
