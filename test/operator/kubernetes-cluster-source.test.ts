/**
 * KubernetesClusterSource with the real @kubernetes/client-node informers against the loopback
 * fake API server: first list, add/update/delete of clusters, owned StatefulSets and pods mapped
 * to their cluster, and recovery from a closed watch, a 410 Gone and a failing watch.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { KubernetesClusterSource } from '../../src/operator/kubernetes-cluster-source.js';
import { FakeApiServer } from './fake-api-server.js';
import { RecordingLogger, raftClusterManifest, waitFor } from './kubernetes-test-support.js';

const NS = 'prod';
const CLUSTERS_PATH = `/apis/raftkv.io/v1alpha1/namespaces/${NS}/raftclusters`;
const FAST_BACKOFF = { initialMs: 50, maxMs: 400 };

let fake: FakeApiServer;
let logger: RecordingLogger;
let source: KubernetesClusterSource | undefined;
let keys: string[];

beforeEach(async () => {
  fake = await FakeApiServer.start();
  logger = new RecordingLogger();
  keys = [];
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  await fake.close();
});

/** Starts a source on `namespace` (`'*'`: all namespaces). */
async function startSource(namespace = NS): Promise<KubernetesClusterSource> {
  source = new KubernetesClusterSource({
    kubeConfig: fake.kubeConfig(),
    namespace: namespace === '*' ? undefined : namespace,
    logger,
    restartBackoff: FAST_BACKOFF,
  });
  await source.start((key) => keys.push(key));
  return source;
}

function ownedLabels(instance: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'raftkv',
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': 'node',
    'app.kubernetes.io/managed-by': 'raftkv-operator',
  };
}

function pod(name: string, labels: Record<string, string>, phase = 'Pending') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { containers: [{ name: 'raftkv' }] },
    status: { phase },
  };
}

/** Waits for a new `key`, then forgets the keys seen so far. */
async function expectWoken(key: string): Promise<void> {
  await waitFor(() => keys.includes(key), `onChange(${key})`);
  keys = [];
}

