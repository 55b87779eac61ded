/**
 * An in-memory cluster for reconciler tests: a Platform (StatefulSet replicas, pods, claims) and
 * the members' Cluster/Maintenance APIs over one model of what raftkv nodes do
 * (member-bootstrap.ts, raftkv-node.ts):
 *  - a pod on empty storage asks its peers first; it joins under an id registered for its peer
 *    URL that never started; with `--initial-cluster-state=new`, a founding ordinal whose peers
 *    do not answer founds the cluster (again, with amnesia, if it existed but did not answer);
 *  - a member that applies its own removal marks its storage removed and exits, and then
 *    crash-loops; one removed while down comes back answering as its old id;
 *  - the leader is the lowest running voter while running voters form a quorum.
 */
import type { MemberAnswer } from '../../src/operator/cluster-view.js';
import type {
  ConfiguredMember,
  MembershipClient,
  MembershipClientFactory,
} from '../../src/operator/membership-client.js';
import type {
  DesiredWorkload,
  Platform,
  PlatformEvent,
  WorkloadObservation,
  InitialClusterState,
} from '../../src/operator/platform.js';
import type {
  RaftCluster,
  RaftClusterSpec,
  RaftClusterStatus,
} from '../../src/operator/raft-cluster.js';
import { quorumOf } from '../../src/operator/raft-cluster.js';

interface FakePod {
  /** The member id whose data the pod's storage holds; null on empty storage. */
  dataId: bigint | null;
  /** The cluster that member belongs to. */
  dataCluster: bigint | null;
  isRunning: boolean;
  restartCount: number;
  /** Its storage is marked removed: it exits at every start. */
  isRemovedMarked: boolean;
}

/** The cluster the operator creates. */
export const MAIN_CLUSTER = 0xc1n;

interface FakeMember {
  readonly ordinal: number;
  isLearner: boolean;
  hasStarted: boolean;
}

export class FakeWorld implements Platform {
  replicas: number | null = null;
  initialReplicas: number | null = null;
  initialClusterState: InitialClusterState | null = null;
  /**
   * Times a founder on empty storage founded the cluster again: same cluster id (it comes from
   * the token) and its founder id, an amnesiac member no one can tell from the real one.
   */
  refoundings = 0;
  isOwned = true;
  readonly pods = new Map<number, FakePod>();
  readonly claims = new Set<number>();
  readonly members = new Map<bigint, FakeMember>();
  leaderId = 0n;
  commitIndex = 10;
  /** Learners apply this many entries per pass (Infinity: at once). */
  learnerApplied = new Map<bigint, number>();
  status: RaftClusterStatus | undefined;
  readonly events: PlatformEvent[] = [];
  readonly calls: string[] = [];
  private nextId = 0x100n;
  /** Makes the next call of this name throw. */
  failNext: string | null = null;
  /** The peer URL ordinal K registers with (the platform's own, when another platform acts). */
  private readonly peerUrlOf: (ordinal: number) => string;

  /**
   * Whom a pod on empty storage asks before founding: `founders` (the node before it asked every
   * ordinal: the other founding ordinals only, none at all for a one-member founding) or `all`.
   */
  private readonly discovery: 'founders' | 'all';

  constructor(
    options: {
      readonly peerUrlOf?: (ordinal: number) => string;
      readonly discovery?: 'founders' | 'all';
    } = {},
  ) {
    this.peerUrlOf = options.peerUrlOf ?? ((ordinal) => `http://pod-${ordinal}:2380`);
    this.discovery = options.discovery ?? 'all';
  }

  private ordinalOfPeerUrl(peerUrl: string): number {
    for (let ordinal = 0; ordinal < 32; ordinal++) {
      if (this.peerUrlOf(ordinal) === peerUrl) return ordinal;
    }
    throw new Error(`no ordinal has peer URL ${peerUrl}`);
  }

  cluster(spec: RaftClusterSpec, generation = 1): RaftCluster {
    return {
      apiVersion: 'raftkv.io/v1alpha1',
      kind: 'RaftCluster',
      metadata: { name: 'rkv', namespace: 'ns', uid: 'uid-1', generation },
      spec,
      ...(this.status === undefined ? {} : { status: this.status }),
    };
  }

  // --- Platform ---------------------------------------------------------------------------

  applyWorkload(_cluster: RaftCluster, desired: DesiredWorkload): Promise<void> {
    this.call('applyWorkload');
    this.replicas = desired.replicas;
    this.initialReplicas ??= desired.initialReplicas;
    this.initialClusterState = desired.initialClusterState;
    this.syncPods();
    return Promise.resolve();
  }

  observe(): Promise<WorkloadObservation> {
    this.call('observe');
    this.settle();
    return Promise.resolve({
      replicas: this.replicas,
      initialReplicas: this.initialReplicas,
      initialClusterState: this.initialClusterState,
      isOwned: this.isOwned,
      pods: [...this.pods].map(([ordinal, pod]) => ({
        name: `rkv-${ordinal}`,
        ordinal,
        isRunning: pod.isRunning,
        isReady: pod.isRunning && this.leaderId !== 0n,
        isTerminating: false,
        restartCount: pod.restartCount,
      })),
      claimOrdinals: [...this.claims],
    });
  }

