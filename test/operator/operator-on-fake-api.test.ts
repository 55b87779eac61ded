/**
 * The whole operator (Lease election, informers, work queue, reconciler, KubernetesPlatform on
 * the real @kubernetes/client-node) against the loopback fake API server. A small "kubelet" in
 * the test turns the StatefulSet the operator applies into Pod and PersistentVolumeClaim objects,
 * backed by the in-memory member model of fake-world.ts for the etcd Cluster API. Checks: every
 * object it creates is valid against the Kubernetes schemas, the status and conditions it writes,
 * `kubectl scale` through the scale subresource, the Lease, Events, and a Lease write conflict.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';

import { KubernetesClusterSource } from '../../src/operator/kubernetes-cluster-source.js';
import { KubernetesLeaseStore } from '../../src/operator/kubernetes-lease-store.js';
import { KubernetesPlatform } from '../../src/operator/kubernetes-platform.js';
import { parseOperatorOptions } from '../../src/operator/operator-options.js';
import { runOperator } from '../../src/operator/operator-runner.js';
import type { InitialClusterState } from '../../src/operator/platform.js';
import type { RaftCluster, RaftClusterStatus } from '../../src/operator/raft-cluster.js';
import { FakeApiServer } from './fake-api-server.js';
import { FakeWorld } from './fake-world.js';
import { RecordingLogger, validateManifest, waitFor } from './kubernetes-test-support.js';

const NS = 'prod';
const NAME = 'rkv';
const CLUSTERS = 'raftkv.io/v1alpha1/raftclusters';
const STS = 'apps/v1/statefulsets';
const PODS = 'v1/pods';
const CLAIMS = 'v1/persistentvolumeclaims';
const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/raftkv-operator`;

type Json = Record<string, unknown>;

/** Pods and claims for the StatefulSet, as the StatefulSet controller and kubelet would. */
class FakeKubelet {
  private readonly mirroredPods = new Set<number>();
  private readonly mirroredClaims = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fake: FakeApiServer,
    private readonly world: FakeWorld,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sync(), 25);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sync(): void {
    const cluster = this.fake.object(CLUSTERS, NS, NAME) as unknown as RaftCluster | undefined;
    const statefulSet = this.fake.object(STS, NS, NAME);
    if (cluster === undefined || statefulSet === undefined) return;
    // What the operator deleted since the last look.
    for (const ordinal of [...this.mirroredPods]) {
      if (this.fake.object(PODS, NS, `${NAME}-${ordinal}`) !== undefined) continue;
      this.mirroredPods.delete(ordinal);
      const isClaimGone =
        this.mirroredClaims.has(ordinal) &&
        this.fake.object(CLAIMS, NS, `data-${NAME}-${ordinal}`) === undefined;
      void (isClaimGone
        ? this.world.resetOrdinal(cluster, ordinal)
        : this.world.deletePod(cluster, ordinal));
    }
    for (const ordinal of [...this.mirroredClaims]) {
      if (this.fake.object(CLAIMS, NS, `data-${NAME}-${ordinal}`) !== undefined) continue;
      this.mirroredClaims.delete(ordinal);
      if (!this.world.pods.has(ordinal)) void this.world.deleteClaim(cluster, ordinal);
    }
    const spec = statefulSet.spec as { replicas: number; template: Json };
    const env = nodeEnv(spec.template);
    const state = env.RAFTKV_INITIAL_CLUSTER_STATE as InitialClusterState;
    if (this.world.replicas !== spec.replicas || this.world.initialClusterState !== state) {
      void this.world.applyWorkload(cluster, {
        replicas: spec.replicas,
        initialReplicas: Number(env.RAFTKV_INITIAL_CLUSTER_SIZE),
        initialClusterState: state,
        quorum: 0,
      });
    }
    this.mirror();
  }

  private mirror(): void {
    for (const [ordinal, pod] of this.world.pods) {
      const isReady = pod.isRunning && pod.dataId !== null && !pod.isRemovedMarked;
      const name = `${NAME}-${ordinal}`;
      const existing = this.fake.object(PODS, NS, name);
      const ready = (existing?.status as { conditions?: { status: string }[] } | undefined)
        ?.conditions?.[0]?.status;
      if (existing === undefined || ready !== (isReady ? 'True' : 'False')) {
        this.fake.put(podManifest(name, pod.isRunning, isReady, pod.restartCount));
      }
      this.mirroredPods.add(ordinal);
    }
    for (const ordinal of this.world.claims) {
      const name = `data-${NAME}-${ordinal}`;
      if (this.fake.object(CLAIMS, NS, name) === undefined) {
        this.fake.put({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name, namespace: NS, labels: labels() },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        });
      }
      this.mirroredClaims.add(ordinal);
    }
    for (const object of this.fake.objects(PODS, NS)) {
      const name = (object.metadata as { name: string }).name;
      const ordinal = Number(name.slice(NAME.length + 1));
      if (!this.world.pods.has(ordinal)) this.fake.remove(PODS, NS, name);
    }
  }
}

