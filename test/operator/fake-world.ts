/**
 * An in-memory cluster for reconciler tests: a Platform (StatefulSet replicas, pods, claims) and
 * the members' Cluster/Maintenance APIs over one model of what raftkv nodes do. A pod on empty
 * storage joins only under an id registered for its peer URL that never started (as
 * member-bootstrap.ts does); a pod keeps answering as whatever member its storage holds, removed
 * or not; the leader is the lowest running voter while running voters form a quorum.
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
  isRunning: boolean;
}

interface FakeMember {
  readonly ordinal: number;
  isLearner: boolean;
  hasStarted: boolean;
}

export class FakeWorld implements Platform {
  replicas: number | null = null;
  initialReplicas: number | null = null;
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
    this.syncPods();
    return Promise.resolve();
  }

  observe(): Promise<WorkloadObservation> {
    this.call('observe');
    this.settle();
    return Promise.resolve({
      replicas: this.replicas,
      initialReplicas: this.initialReplicas,
      isOwned: this.isOwned,
      pods: [...this.pods].map(([ordinal, pod]) => ({
        name: `rkv-${ordinal}`,
        ordinal,
        isRunning: pod.isRunning,
        isReady: pod.isRunning && this.leaderId !== 0n,
        isTerminating: false,
        restartCount: 0,
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
    return `http://pod-${ordinal}:2380`;
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
            peerUrls: [`http://pod-${member.ordinal}:2380`],
            isLearner: member.isLearner,
          })),
        );
      },
      status: (endpoint) => {
        const ordinal = Number(/pod-(\d+)/.exec(endpoint)?.[1]);
        const pod = this.pods.get(ordinal);
        if (pod === undefined || !pod.isRunning || pod.dataId === null) {
          return Promise.reject(new Error(`${endpoint} unreachable`));
        }
        const member = this.members.get(pod.dataId);
        const applied =
          member?.isLearner === true
            ? Math.min(this.commitIndex, this.learnerApplied.get(pod.dataId) ?? this.commitIndex)
            : this.commitIndex;
        const answer: MemberAnswer = {
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
        const ordinal = Number(/pod-(\d+)/.exec(peerUrl)?.[1]);
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
        if (!this.members.delete(id)) return Promise.reject(new Error('member not found'));
        this.commitIndex++;
        if (id === this.leaderId) this.leaderId = 0n;
        this.settle();
        return Promise.resolve();
      },
      moveLeader: (targetId) => {
        this.call('moveLeader');
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
    return pod !== undefined && pod.isRunning && pod.dataId === id;
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
      this.pods.set(ordinal, { dataId: hadClaim ? this.dataOf(ordinal) : null, isRunning: true });
    }
    this.settle();
  }

  /** A recreated pod finds whatever member data its claim held. */
  private readonly claimData = new Map<number, bigint>();

  private dataOf(ordinal: number): bigint | null {
    return this.claimData.get(ordinal) ?? null;
  }

  /** What the nodes do on their own: found, join, elect. */
  private settle(): void {
    // Founders bootstrap together on empty storage.
    if (this.members.size === 0 && this.initialReplicas !== null) {
      for (let ordinal = 0; ordinal < this.initialReplicas; ordinal++) {
        const pod = this.pods.get(ordinal);
        if (pod === undefined || pod.dataId !== null) return;
      }
      for (let ordinal = 0; ordinal < this.initialReplicas; ordinal++) {
        const id = this.nextId++;
        this.members.set(id, { ordinal, isLearner: false, hasStarted: true });
        const pod = this.pods.get(ordinal);
        if (pod !== undefined) pod.dataId = id;
      }
    }
    // Empty storage joins under a registered id that never started.
    for (const [ordinal, pod] of this.pods) {
      if (pod.dataId !== null) continue;
      for (const [id, member] of this.members) {
        if (member.ordinal === ordinal && !member.hasStarted) {
          member.hasStarted = true;
          pod.dataId = id;
        }
      }
    }
    for (const [ordinal, pod] of this.pods) {
      if (pod.dataId === null) this.claimData.delete(ordinal);
      else this.claimData.set(ordinal, pod.dataId);
    }
    for (const ordinal of [...this.claimData.keys()]) {
      if (!this.claims.has(ordinal)) this.claimData.delete(ordinal);
    }
    this.elect();
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