  deletePod(_cluster: RaftCluster, ordinal: number): Promise<void> {
    this.call('deletePod');
    this.pods.delete(ordinal);
    this.syncPods();
    return Promise.resolve();
  }

  deleteClaim(_cluster: RaftCluster, ordinal: number): Promise<void> {
    this.call('deleteClaim');
    this.claims.delete(ordinal);
    return Promise.resolve();
  }

  resetOrdinal(_cluster: RaftCluster, ordinal: number): Promise<void> {
    this.call('resetOrdinal');
    this.pods.delete(ordinal);
    this.claims.delete(ordinal);
    this.syncPods();
    return Promise.resolve();
  }

  writeStatus(_cluster: RaftCluster, status: RaftClusterStatus): Promise<void> {
    this.call('writeStatus');
    this.status = status;
    return Promise.resolve();
  }

  recordEvent(_cluster: RaftCluster, event: PlatformEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }

  clientEndpoint(_cluster: RaftCluster, ordinal: number): string {
    return `pod-${ordinal}:2379`;
  }

  peerUrl(_cluster: RaftCluster, ordinal: number): string {
    return this.peerUrlOf(ordinal);
  }

  // --- the members' API ----------------------------------------------------------------------

  readonly clients: MembershipClientFactory = () => {
    const client: MembershipClient = {
      list: () => {
        this.call('list');
        this.settle();
        if (this.leaderId === 0n) return Promise.reject(new Error('no leader'));
        return Promise.resolve(
          [...this.members].map(([id, member]): ConfiguredMember => ({
            id,
            peerUrls: [this.peerUrlOf(member.ordinal)],
            isLearner: member.isLearner,
          })),
        );
      },
      status: (endpoint) => {
        const ordinal = Number(/pod-(\d+)/.exec(endpoint)?.[1]);
        const pod = this.pods.get(ordinal);
        if (pod === undefined || !this.isServing(pod) || pod.dataId === null) {
          return Promise.reject(new Error(`${endpoint} unreachable`));
        }
        if (pod.dataCluster !== MAIN_CLUSTER) {
          // A cluster of its own, which it leads alone.
          return Promise.resolve({
            clusterId: pod.dataCluster ?? 0n,
            memberId: pod.dataId,
            leaderId: pod.dataId,
            term: 1,
            commitIndex: 1,
            appliedIndex: 1,
            isLearner: false,
          });
        }
        const member = this.members.get(pod.dataId);
        const applied =
          member?.isLearner === true
            ? Math.min(this.commitIndex, this.learnerApplied.get(pod.dataId) ?? this.commitIndex)
            : this.commitIndex;
        const answer: MemberAnswer = {
          clusterId: MAIN_CLUSTER,
          memberId: pod.dataId,
          leaderId: member === undefined ? 0n : this.leaderId,
          term: 2,
          commitIndex: this.commitIndex,
          appliedIndex: applied,
          isLearner: member?.isLearner ?? false,
        };
        return Promise.resolve(answer);
      },
      addLearner: (peerUrl) => {
        this.call('addLearner');
        const ordinal = this.ordinalOfPeerUrl(peerUrl);
        const id = this.nextId++;
        this.members.set(id, { ordinal, isLearner: true, hasStarted: false });
        this.commitIndex++;
        this.settle();
        return Promise.resolve(id);
      },
      promote: (id) => {
        this.call('promote');
        const member = this.members.get(id);
        if (member?.isLearner !== true) return Promise.reject(new Error('not a learner'));
        member.isLearner = false;
        this.commitIndex++;
        this.settle();
        return Promise.resolve();
      },
      remove: (id) => {
        this.call('remove');
        const removed = this.members.get(id);
        if (removed === undefined) return Promise.reject(new Error('member not found'));
        this.members.delete(id);
        this.commitIndex++;
        // A running member applies its own removal: it marks its storage and exits for good.
        const pod = this.pods.get(removed.ordinal);
        if (pod !== undefined && pod.isRunning && pod.dataId === id) {
          pod.isRemovedMarked = true;
          pod.restartCount++;
        }
        if (id === this.leaderId) this.leaderId = 0n;
        this.settle();
        return Promise.resolve();
      },
      moveLeader: (targetId) => {
        this.call('moveLeader');
        const target = this.members.get(targetId);
        if (target === undefined || target.isLearner || !this.isAnswering(targetId)) {
          return Promise.reject(new Error('bad leader transferee'));
        }
        this.leaderId = targetId;
        return Promise.resolve();
      },
      close: () => undefined,
    };
    return Promise.resolve(client);
  };

  // --- the model ---------------------------------------------------------------------------

  /** Safety check the tests run after every pass: running voters always form a quorum. */
  hasQuorum(): boolean {
    const voters = [...this.members].filter(([, member]) => !member.isLearner);
    const running = voters.filter(([id]) => this.isAnswering(id)).length;
    return running >= quorumOf(voters.length);
  }