describe('KubernetesClusterSource', () => {
  it('has the first list in when start resolves', async () => {
    fake.put(raftClusterManifest('a', NS, { replicas: 5 }));
    fake.put(raftClusterManifest('b', NS));
    fake.put(raftClusterManifest('elsewhere', 'other'));
    const clusters = await startSource();
    expect(
      clusters
        .list()
        .map((cluster) => cluster.metadata.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(clusters.get(`${NS}/a`)?.spec).toEqual({ replicas: 5 });
    expect(clusters.get(`${NS}/b`)?.spec).toEqual({});
    expect(clusters.get(`${NS}/b`)?.metadata.uid).toMatch(/./);
    expect(clusters.get('other/elsewhere')).toBeUndefined();
    expect(clusters.get('nonsense')).toBeUndefined();
    expect(keys.sort()).toEqual([`${NS}/a`, `${NS}/b`]);
  });

  it('sees clusters added, updated and deleted', async () => {
    const clusters = await startSource();
    fake.put(raftClusterManifest('kv', NS, { replicas: 3 }));
    await expectWoken(`${NS}/kv`);
    expect(clusters.get(`${NS}/kv`)?.spec.replicas).toBe(3);
    fake.put(raftClusterManifest('kv', NS, { replicas: 5 }));
    await expectWoken(`${NS}/kv`);
    expect(clusters.get(`${NS}/kv`)?.spec.replicas).toBe(5);
    fake.remove('raftkv.io/v1alpha1/raftclusters', NS, 'kv');
    await expectWoken(`${NS}/kv`);
    expect(clusters.get(`${NS}/kv`)).toBeUndefined();
    expect(clusters.list()).toEqual([]);
  });

  it('maps owned StatefulSets and pods to their cluster by the instance label', async () => {
    await startSource();
    fake.put({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'kv', namespace: NS, labels: ownedLabels('kv') },
      spec: { replicas: 3, selector: { matchLabels: {} } },
    });
    await expectWoken(`${NS}/kv`);
    fake.put(pod('kv-0', ownedLabels('kv')));
    await expectWoken(`${NS}/kv`);
    fake.put(pod('kv-0', ownedLabels('kv'), 'Running'));
    await expectWoken(`${NS}/kv`);
    fake.remove('v1/pods', NS, 'kv-0');
    await expectWoken(`${NS}/kv`);
    // Not managed by the operator: no wake-up.
    const unmanaged = { ...ownedLabels('kv') };
    delete unmanaged['app.kubernetes.io/managed-by'];
    fake.put(pod('stranger-0', unmanaged));
    fake.put(pod('kv-1', ownedLabels('kv')));
    await expectWoken(`${NS}/kv`);
    expect(keys).toEqual([]);
    const watches = fake.requests.filter((request) => request.isWatch);
    expect(watches.map((request) => [request.path, request.query.labelSelector])).toEqual(
      expect.arrayContaining([
        [
          `/apis/apps/v1/namespaces/${NS}/statefulsets`,
          'app.kubernetes.io/managed-by=raftkv-operator',
        ],
        [`/api/v1/namespaces/${NS}/pods`, 'app.kubernetes.io/managed-by=raftkv-operator'],
        [CLUSTERS_PATH, undefined],
      ]),
    );
  });

  it('watches every namespace when none is given', async () => {
    fake.put(raftClusterManifest('a', 'one'));
    const clusters = await startSource('*');
    fake.put(raftClusterManifest('b', 'two'));
    await expectWoken('two/b');
    expect(
      clusters
        .list()
        .map((cluster) => `${cluster.metadata.namespace}/${cluster.metadata.name}`)
        .sort(),
    ).toEqual(['one/a', 'two/b']);
    expect(
      fake.requests.some((request) => request.path === '/apis/raftkv.io/v1alpha1/raftclusters'),
    ).toBe(true);
  });

  it('re-watches from its resourceVersion after the server ends a watch', async () => {
    await startSource();
    const listsBefore = fake.requestsTo('GET', CLUSTERS_PATH).filter((r) => !r.isWatch).length;
    expect(fake.closeWatches()).toBe(3);
    fake.put(raftClusterManifest('late', NS));
    await expectWoken(`${NS}/late`);
    const clusterWatches = fake.requestsTo('GET', CLUSTERS_PATH).filter((r) => r.isWatch);
    expect(clusterWatches.length).toBeGreaterThanOrEqual(2);
    expect(clusterWatches.at(-1)?.query.resourceVersion).toMatch(/^[1-9][0-9]*$/);
    // A clean end re-watches; it does not list again.
    expect(fake.requestsTo('GET', CLUSTERS_PATH).filter((r) => !r.isWatch)).toHaveLength(
      listsBefore,
    );
  });

  it('lists again after 410 Gone and keeps watching', async () => {
    const clusters = await startSource();
    fake.put(raftClusterManifest('kv', NS));
    await expectWoken(`${NS}/kv`);
    const lists = (): number =>
      fake.requestsTo('GET', CLUSTERS_PATH).filter((r) => !r.isWatch).length;
    const listsBefore = lists();
    fake.injectWatchGone();
    fake.closeWatches();
    await waitFor(() => lists() > listsBefore, 'a fresh list after 410');
    fake.put(raftClusterManifest('after', NS));
    await expectWoken(`${NS}/after`);
    expect(clusters.get(`${NS}/kv`)).toBeDefined();
  });

  it('replays from history or re-lists after compaction without losing a deletion', async () => {
    const clusters = await startSource();
    fake.put(raftClusterManifest('doomed', NS));
    await expectWoken(`${NS}/doomed`);
    const lists = (): number =>
      fake.requestsTo('GET', CLUSTERS_PATH).filter((request) => !request.isWatch).length;
    const listsBefore = lists();
    // Hold the clusters watch down while the object goes and history is compacted.
    fake.failNext({ pathPrefix: CLUSTERS_PATH, isWatch: true }, 500, 'InternalError');
    fake.breakWatches();
    fake.remove('raftkv.io/v1alpha1/raftclusters', NS, 'doomed');
    fake.compact();
    await expectWoken(`${NS}/doomed`);
    expect(clusters.get(`${NS}/doomed`)).toBeUndefined();
    // The deletion was learnt from a fresh list: the history that held it was compacted.
    expect(lists()).toBe(listsBefore + 1);
  });

  it('restarts with backoff after a failing watch, and resets it once connected', async () => {
    await startSource();
    fake.failNext({ pathPrefix: CLUSTERS_PATH, isWatch: true }, 500, 'InternalError', 3);
    fake.breakWatches();
    fake.put(raftClusterManifest('kv', NS));
    await expectWoken(`${NS}/kv`);
    const restarts = logger.matching('warn', 'list or watch failed');
    const delays = restarts
      .filter((line) => line.fields.informer === 'raftclusters')
      .map((line) => line.fields.retryInMs);
    expect(delays).toEqual([50, 100, 200, 400]);
    // Connected again: the next failure starts from the initial delay.
    fake.breakWatches();
    fake.put(raftClusterManifest('kv2', NS));
    await expectWoken(`${NS}/kv2`);
    const after = logger
      .matching('warn', 'list or watch failed')
      .filter((line) => line.fields.informer === 'raftclusters')
      .map((line) => line.fields.retryInMs);
    expect(after.slice(delays.length)).toEqual([50]);
  });

  it('resolves start only once a first list succeeded', async () => {
    fake.failNext(
      { method: 'GET', pathPrefix: CLUSTERS_PATH, isWatch: false },
      503,
      'ServiceUnavailable',
      2,
    );
    fake.put(raftClusterManifest('kv', NS));
    const clusters = await startSource();
    expect(clusters.get(`${NS}/kv`)).toBeDefined();
    expect(logger.matching('warn', 'list or watch failed').length).toBeGreaterThanOrEqual(2);
  });

  it('stops: no more wake-ups and no open watches', async () => {
    const clusters = await startSource();
    await waitFor(() => fake.watchCount === 3, 'three watches');
    await clusters.stop();
    await waitFor(() => fake.watchCount === 0, 'watches closed');
    fake.put(raftClusterManifest('quiet', NS));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(keys).toEqual([]);
    expect(logger.matching('warn', 'list or watch failed')).toEqual([]);
  });
});