function labels(): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'raftkv',
    'app.kubernetes.io/instance': NAME,
    'app.kubernetes.io/component': 'node',
    'app.kubernetes.io/part-of': 'raftkv',
    'app.kubernetes.io/managed-by': 'raftkv-operator',
  };
}

function podManifest(
  name: string,
  isRunning: boolean,
  isReady: boolean,
  restartCount: number,
): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: labels() },
    spec: { containers: [{ name: 'raftkv', image: 'raftkv:0.1.0' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'raftkv',
          image: 'raftkv:0.1.0',
          imageID: '',
          ready: isReady,
          started: isRunning,
          restartCount,
          state: isRunning ? { running: {} } : { waiting: { reason: 'CrashLoopBackOff' } },
        },
      ],
    },
  };
}

function nodeEnv(template: Json): Record<string, string> {
  const containers = (
    template.spec as { containers: { env?: { name: string; value?: string }[] }[] }
  ).containers;
  return Object.fromEntries(
    (containers[0]?.env ?? []).flatMap((variable) =>
      variable.value === undefined ? [] : [[variable.name, variable.value]],
    ),
  );
}

describe('the operator against the fake API server', () => {
  let fake: FakeApiServer | undefined;
  let kubelet: FakeKubelet | undefined;
  let workDir: string | undefined;
  afterEach(async () => {
    kubelet?.stop();
    await fake?.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('creates a cluster, scales it with kubectl scale, and keeps its Lease through a conflict', async () => {
    fake = await FakeApiServer.start();
    workDir = await mkdtemp(path.join(tmpdir(), 'raftkv-operator-api-'));
    const dashboardPath = path.join(workDir, 'raftkv.json');
    await writeFile(dashboardPath, '{"title":"raftkv","uid":"raftkv"}');
    const kubeConfig = fake.kubeConfig();
    const world = new FakeWorld({
      peerUrlOf: (ordinal) =>
        `http://${NAME}-${ordinal}.${NAME}-peers.${NS}.svc.cluster.local:2380`,
    });
    kubelet = new FakeKubelet(fake, world);
    kubelet.start();
    fake.put({
      apiVersion: 'raftkv.io/v1alpha1',
      kind: 'RaftCluster',
      metadata: { name: NAME, namespace: NS },
      spec: {
        replicas: 3,
        monitoring: { serviceMonitor: { enabled: true }, dashboard: { enabled: true } },
      },
    });
    const logger = new RecordingLogger();
    let stop: () => void = () => undefined;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    const running = runOperator({
      options: parseOperatorOptions(
        [
          '--http-port=0',
          `--namespace=${NS}`,
          // The renew deadline outlasts a few failed renewals (one is injected below).
          '--lease-duration-seconds=6',
          '--renew-deadline-seconds=4',
          '--retry-period-seconds=1',
          '--resync-period-seconds=2',
        ],
        {},
      ),
      runtime: {
        platform: new KubernetesPlatform({
          kubeConfig,
          logger,
          dashboardPath,
          clientEndpointOf: (_cluster, ordinal) => `pod-${ordinal}:2379`,
        }),
        source: new KubernetesClusterSource({ kubeConfig, namespace: NS, logger }),
        leaseStore: new KubernetesLeaseStore({
          kubeConfig,
          namespace: NS,
          name: 'raftkv-operator',
        }),
        identity: 'operator-a',
      },
      logger,
      stopSignal,
      membershipClients: world.clients,
    });
    const server = fake;
    const status = (): RaftClusterStatus | undefined =>
      server.object(CLUSTERS, NS, NAME)?.status as RaftClusterStatus | undefined;
    const condition = (type: string) => status()?.conditions?.find((c) => c.type === type);
    const isSettled = (replicas: number, generation: number): boolean =>
      status()?.observedGeneration === generation &&
      status()?.replicas === replicas &&
      condition('Available')?.status === 'True' &&
      condition('Progressing')?.status === 'False';

    await waitFor(() => isSettled(3, 1), 'three members, available and stable', 20_000);
    // Every object it owns is a valid Kubernetes object, controlled by the RaftCluster.
    const owned = [
      server.object(STS, NS, NAME),
      server.object('v1/services', NS, NAME),
      server.object('v1/services', NS, `${NAME}-peers`),
      server.object('policy/v1/poddisruptionbudgets', NS, NAME),
      server.object('monitoring.coreos.com/v1/servicemonitors', NS, NAME),
      server.object('v1/configmaps', NS, `${NAME}-dashboard`),
    ];
    for (const object of owned) {
      expect(object).toBeDefined();
      await validateManifest(object);
    }
    const pdb = () =>
      (server.object('policy/v1/poddisruptionbudgets', NS, NAME)?.spec as { minAvailable: number })
        .minAvailable;
    expect(pdb()).toBe(2);
    // Once a leader served the configuration, new pods may only join.
    expect(
      nodeEnv((server.object(STS, NS, NAME)?.spec as { template: Json }).template),
    ).toMatchObject({
      RAFTKV_INITIAL_CLUSTER_STATE: 'existing',
      RAFTKV_INITIAL_CLUSTER_SIZE: '3',
    });
    // Status as specified.
    expect(status()).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      initialReplicas: 3,
      leader: `${NAME}-0`,
      selector:
        'app.kubernetes.io/name=raftkv,app.kubernetes.io/instance=rkv,app.kubernetes.io/component=node',
    });
    for (const type of ['Available', 'Progressing', 'Degraded']) {
      expect(condition(type)).toMatchObject({
        observedGeneration: 1,
        lastTransitionTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        reason: expect.stringMatching(/^[A-Z][A-Za-z]+$/),
      });
    }
    // The Lease: held by this operator, times with six fractional digits.
    const lease = server.object('coordination.k8s.io/v1/leases', NS, 'raftkv-operator');
    expect(lease?.spec).toMatchObject({
      holderIdentity: 'operator-a',
      renewTime: expect.stringMatching(/\.\d{6}Z$/),
    });
    // A conflicting Lease write (someone else wrote first) is retried, not fatal: the operator
    // renews again and keeps leading.
    const renewTime = (): unknown =>
      (server.object('coordination.k8s.io/v1/leases', NS, 'raftkv-operator')?.spec as Json)
        .renewTime;
    const renewedBefore = renewTime();
    server.injectConflict(LEASE_PATH);
    await waitFor(
      () =>
        server.requests.some(
          (request) => request.method === 'PUT' && request.path === LEASE_PATH,
        ) && renewTime() !== renewedBefore,
      'a renewal after the conflicting write',
      10_000,
    );
    expect(
      (server.object('coordination.k8s.io/v1/leases', NS, 'raftkv-operator')?.spec as Json)
        .holderIdentity,
    ).toBe('operator-a');

    // kubectl scale raftcluster/rkv --replicas=5: a merge patch of the scale subresource.
    await kubeConfig.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectScale(
      {
        group: 'raftkv.io',
        version: 'v1alpha1',
        namespace: NS,
        plural: 'raftclusters',
        name: NAME,
        body: { spec: { replicas: 5 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const generation = (server.object(CLUSTERS, NS, NAME)?.metadata as { generation: number })
      .generation;
    expect(generation).toBe(2);
    await waitFor(() => isSettled(5, 2), 'five members after the scale', 30_000);
    expect(pdb()).toBe(3);
    expect((server.object(STS, NS, NAME)?.spec as { replicas: number }).replicas).toBe(5);
    expect(status()?.lastStep).toMatchObject({ action: 'AddMember', member: `${NAME}-4` });
    const reasons = server
      .objects('v1/events', NS)
      .map((event) => (event as { reason: string }).reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['Created', 'MemberAdded', 'ReplicasRaised', 'MemberPromoted']),
    );
    // The operator wrote the RaftCluster only through its status subresource (the one other
    // write to it is this test's kubectl scale).
    const statusWrites = server.requests.filter(
      (request) =>
        ['PATCH', 'PUT', 'POST'].includes(request.method) &&
        request.path.startsWith(`/apis/raftkv.io/`) &&
        !request.path.endsWith('/scale'),
    );
    expect(statusWrites.length).toBeGreaterThan(0);
    for (const request of statusWrites) expect(request.path.endsWith('/status')).toBe(true);

    stop();
    expect(await running).toBe(0);
    // Released on a clean stop: another operator may take over at once.
    expect(
      (server.object('coordination.k8s.io/v1/leases', NS, 'raftkv-operator')?.spec as Json)
        .holderIdentity,
    ).not.toBe('operator-a');
  }, 90_000);
});
