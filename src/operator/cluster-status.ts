/**
 * The `RaftCluster` status one reconcile pass writes (docs/decisions/0011-operator-contract.md):
 * counts, members, leader and term from what the pass observed, and the conditions `Available`,
 * `Progressing` and `Degraded` from the observation and the step the pass took. Pure.
 */
import type { ClusterView, MemberView } from './cluster-view.js';
import { type ConditionUpdate, kubernetesTime, setConditions } from './conditions.js';
import { hex, type MembershipStep } from './membership-plan.js';
import {
  type LastStep,
  memberName,
  type MemberStatus,
  quorumOf,
  type RaftCluster,
  type RaftClusterStatus,
  selectorString,
} from './raft-cluster.js';

export interface StatusInputs {
  readonly cluster: RaftCluster;
  /** Null when the pass failed before it could observe. */
  readonly view: ClusterView | null;
  /** The step planned (and taken, unless `error` is set); null if the pass failed before. */
  readonly step: MembershipStep | null;
  /** What failed, if the pass failed. */
  readonly error: string | null;
  /** The failure was an object this cluster does not own (`Degraded` / `NotOwned`). */
  readonly isNotOwned?: boolean;
  readonly initialReplicas: number | null;
  readonly lastStep: LastStep | undefined;
  readonly nowMs: number;
}

/** The status to write at the end of a pass. */
export function buildStatus(inputs: StatusInputs): RaftClusterStatus {
  const { cluster, view } = inputs;
  const previous = cluster.status ?? {};
  const generation = cluster.metadata.generation ?? 0;
  const members = view?.members ?? null;
  const memberStatuses =
    members === null ? previous.members : members.map((m) => describe(cluster, view, m));
  const leader = members?.find((member) => member.id === view?.leaderId);
  const initialReplicas = inputs.initialReplicas ?? previous.initialReplicas;
  const clusterId =
    view?.clusterId !== null && view?.clusterId !== undefined
      ? hex(view.clusterId)
      : previous.clusterId;
  const lastStep = inputs.lastStep ?? previous.lastStep;
  return {
    observedGeneration: generation,
    replicas: members?.length ?? previous.replicas ?? 0,
    readyReplicas:
      view === null
        ? (previous.readyReplicas ?? 0)
        : view.workload.pods.filter((pod) => pod.isReady && !pod.isTerminating).length,
    selector: selectorString(cluster.metadata.name),
    ...(initialReplicas === undefined ? {} : { initialReplicas }),
    ...(clusterId === undefined ? {} : { clusterId }),
    leader: leader === undefined ? '' : nameOf(cluster, leader),
    leaderId: leader === undefined ? '' : hex(leader.id),
    term: termOf(view) ?? previous.term ?? 0,
    members: memberStatuses ?? [],
    ...(lastStep === undefined ? {} : { lastStep }),
    conditions: setConditions(
      previous.conditions,
      conditionUpdates(inputs),
      generation,
      kubernetesTime(inputs.nowMs),
    ),
  };
}

function describe(
  cluster: RaftCluster,
  view: ClusterView | null,
  member: MemberView,
): MemberStatus {
  return {
    name: nameOf(cluster, member),
    id: hex(member.id),
    role: member.isLearner ? 'Learner' : member.id === view?.leaderId ? 'Leader' : 'Follower',
    voter: !member.isLearner,
    healthy: isHealthy(member),
    appliedIndex: member.answer?.appliedIndex ?? 0,
  };
}

function nameOf(cluster: RaftCluster, member: MemberView): string {
  return member.ordinal === null
    ? hex(member.id)
    : memberName(cluster.metadata.name, member.ordinal);
}

function isHealthy(member: MemberView): boolean {
  return member.answer !== null && member.answer.memberId === member.id;
}

function termOf(view: ClusterView | null): number | undefined {
  if (view === null || view.podAnswers.size === 0) return undefined;
  return Math.max(...[...view.podAnswers.values()].map((answer) => answer.term));
}

function conditionUpdates(inputs: StatusInputs): ConditionUpdate[] {
  return [available(inputs), progressing(inputs), degraded(inputs)];
}

