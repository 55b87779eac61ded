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
  /** A member silent this long is replaced (default 10 minutes). */
  readonly unhealthyAfterMs?: number;
  /** Next pass while a change is under way (default 1 s). */
  readonly progressingRequeueMs?: number;
  /** Next pass when stable (default 30 s; events wake it sooner). */
  readonly stableRequeueMs?: number;
  /** Milliseconds since the epoch (injectable for tests). */
  readonly nowMs?: () => number;
  /** False once this operator lost its Lease: checked before every write. */
  readonly isLeading?: () => boolean;
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
  /** The cluster id, once seen with a leader and a configuration. */
  clusterId: bigint | null;
  /** Each learner's applied index at the previous pass. */
  readonly learnerApplied: Map<bigint, number>;
  /** Replacements of each ordinal (an unhealthy member removed). */
  readonly replacements: Map<number, number>;
}

const UNHEALTHY_AFTER_MS_DEFAULT = 10 * 60_000;
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
    let leaderClient: MembershipClient | null = null;
    try {
      const workload = await this.options.platform.observe(cluster);
      initialReplicas = workload.initialReplicas ?? initialReplicas;
      const observed = await this.observeMembers(cluster, workload, memory);
      view = observed.view;
      leaderClient = observed.leaderClient;
      this.options.observer?.membersCounted(key, view.members?.length ?? 0);
      step = planStep(view);
      // A StatefulSet deleted by hand is created again with the size the cluster was founded
      // with: another size would change which ordinals may found it.
      if (step.kind === 'create') initialReplicas ??= step.replicas;
      this.checkLeading();
      await this.applyWorkload(cluster, view, step, initialReplicas);
      this.checkLeading();
      await this.act(cluster, step, leaderClient, memory);
      return { kind: 'requeueAfter', delayMs: this.requeueDelayMs(step) };
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      isNotOwned = (caught as { code?: unknown } | null)?.code === NOT_OWNED_CODE;
      logger.warn({ cluster: key, err: error, step: step?.kind }, 'reconcile failed');
      return { kind: 'error', error: caught };
    } finally {
      leaderClient?.close();
      await this.writeStatus(cluster, { view, step, error, isNotOwned, initialReplicas, memory });
    }
  }

  /** Throws once this operator no longer holds the Lease: another one may be acting now. */
  private checkLeading(): void {
    if (this.options.isLeading !== undefined && !this.options.isLeading()) {
      throw new Error('this operator lost its leadership; the step is left to the new leader');
    }
  }

  /**
   * When to look again: soon while a change is under way, later while waiting for something only
   * the world can fix (a leader, a quorum, an object in the way), and at the resync while stable.
   */
  private requeueDelayMs(step: MembershipStep): number {
    const progressingMs = this.options.progressingRequeueMs ?? 1000;
    if (step.kind !== 'wait') return progressingMs;
    switch (step.reason) {
      case 'Stable':
        return this.options.stableRequeueMs ?? 30_000;
      case 'LearnerCatchingUp':
      case 'PodsStarting':
        return progressingMs;
      default:
        return progressingMs * BLOCKED_REQUEUE_FACTOR;
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
        clusterId: null,
        learnerApplied: new Map(),
        replacements: new Map(),
      };
      this.memories.set(key, memory);
    }
    return memory;
  }

  /**
   * Phase observeMembers: every running pod's own Status, which cluster they form and who
   * leads it, and the configuration read from that leader (never from whichever pod answers
   * first: a pod on foreign storage could answer for another cluster). Resolves with a client
   * of the leader alone, for the step's membership call.
   */
  private async observeMembers(
    cluster: RaftCluster,
    workload: WorkloadObservation,
    memory: ClusterMemory,
  ): Promise<{ readonly view: ClusterView; readonly leaderClient: MembershipClient | null }> {
    const nowMs = this.nowMs();
    const platform = this.options.platform;
    const podAnswers = new Map<number, MemberAnswer>();
    const running = workload.pods.filter((pod) => pod.isRunning && !pod.isTerminating);
    if (workload.replicas !== null && running.length > 0) {
      const statusClient = await this.options.membershipClients(
        running.map((pod) => platform.clientEndpoint(cluster, pod.ordinal)),
      );
      try {
        const answers = await Promise.allSettled(
          running.map((pod) => statusClient.status(platform.clientEndpoint(cluster, pod.ordinal))),
        );
        answers.forEach((outcome, index) => {
          const pod = running[index];
          if (outcome.status === 'fulfilled' && pod !== undefined) {
            podAnswers.set(pod.ordinal, outcome.value);
          }
        });
      } finally {
        statusClient.close();
      }
    }
    const known = memory.clusterId ?? parseClusterId(cluster.status?.clusterId);
    const { clusterId, leaderId, leaderOrdinal } = chooseCluster(podAnswers, known);
    let configured: ConfiguredMember[] | null = null;
    let leaderClient: MembershipClient | null = null;
    if (leaderOrdinal !== null) {
      leaderClient = await this.options.membershipClients([
        platform.clientEndpoint(cluster, leaderOrdinal),
      ]);
      configured = await leaderClient.list().catch(() => null);
      // The leader must be in the configuration it serves, or the answer is not one to act on.
      if (configured !== null && !configured.some((member) => member.id === leaderId)) {
        configured = null;
      }
    }
    const members =
      configured === null
        ? null
        : this.toMemberViews(cluster, configured, podAnswers, clusterId, leaderId);
    if (members !== null && clusterId !== null) memory.clusterId = clusterId;
    this.remember(memory, members, podAnswers, leaderId, nowMs);
    const view: ClusterView = {
      desiredReplicas: resolveSpec(cluster.spec).replicas,
      workload,
      members:
        members?.map((member) => ({
          ...member,
          silentSinceMs: memory.silentSinceMs.get(member.id) ?? null,
        })) ?? null,
      leaderId: members === null ? 0n : leaderId,
      // Only a cluster id a leader confirmed (it served the configuration) is acted on or
      // written to the status: a bare majority of answers may be foreign storage.
      clusterId: memory.clusterId,
      podAnswers,
      catchUpTargets: memory.catchUpTargets,
      resetOrdinals: memory.resetOrdinals,
      nowMs,
      unhealthyAfterMs: this.options.unhealthyAfterMs ?? UNHEALTHY_AFTER_MS_DEFAULT,
      replacements: memory.replacements,
    };
    return { view, leaderClient };
  }

  private toMemberViews(
    cluster: RaftCluster,
    configured: readonly ConfiguredMember[],
    podAnswers: ReadonlyMap<number, MemberAnswer>,
    clusterId: bigint | null,
    leaderId: bigint,
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
      // Healthy: it answers as itself, in this cluster, following this leader. A member that
      // answers the operator but has lost the leader cannot count towards a quorum.
      const isHealthy =
        answer !== undefined &&
        answer.memberId === member.id &&
        answer.clusterId === clusterId &&
        answer.leaderId === leaderId;
      return {
        id: member.id,
        ordinal,
        isLearner: member.isLearner,
        answer: isHealthy ? answer : null,
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
    // Silence is tracked whatever the pod's state; the plan gives a pod that is not up (Pending,
    // Terminating) longer before it replaces the member.
    const ids = new Set(members.map((member) => member.id));
    for (const id of [...memory.silentSinceMs.keys()]) {
      if (!ids.has(id)) memory.silentSinceMs.delete(id);
    }
    for (const member of members) {
      if (member.isLearner && member.answer !== null) {
        this.rememberLearnerProgress(memory, member.id, member.answer.appliedIndex, nowMs);
        continue;
      }
      if (member.answer !== null) memory.silentSinceMs.delete(member.id);
      else if (!memory.silentSinceMs.has(member.id)) memory.silentSinceMs.set(member.id, nowMs);
    }
    const leaderAnswer = [...podAnswers.values()].find((answer) => answer.memberId === leaderId);
    const learners = new Set(members.filter((m) => m.isLearner).map((m) => m.id));
    for (const id of [...memory.catchUpTargets.keys()]) {
      if (!learners.has(id)) memory.catchUpTargets.delete(id);
    }
    for (const id of [...memory.learnerApplied.keys()]) {
      if (!learners.has(id)) memory.learnerApplied.delete(id);
    }
    if (leaderAnswer === undefined) return;
    for (const id of learners) {
      if (!memory.catchUpTargets.has(id)) memory.catchUpTargets.set(id, leaderAnswer.commitIndex);
    }
  }

  /**
   * A learner that answers but does not advance while behind its catch-up target counts as
   * silent from when it stopped advancing: one that never catches up is removed after the
   * unhealthy time (and added anew), instead of blocking every other step forever.
   */
  private rememberLearnerProgress(
    memory: ClusterMemory,
    id: bigint,
    appliedIndex: number,
    nowMs: number,
  ): void {
    const previous = memory.learnerApplied.get(id);
    memory.learnerApplied.set(id, appliedIndex);
    const target = memory.catchUpTargets.get(id);
    const isStuck =
      target !== undefined &&
      appliedIndex < target &&
      previous !== undefined &&
      appliedIndex <= previous;
    if (!isStuck) memory.silentSinceMs.delete(id);
    else if (!memory.silentSinceMs.has(id)) memory.silentSinceMs.set(id, nowMs);
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
    // Once the cluster exists (a leader served its configuration), a pod on empty storage may
    // only wait to be added: a founder whose storage was reset must never found a second cluster.
    // Signs that it existed: the StatefulSet says so, a leader served a configuration, a
    // confirmed cluster id is known (status), or, when the StatefulSet is (re)created, volume
    // claims remain (a StatefulSet deleted by hand keeps them). Only a cluster with none of these
    // may be founded. (While the founders start, their claims exist but nothing else does.)
    const isEstablished =
      view.workload.initialClusterState === 'existing' ||
      view.members !== null ||
      view.clusterId !== null ||
      cluster.status?.clusterId !== undefined ||
      (step.kind === 'create' && view.workload.claimOrdinals.length > 0);
    await this.options.platform.applyWorkload(cluster, {
      replicas,
      initialReplicas: initialReplicas ?? replicas,
      initialClusterState: isEstablished ? 'existing' : 'new',
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
          if (step.why === 'unhealthy') {
            memory.replacements.set(step.ordinal, (memory.replacements.get(step.ordinal) ?? 0) + 1);
          }
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
    if (this.options.isLeading !== undefined && !this.options.isLeading()) return;
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

/** Requeue delay while blocked on the world (no leader, quorum at risk), in progressing delays. */
const BLOCKED_REQUEUE_FACTOR = 5;

/**
 * Which cluster the answering pods form and who leads it: the cluster seen before if any pod
 * still answers for it, else the one most pods answer for (a tie decides nothing); its leader is
 * the one reported at the highest term, and counts only if its own pod answers as that leader.
 */
function chooseCluster(
  podAnswers: ReadonlyMap<number, MemberAnswer>,
  known: bigint | null,
): { clusterId: bigint | null; leaderId: bigint; leaderOrdinal: number | null } {
  const counts = new Map<bigint, number>();
  for (const answer of podAnswers.values()) {
    counts.set(answer.clusterId, (counts.get(answer.clusterId) ?? 0) + 1);
  }
  let clusterId: bigint | null = known !== null && counts.has(known) ? known : null;
  if (clusterId === null && known === null) {
    const ranked = [...counts].sort(([, a], [, b]) => b - a);
    const [first, second] = ranked;
    if (first !== undefined && (second === undefined || second[1] < first[1])) {
      clusterId = first[0];
    }
  }
  if (clusterId === null) return { clusterId: known, leaderId: 0n, leaderOrdinal: null };
  let best: MemberAnswer | undefined;
  for (const answer of podAnswers.values()) {
    if (answer.clusterId !== clusterId || answer.leaderId === 0n) continue;
    if (best === undefined || answer.term > best.term) best = answer;
  }
  const leaderId = best?.leaderId ?? 0n;
  for (const [ordinal, answer] of podAnswers) {
    if (
      answer.clusterId === clusterId &&
      answer.memberId === leaderId &&
      answer.leaderId === leaderId
    ) {
      return { clusterId, leaderId, leaderOrdinal: ordinal };
    }
  }
  return { clusterId, leaderId: 0n, leaderOrdinal: null };
}

/** A cluster id as the status writes it (16 hex digits), or null. */
function parseClusterId(text: string | undefined): bigint | null {
  return text !== undefined && /^[0-9a-f]{1,16}$/.test(text) ? BigInt(`0x${text}`) : null;
}