  isAnswering(id: bigint): boolean {
    const member = this.members.get(id);
    if (member === undefined) return false;
    const pod = this.pods.get(member.ordinal);
    return pod !== undefined && this.isServing(pod) && pod.dataId === id;
  }

  /** Its process runs and serves (a removed-marked one exits at once). */
  private isServing(pod: FakePod): boolean {
    return pod.isRunning && !pod.isRemovedMarked;
  }

  private call(name: string): void {
    this.calls.push(name);
    if (this.failNext === name) {
      this.failNext = null;
      throw new Error(`injected failure of ${name}`);
    }
  }

  /** What the StatefulSet controller does: pods for ordinals below replicas, none above. */
  private syncPods(): void {
    const replicas = this.replicas ?? 0;
    for (const ordinal of [...this.pods.keys()]) {
      if (ordinal >= replicas) this.pods.delete(ordinal);
    }
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      if (this.pods.has(ordinal)) continue;
      const hadClaim = this.claims.has(ordinal);
      this.claims.add(ordinal);
      const data = hadClaim ? this.claimData.get(ordinal) : undefined;
      this.pods.set(ordinal, {
        dataId: data?.id ?? null,
        dataCluster: data?.cluster ?? null,
        isRunning: true,
        restartCount: 0,
        isRemovedMarked: data?.isRemovedMarked ?? false,
      });
    }
    this.settle();
  }

  /** A recreated pod finds whatever member data its claim held. */
  private readonly claimData = new Map<
    number,
    { readonly id: bigint; readonly cluster: bigint; readonly isRemovedMarked: boolean }
  >();

  /** What the nodes do on their own: found, join, elect. */
  private settle(): void {
    this.foundOrJoin();
    for (const [ordinal, pod] of this.pods) {
      if (pod.dataId === null || pod.dataCluster === null) this.claimData.delete(ordinal);
      else {
        this.claimData.set(ordinal, {
          id: pod.dataId,
          cluster: pod.dataCluster,
          isRemovedMarked: pod.isRemovedMarked,
        });
      }
    }
    for (const ordinal of [...this.claimData.keys()]) {
      if (!this.claims.has(ordinal)) this.claimData.delete(ordinal);
    }
    this.elect();
  }

  /** Pods on empty storage: join under a registered id, or found, or wait. */
  private foundOrJoin(): void {
    const initial = this.initialReplicas ?? 0;
    const empty = [...this.pods].filter(([, pod]) => pod.isRunning && pod.dataId === null);
    // At creation the founders start together and find each other: one cluster.
    if (this.members.size === 0 && this.refoundings === 0) {
      const founders = empty.filter(([ordinal]) => ordinal < initial);
      if (founders.length < initial || this.initialClusterState !== 'new') return;
      for (const [ordinal, pod] of founders) {
        const id = BigInt(ordinal + 1);
        this.members.set(id, { ordinal, isLearner: false, hasStarted: true });
        pod.dataId = id;
        pod.dataCluster = MAIN_CLUSTER;
      }
      return;
    }
    for (const [ordinal, pod] of empty) {
      const registered = [...this.members].find(
        ([, member]) => member.ordinal === ordinal && !member.hasStarted,
      );
      if (registered !== undefined && this.anyPeerAnswers(ordinal, 'all')) {
        registered[1].hasStarted = true;
        pod.dataId = registered[0];
        pod.dataCluster = MAIN_CLUSTER;
        continue;
      }
      const mayFound = this.initialClusterState === 'new' && ordinal < initial;
      if (mayFound && !this.anyPeerAnswers(ordinal, this.discovery)) {
        // Nobody it asked answered: it founds the cluster again, under its founder id and the
        // same cluster id: a configuration of founders only, with an empty log.
        this.refoundings++;
        pod.dataId = BigInt(ordinal + 1);
        pod.dataCluster = MAIN_CLUSTER;
      }
    }
  }

  /** Whether a pod it asks serves an initialized member. */
  private anyPeerAnswers(self: number, whom: 'founders' | 'all'): boolean {
    const initial = this.initialReplicas ?? 0;
    return [...this.pods].some(
      ([ordinal, pod]) =>
        ordinal !== self &&
        (whom === 'all' || ordinal < initial) &&
        this.isServing(pod) &&
        pod.dataId !== null,
    );
  }

  private elect(): void {
    if (!this.hasQuorum()) {
      this.leaderId = 0n;
      return;
    }
    if (this.leaderId !== 0n && this.isAnswering(this.leaderId)) {
      const leader = this.members.get(this.leaderId);
      if (leader !== undefined && !leader.isLearner) return;
    }
    const voters = [...this.members]
      .filter(([id, member]) => !member.isLearner && this.isAnswering(id))
      .sort(([, a], [, b]) => a.ordinal - b.ordinal);
    this.leaderId = voters[0]?.[0] ?? 0n;
  }
}
