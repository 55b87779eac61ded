/**
 * One level-triggered reconcile of one `RaftCluster`, in named phases (DESIGN.md §8):
 *  1. observeWorkload: the StatefulSet, pods and claims, through the platform;
 *  2. observeMembers: the Raft configuration (a quorum read) and every pod's own Status;
 *  3. plan: the one next membership step (membership-plan.ts);
 *  4. applyWorkload: every owned object, with the replicas the step wants (server-side apply);
 *  5. act: the step's membership call, reset or nothing;
 *  6. writeStatus: always, also when a phase failed (then `Degraded` / `ReconcileError`).
 *
 * Owns the little memory a pass cannot observe: catch-up targets of learners, since when a
 * member has been silent, ordinals it reset, and when each member change started (for
 * `status.lastStep`). Losing it (an operator restart) costs at most one extra pass or one
 * harmless reset, never safety. Must not: take two steps in one pass, or act without a leader.
 */
import type { Logger } from '../common/index.js';
import { buildStatus, describeStep } from './cluster-status.js';
import type { ClusterView, MemberAnswer, MemberView } from './cluster-view.js';
import { kubernetesTime } from './conditions.js';
import { hex, type MembershipStep, planStep } from './membership-plan.js';
import type {
  ConfiguredMember,
  MembershipClient,
  MembershipClientFactory,
} from './membership-client.js';
import { NOT_OWNED_CODE, type Platform, type WorkloadObservation } from './platform.js';
import {
  clusterKey,
  type LastStep,
  memberName,
  quorumOf,
  type RaftCluster,
  REPLICAS_MAX,
  resolveSpec,
} from './raft-cluster.js';

/** What the work queue does with a key after a pass. */
export type ReconcileResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeueAfter'; readonly delayMs: number }
  | { readonly kind: 'error'; readonly error: unknown };

/** Hooks for metrics. */
export interface ReconcileObserver {
  /** A membership step's call took `seconds`. */
  stepTaken(step: MembershipStep, seconds: number): void;
  /** The cluster `key` has `count` members in its configuration. */
  membersCounted(key: string, count: number): void;
}

export interface ReconcilerOptions {
  readonly platform: Platform;
  readonly membershipClients: MembershipClientFactory;
  readonly logger: Logger;
  readonly observer?: ReconcileObserver;
  /** A member silent this long is replaced (default 5 minutes). */
  readonly unhealthyAfterMs?: number;
  /** Next pass while a change is under way (default 1 s). */
  readonly progressingRequeueMs?: number;
  /** Next pass when stable (default 30 s; events wake it sooner). */
  readonly stableRequeueMs?: number;
  /** Milliseconds since the epoch (injectable for tests). */
  readonly nowMs?: () => number;
  /** Called after each step is taken (the local CLI prints them). */
  readonly onStep?: (cluster: RaftCluster, step: MembershipStep, seconds: number) => void;
}

type ChangeAction = 'AddMember' | 'RemoveMember' | 'ReplaceMember';

interface ClusterMemory {
  readonly catchUpTargets: Map<bigint, number>;
  readonly silentSinceMs: Map<bigint, number>;
  readonly resetOrdinals: Set<number>;
  /** Member changes under way, by ordinal. */
  readonly changes: Map<number, { readonly action: ChangeAction; readonly startedAtMs: number }>;
  lastStep: LastStep | undefined;
}

const UNHEALTHY_AFTER_MS_DEFAULT = 5 * 60_000;
/** Ordinals whose peer URLs are matched against the configuration. */
const ORDINALS_MATCHED = REPLICAS_MAX * 4;