function available({ view, step }: StatusInputs): ConditionUpdate {
  const base = { type: 'Available' as const };
  if (step?.kind === 'create' || view === null || view.workload.replicas === null) {
    return { ...base, status: 'False', reason: 'Bootstrapping', message: 'creating the members' };
  }
  const members = view.members;
  if (members === null || view.leaderId === 0n) {
    return { ...base, status: 'False', reason: 'NoLeader', message: 'no member reports a leader' };
  }
  const voters = members.filter((member) => !member.isLearner);
  const healthy = voters.filter(isHealthy).length;
  const needed = quorumOf(voters.length);
  if (healthy < needed) {
    return {
      ...base,
      status: 'False',
      reason: 'QuorumLost',
      message: `${healthy} of ${voters.length} voters healthy; a quorum needs ${needed}`,
    };
  }
  return {
    ...base,
    status: 'True',
    reason: 'QuorumAvailable',
    message: `${healthy} of ${voters.length} voters healthy; a quorum needs ${needed}`,
  };
}

const STEP_REASONS: Partial<Record<MembershipStep['kind'], string>> = {
  create: 'Creating',
  addLearner: 'ScalingUp',
  raiseReplicas: 'ScalingUp',
  promote: 'PromotingLearner',
  transferLeadership: 'TransferringLeadership',
  lowerReplicas: 'ScalingDown',
  resetOrdinal: 'CleaningUp',
};

function progressing({ view, step }: StatusInputs): ConditionUpdate {
  const base = { type: 'Progressing' as const };
  const members = view?.members?.length;
  const desired = view?.desiredReplicas;
  const sizeMessage = `${members ?? '?'} members, ${desired ?? '?'} wanted`;
  if (step === null) {
    return { ...base, status: 'Unknown', reason: 'ReconcileError', message: sizeMessage };
  }
  if (step.kind === 'removeMember') {
    const reason = step.why === 'unhealthy' ? 'ReplacingMember' : 'ScalingDown';
    return { ...base, status: 'True', reason, message: `removing ${hex(step.id)}; ${sizeMessage}` };
  }
  if (step.kind === 'wait') {
    if (step.reason === 'LearnerCatchingUp') {
      return { ...base, status: 'True', reason: 'LearnerCatchingUp', message: step.message };
    }
    if (step.reason === 'PodsStarting') {
      return { ...base, status: 'True', reason: 'CleaningUp', message: step.message };
    }
    if (members !== undefined && desired !== undefined && members !== desired) {
      const reason = members < desired ? 'ScalingUp' : 'ScalingDown';
      return { ...base, status: 'True', reason, message: `${sizeMessage}; ${step.message}` };
    }
    return { ...base, status: 'False', reason: 'Stable', message: step.message };
  }
  const reason = STEP_REASONS[step.kind] ?? 'ScalingUp';
  return { ...base, status: 'True', reason, message: `${describeStep(step)}; ${sizeMessage}` };
}

function degraded({ view, step, error, isNotOwned }: StatusInputs): ConditionUpdate {
  const base = { type: 'Degraded' as const };
  if (error !== null) {
    const reason = isNotOwned === true ? 'NotOwned' : 'ReconcileError';
    return { ...base, status: 'True', reason, message: error };
  }
  if (
    step?.kind === 'wait' &&
    (step.reason === 'NotOwned' ||
      step.reason === 'QuorumAtRisk' ||
      step.reason === 'PeerUrlMismatch')
  ) {
    return { ...base, status: 'True', reason: step.reason, message: step.message };
  }
  const unhealthy = (view?.members ?? []).filter((member) => !isHealthy(member));
  if (unhealthy.length > 0) {
    return {
      ...base,
      status: 'True',
      reason: 'UnhealthyMembers',
      message: `not answering: ${unhealthy.map((member) => hex(member.id)).join(', ')}`,
    };
  }
  return { ...base, status: 'False', reason: 'AllMembersHealthy', message: 'every member answers' };
}

/** One line saying what a step does, for conditions, events and logs. */
export function describeStep(step: MembershipStep): string {
  switch (step.kind) {
    case 'create':
      return `creating ${step.replicas} founding members`;
    case 'wait':
      return step.message;
    case 'raiseReplicas':
      return `raising replicas to ${step.replicas}`;
    case 'lowerReplicas':
      return `lowering replicas to ${step.replicas}`;
    case 'resetOrdinal':
      return `deleting the pod and volume claim of ordinal ${step.ordinal}: ${step.why}`;
    case 'addLearner':
      return `adding ordinal ${step.ordinal} as a learner`;
    case 'promote':
      return `promoting learner ${hex(step.id)} (ordinal ${step.ordinal})`;
    case 'transferLeadership':
      return `moving leadership from ${hex(step.fromId)} to ${hex(step.toId)}`;
    case 'removeMember':
      return `removing member ${hex(step.id)} (${step.why === 'unhealthy' ? 'unhealthy' : 'scale down'})`;
  }
}