export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly memories = new Map<string, ClusterMemory>();
  private readonly nowMs: () => number;

  constructor(options: ReconcilerOptions) {
    this.options = options;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Drops what was remembered of a deleted cluster. */
  forget(key: string): void {
    this.memories.delete(key);
  }

  async reconcile(cluster: RaftCluster): Promise<ReconcileResult> {
    const key = clusterKey(cluster);
    const memory = this.memoryOf(key);
    const logger = this.options.logger;
    let view: ClusterView | null = null;
    let step: MembershipStep | null = null;
    let error: string | null = null;
    let isNotOwned = false;
    let initialReplicas: number | null = cluster.status?.initialReplicas ?? null;
    let client: MembershipClient | null = null;
    try {
      const workload = await this.options.platform.observe(cluster);
      initialReplicas = workload.initialReplicas ?? initialReplicas;
      client = await this.openClient(cluster, workload);
      view = await this.observeMembers(cluster, workload, client, memory);
      this.options.observer?.membersCounted(key, view.members?.length ?? 0);
      step = planStep(view);
      if (step.kind === 'create') initialReplicas = step.replicas;
      await this.applyWorkload(cluster, view, step, initialReplicas);
      await this.act(cluster, step, client, memory);
      const isStable = step.kind === 'wait' && step.reason === 'Stable';
      return {
        kind: 'requeueAfter',
        delayMs: isStable
          ? (this.options.stableRequeueMs ?? 30_000)
          : (this.options.progressingRequeueMs ?? 1000),
      };
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      isNotOwned = (caught as { code?: unknown } | null)?.code === NOT_OWNED_CODE;
      logger.warn({ cluster: key, err: error, step: step?.kind }, 'reconcile failed');
      return { kind: 'error', error: caught };
    } finally {
      client?.close();
      await this.writeStatus(cluster, { view, step, error, isNotOwned, initialReplicas, memory });
    }
  }

  private memoryOf(key: string): ClusterMemory {
    let memory = this.memories.get(key);
    if (memory === undefined) {
      memory = {
        catchUpTargets: new Map(),
        silentSinceMs: new Map(),
        resetOrdinals: new Set(),
        changes: new Map(),
        lastStep: undefined,
      };
      this.memories.set(key, memory);
    }
    return memory;
  }

  private async openClient(
    cluster: RaftCluster,
    workload: WorkloadObservation,
  ): Promise<MembershipClient | null> {
    const running = workload.pods.filter((pod) => pod.isRunning && !pod.isTerminating);
    if (workload.replicas === null || running.length === 0) return null;
    const endpoints = running.map((pod) =>
      this.options.platform.clientEndpoint(cluster, pod.ordinal),
    );
    return this.options.membershipClients(endpoints);
  }

  /** Phase observeMembers: the configuration and each running pod's own answer. */
  private async observeMembers(
    cluster: RaftCluster,
    workload: WorkloadObservation,
    client: MembershipClient | null,
    memory: ClusterMemory,
  ): Promise<ClusterView> {
    const nowMs = this.nowMs();
    const podAnswers = new Map<number, MemberAnswer>();
    let configured: ConfiguredMember[] | null = null;
    if (client !== null) {
      const running = workload.pods.filter((pod) => pod.isRunning && !pod.isTerminating);
      const [list, ...answers] = await Promise.allSettled([
        client.list(),
        ...running.map((pod) =>
          client.status(this.options.platform.clientEndpoint(cluster, pod.ordinal)),
        ),
      ]);
      if (list?.status === 'fulfilled') configured = list.value as ConfiguredMember[];
      answers.forEach((outcome, index) => {
        const pod = running[index];
        if (outcome.status === 'fulfilled' && pod !== undefined) {
          podAnswers.set(pod.ordinal, outcome.value as MemberAnswer);
        }
      });
    }
    const leaderId = leaderOf(podAnswers);
    const members =
      configured === null ? null : this.toMemberViews(cluster, configured, podAnswers);
    this.remember(memory, members, podAnswers, leaderId, nowMs);
    return {
      desiredReplicas: resolveSpec(cluster.spec).replicas,
      workload,
      members:
        members?.map((member) => ({
          ...member,
          silentSinceMs: memory.silentSinceMs.get(member.id) ?? null,
        })) ?? null,
      leaderId,
      podAnswers,
      catchUpTargets: memory.catchUpTargets,
      resetOrdinals: memory.resetOrdinals,
      nowMs,
      unhealthyAfterMs: this.options.unhealthyAfterMs ?? UNHEALTHY_AFTER_MS_DEFAULT,
    };
  }

  private toMemberViews(
    cluster: RaftCluster,
    configured: readonly ConfiguredMember[],
    podAnswers: ReadonlyMap<number, MemberAnswer>,
  ): MemberView[] {
    const ordinalByPeerUrl = new Map<string, number>();
    for (let ordinal = 0; ordinal < ORDINALS_MATCHED; ordinal++) {
      let peerUrl: string;
      try {
        peerUrl = this.options.platform.peerUrl(cluster, ordinal);
      } catch {
        // The platform cannot address this ordinal (a local port scheme ends below 65536): no
        // member can have its peer URL, nor any higher one's.
        break;
      }
      ordinalByPeerUrl.set(peerUrl, ordinal);
    }
    return configured.map((member) => {
      const ordinal =
        member.peerUrls.map((url) => ordinalByPeerUrl.get(url)).find((k) => k !== undefined) ??
        null;
      const answer = ordinal === null ? undefined : podAnswers.get(ordinal);
      return {
        id: member.id,
        ordinal,
        isLearner: member.isLearner,
        answer: answer !== undefined && answer.memberId === member.id ? answer : null,
        silentSinceMs: null,
      };
    });
  }

  /** Updates silence times and learners' catch-up targets from this pass's observation. */
  private remember(
    memory: ClusterMemory,
    members: readonly MemberView[] | null,
    podAnswers: ReadonlyMap<number, MemberAnswer>,
    leaderId: bigint,
    nowMs: number,
  ): void {
    if (members === null) return;
    const ids = new Set(members.map((member) => member.id));
    for (const id of [...memory.silentSinceMs.keys()]) {
      if (!ids.has(id)) memory.silentSinceMs.delete(id);
    }
    for (const member of members) {
      if (member.answer !== null) memory.silentSinceMs.delete(member.id);
      else if (!memory.silentSinceMs.has(member.id)) memory.silentSinceMs.set(member.id, nowMs);
    }
    const leaderAnswer = [...podAnswers.values()].find((answer) => answer.memberId === leaderId);
    const learners = new Set(members.filter((m) => m.isLearner).map((m) => m.id));
    for (const id of [...memory.catchUpTargets.keys()]) {
      if (!learners.has(id)) memory.catchUpTargets.delete(id);
    }
    if (leaderAnswer === undefined) return;
    for (const id of learners) {
      if (!memory.catchUpTargets.has(id)) memory.catchUpTargets.set(id, leaderAnswer.commitIndex);
    }
  }

  /** Phase applyWorkload: every owned object, replicas as the step wants them. */
  private async applyWorkload(
    cluster: RaftCluster,
    view: ClusterView,
    step: MembershipStep,
    initialReplicas: number | null,
  ): Promise<void> {
    const current = view.workload.replicas;
    if (step.kind === 'wait' && step.reason === 'NotOwned') return;
    let replicas = current ?? 0;
    if (step.kind === 'create' || step.kind === 'raiseReplicas' || step.kind === 'lowerReplicas') {
      replicas = step.replicas;
    }
    if (current === null && step.kind !== 'create') return;
    const voters = view.members?.filter((member) => !member.isLearner).length ?? replicas;
    await this.options.platform.applyWorkload(cluster, {
      replicas,
      initialReplicas: initialReplicas ?? replicas,
      quorum: quorumOf(Math.max(voters, 1)),
    });
  }

  /** Phase act: the step's one call, with its event, log line and timing. */
  private async act(
    cluster: RaftCluster,
    step: MembershipStep,
    client: MembershipClient | null,
    memory: ClusterMemory,
  ): Promise<void> {
    if (step.kind === 'wait') return;
    const startedMs = this.nowMs();
    const platform = this.options.platform;
    const name = cluster.metadata.name;
    const needClient = (): MembershipClient => {
      if (client === null) throw new Error(`no member reachable to ${describeStep(step)}`);
      return client;
    };
    let reason: string;
    switch (step.kind) {
      case 'create':
        reason = 'Created';
        break;
      case 'raiseReplicas':
        reason = 'ReplicasRaised';
        break;
      case 'lowerReplicas':
        reason = 'ReplicasLowered';
        break;
      case 'resetOrdinal':
        await platform.resetOrdinal(cluster, step.ordinal);
        memory.resetOrdinals.add(step.ordinal);
        this.finishChange(cluster, memory, step.ordinal, 'RemoveMember');
        reason = 'StorageReset';
        break;
      case 'addLearner': {
        const id = await needClient().addLearner(platform.peerUrl(cluster, step.ordinal));
        memory.resetOrdinals.delete(step.ordinal);
        this.startChange(memory, step.ordinal, 'AddMember', startedMs);
        reason = 'MemberAdded';
        this.options.logger.info(
          { cluster: clusterKey(cluster), member: memberName(name, step.ordinal), id: hex(id) },
          'learner added',
        );
        break;
      }
      case 'promote':
        await needClient().promote(step.id);
        this.finishChange(cluster, memory, step.ordinal, 'AddMember');
        this.finishChange(cluster, memory, step.ordinal, 'ReplaceMember');
        reason = 'MemberPromoted';
        break;
      case 'transferLeadership':
        await needClient().moveLeader(step.toId);
        reason = 'LeaderMoved';
        break;
      case 'removeMember':
        await needClient().remove(step.id);
        if (step.ordinal !== null) {
          const action = step.why === 'unhealthy' ? 'ReplaceMember' : 'RemoveMember';
          this.startChange(memory, step.ordinal, action, startedMs);
        }
        reason = 'MemberRemoved';
        break;
    }
    const seconds = (this.nowMs() - startedMs) / 1000;
    this.options.observer?.stepTaken(step, seconds);
    this.options.onStep?.(cluster, step, seconds);
    this.options.logger.info(
      { cluster: clusterKey(cluster), step: step.kind, seconds },
      describeStep(step),
    );
    await platform.recordEvent(cluster, { type: 'Normal', reason, message: describeStep(step) });
  }

  private startChange(
    memory: ClusterMemory,
    ordinal: number,
    action: ChangeAction,
    startedAtMs: number,
  ): void {
    if (!memory.changes.has(ordinal)) memory.changes.set(ordinal, { action, startedAtMs });
  }

  private finishChange(
    cluster: RaftCluster,
    memory: ClusterMemory,
    ordinal: number,
    action: ChangeAction,
  ): void {
    const change = memory.changes.get(ordinal);
    if (change === undefined || change.action !== action) return;
    memory.changes.delete(ordinal);
    memory.lastStep = {
      action,
      member: memberName(cluster.metadata.name, ordinal),
      startedAt: kubernetesTime(change.startedAtMs),
      durationSeconds: Math.round(this.nowMs() - change.startedAtMs) / 1000,
    };
  }

  /** Phase writeStatus; a failure here is logged, never thrown over the pass's own outcome. */
  private async writeStatus(
    cluster: RaftCluster,
    pass: {
      readonly view: ClusterView | null;
      readonly step: MembershipStep | null;
      readonly error: string | null;
      readonly isNotOwned: boolean;
      readonly initialReplicas: number | null;
      readonly memory: ClusterMemory;
    },
  ): Promise<void> {
    const status = buildStatus({
      cluster,
      view: pass.view,
      step: pass.step,
      error: pass.error,
      isNotOwned: pass.isNotOwned,
      initialReplicas: pass.initialReplicas,
      lastStep: pass.memory.lastStep,
      nowMs: this.nowMs(),
    });
    try {
      await this.options.platform.writeStatus(cluster, status);
    } catch (caught) {
      this.options.logger.warn(
        { cluster: clusterKey(cluster), err: caught instanceof Error ? caught.message : caught },
        'status write failed',
      );
    }
  }
}

/** The leader the answers agree on at the highest term; 0n when none is known. */
function leaderOf(podAnswers: ReadonlyMap<number, MemberAnswer>): bigint {
  let best: MemberAnswer | undefined;
  for (const answer of podAnswers.values()) {
    if (answer.leaderId === 0n) continue;
    if (best === undefined || answer.term > best.term) best = answer;
  }
  return best?.leaderId ?? 0n;
}
