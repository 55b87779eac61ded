/**
 * The next membership step for a cluster (docs/decisions/0011-operator-contract.md): one safe
 * step per reconcile, derived only from what is observed now (level-triggered), so a step done
 * twice, or an operator killed between two steps, still converges. Pure: no I/O, no clock.
 *
 * Safety rules it never breaks:
 *  - no step while no leader is known (a membership change needs one anyway);
 *  - a voter is removed only if the remaining healthy voters form a quorum of the remaining
 *    configuration, and a learner promoted only if the healthy voters after promotion do;
 *  - one learner at a time, promoted only once caught up by log index;
 *  - a pod whose storage may belong to another member is reset (pod and claim deleted) before
 *    its ordinal is added again, so no member ever rejoins under an old identity.
 */
import type { ClusterView, MemberView } from './cluster-view.js';
import { quorumOf } from './raft-cluster.js';

/** Why nothing is done now; named like the conditions it shows as. */
export type WaitReason =
  | 'NotOwned'
  | 'NoLeader'
  | 'LearnerCatchingUp'
  | 'QuorumAtRisk'
  | 'PodsStarting'
  | 'PeerUrlMismatch'
  | 'Stable';

export type MembershipStep =
  /** No StatefulSet yet: create the workload with the founders. */
  | { readonly kind: 'create'; readonly replicas: number }
  | { readonly kind: 'wait'; readonly reason: WaitReason; readonly message: string }
  | { readonly kind: 'raiseReplicas'; readonly replicas: number }
  | { readonly kind: 'lowerReplicas'; readonly replicas: number }
  /** Delete the pod (if any) and the volume claim of `ordinal`: its data is not a member's. */
  | { readonly kind: 'resetOrdinal'; readonly ordinal: number; readonly why: string }
  | { readonly kind: 'addLearner'; readonly ordinal: number }
  | { readonly kind: 'promote'; readonly id: bigint; readonly ordinal: number }
  | { readonly kind: 'transferLeadership'; readonly fromId: bigint; readonly toId: bigint }
  | {
      readonly kind: 'removeMember';
      readonly id: bigint;
      readonly ordinal: number | null;
      readonly why: 'scaleDown' | 'unhealthy';
    };

const wait = (reason: WaitReason, message: string): MembershipStep => ({
  kind: 'wait',
  reason,
  message,
});

/** The one step to take next. */
export function planStep(view: ClusterView): MembershipStep {
  const { workload } = view;
  if (workload.replicas === null) return { kind: 'create', replicas: view.desiredReplicas };
  if (!workload.isOwned) {
    return wait('NotOwned', 'a StatefulSet of this name exists that this RaftCluster does not own');
  }
  const members = view.members;
  if (members === null || view.leaderId === 0n) {
    return wait('NoLeader', 'no member reports a leader; membership cannot change');
  }
  return (
    raiseForConfiguredMembers(view, members) ??
    resetStalePods(view, members) ??
    handleLearner(view, members) ??
    lowerReplicas(view, members) ??
    deleteLeftoverClaims(view, members) ??
    scaleDown(view, members) ??
    replaceUnhealthy(view, members) ??
    scaleUp(view, members) ??
    wait('Stable', `${countVoters(members)} voters, as wanted`)
  );
}

/** Every configured member needs its pod: raise replicas past the highest member ordinal. */
function raiseForConfiguredMembers(
  view: ClusterView,
  members: readonly MemberView[],
): MembershipStep | null {
  const highest = highestOrdinal(members);
  const replicas = view.workload.replicas ?? 0;
  if (highest === null || replicas > highest) return null;
  return { kind: 'raiseReplicas', replicas: highest + 1 };
}

/**
 * A pod that answers as a member other than the one configured for its ordinal (or as any member
 * when none is configured there) holds another incarnation's data: reset it. Only below the
 * desired size: pods above it are about to go anyway.
 */
function resetStalePods(view: ClusterView, members: readonly MemberView[]): MembershipStep | null {
  for (const [ordinal, answer] of view.podAnswers) {
    if (ordinal >= view.desiredReplicas) continue;
    if (view.clusterId !== null && answer.clusterId !== view.clusterId) {
      return {
        kind: 'resetOrdinal',
        ordinal,
        why: `its pod runs a member of another cluster (${hex(answer.clusterId)})`,
      };
    }
    const configured = memberAt(members, ordinal);
    if (configured?.id !== answer.memberId && members.some((m) => m.id === answer.memberId)) {
      // It runs a configured member whose peer URL no longer names this ordinal (the cluster
      // domain or the port scheme changed): never reset a member of the configuration.
      return wait(
        'PeerUrlMismatch',
        `the pod of ordinal ${ordinal} runs member ${hex(answer.memberId)}, whose peer URL is not this ordinal's`,
      );
    }
    if (configured === undefined) {
      return {
        kind: 'resetOrdinal',
        ordinal,
        why: `its pod runs as member ${hex(answer.memberId)}, which is not in the configuration`,
      };
    }
    if (configured.id !== answer.memberId) {
      return {
        kind: 'resetOrdinal',
        ordinal,
        why: `its pod runs as member ${hex(answer.memberId)}, not as ${hex(configured.id)}`,
      };
    }
  }
  return null;
}

/** A learner is either going (no longer wanted), catching up, or promoted. */
function handleLearner(view: ClusterView, members: readonly MemberView[]): MembershipStep | null {
  const learner = members.find((member) => member.isLearner);
  if (learner === undefined) return null;
  if (learner.ordinal === null || learner.ordinal >= view.desiredReplicas) {
    // Removing a learner never changes a quorum.
    return { kind: 'removeMember', id: learner.id, ordinal: learner.ordinal, why: 'scaleDown' };
  }
  if (isSilentTooLong(view, learner)) {
    return { kind: 'removeMember', id: learner.id, ordinal: learner.ordinal, why: 'unhealthy' };
  }
  const target = view.catchUpTargets.get(learner.id);
  const applied = learner.answer?.appliedIndex ?? -1;
  if (target === undefined || applied < target) {
    const podState = describeLearnerProgress(view, learner, applied, target);
    return wait('LearnerCatchingUp', podState);
  }
  const voters = members.filter((member) => !member.isLearner);
  const healthyAfter = voters.filter(isHealthy).length + 1;
  if (healthyAfter < quorumOf(voters.length + 1)) {
    return wait(
      'QuorumAtRisk',
      `promoting ${name(learner)} would leave ${healthyAfter} healthy of ${voters.length + 1} voters`,
    );
  }
  return { kind: 'promote', id: learner.id, ordinal: learner.ordinal };
}

function describeLearnerProgress(
  view: ClusterView,
  learner: MemberView,
  applied: number,
  target: number | undefined,
): string {
  const pod = view.workload.pods.find((candidate) => candidate.ordinal === learner.ordinal);
  if (pod === undefined || !pod.isRunning) return `learner ${name(learner)}: waiting for its pod`;
  if (learner.answer === null) return `learner ${name(learner)}: starting`;
  return `learner ${name(learner)}: applied ${applied} of ${target ?? '?'}`;
}

/** Too many members: the highest ordinal goes first, after handing off leadership. */
function scaleDown(view: ClusterView, members: readonly MemberView[]): MembershipStep | null {
  if (members.length <= view.desiredReplicas) return null;
  const candidate = [...members].sort(byOrdinalDescending)[0];
  if (candidate === undefined) return null;
  if (candidate.id === view.leaderId) {
    const successor = mostCaughtUpVoter(members, candidate.id);
    if (successor === undefined) {
      return wait('QuorumAtRisk', `no healthy voter can take over from ${name(candidate)}`);
    }
    return { kind: 'transferLeadership', fromId: candidate.id, toId: successor.id };
  }
  return removalIfSafe(members, candidate, 'scaleDown');
}

/**
 * Pods beyond the configuration go once their member is gone. While scaling up, pods up to the
 * desired size stay: a reset pod there waits to be added.
 */
function lowerReplicas(view: ClusterView, members: readonly MemberView[]): MembershipStep | null {
  const replicas = view.workload.replicas ?? 0;
  const needed = (highestOrdinal(members) ?? -1) + 1;
  const target =
    members.length < view.desiredReplicas
      ? Math.max(needed, Math.min(replicas, view.desiredReplicas))
      : needed;
  if (target >= replicas) return null;
  return { kind: 'lowerReplicas', replicas: target };
}

/** Claims of ordinals the StatefulSet no longer runs belong to removed members. */
function deleteLeftoverClaims(
  view: ClusterView,
  members: readonly MemberView[],
): MembershipStep | null {
  const replicas = view.workload.replicas ?? 0;
  for (const ordinal of [...view.workload.claimOrdinals].sort((a, b) => a - b)) {
    if (ordinal < replicas || memberAt(members, ordinal) !== undefined) continue;
    const pod = view.workload.pods.find((candidate) => candidate.ordinal === ordinal);
    if (pod !== undefined && !pod.isTerminating) {
      return wait('PodsStarting', `waiting for pod of ordinal ${ordinal} to stop`);
    }
    if (pod !== undefined) return wait('PodsStarting', `pod of ordinal ${ordinal} is stopping`);
    return { kind: 'resetOrdinal', ordinal, why: 'its member was removed' };
  }
  return null;
}

/** A member silent for too long is removed (if safe); the scale-up path adds it back anew. */
function replaceUnhealthy(
  view: ClusterView,
  members: readonly MemberView[],
): MembershipStep | null {
  const silent = members.find((member) => isSilentTooLong(view, member));
  if (silent === undefined) return null;
  if (silent.id === view.leaderId) return null;
  return removalIfSafe(members, silent, 'unhealthy');
}

/** Too few members: add the lowest missing ordinal as a learner, once its storage is clean. */
function scaleUp(view: ClusterView, members: readonly MemberView[]): MembershipStep | null {
  if (members.length >= view.desiredReplicas) return null;
  let ordinal = 0;
  while (memberAt(members, ordinal) !== undefined) ordinal++;
  const hasClaim = view.workload.claimOrdinals.includes(ordinal);
  if (hasClaim && !view.resetOrdinals.has(ordinal)) {
    // Storage of unknown origin (a removed member's, or a crash-looping one's): never let it
    // rejoin under the id about to be registered for this ordinal.
    return { kind: 'resetOrdinal', ordinal, why: 'its storage may hold a removed member' };
  }
  return { kind: 'addLearner', ordinal };
}

function removalIfSafe(
  members: readonly MemberView[],
  candidate: MemberView,
  why: 'scaleDown' | 'unhealthy',
): MembershipStep {
  if (!candidate.isLearner) {
    const remaining = members.filter((member) => !member.isLearner && member.id !== candidate.id);
    const healthy = remaining.filter(isHealthy).length;
    if (healthy < quorumOf(remaining.length)) {
      return wait(
        'QuorumAtRisk',
        `removing ${name(candidate)} would leave ${healthy} healthy of ${remaining.length} voters`,
      );
    }
  }
  return { kind: 'removeMember', id: candidate.id, ordinal: candidate.ordinal, why };
}

function mostCaughtUpVoter(
  members: readonly MemberView[],
  exceptId: bigint,
): MemberView | undefined {
  return members
    .filter((member) => !member.isLearner && member.id !== exceptId && isHealthy(member))
    .sort((a, b) => (b.answer?.appliedIndex ?? 0) - (a.answer?.appliedIndex ?? 0))[0];
}

function isHealthy(member: MemberView): boolean {
  return member.answer !== null && member.answer.memberId === member.id;
}

/**
 * Silent for longer than the unhealthy time: the time itself while its pod is up (running or
 * crash-looping), three times it while the pod is not (Pending, or Terminating on a lost node:
 * replacing may be the only way out, but give Kubernetes its chance first), and doubled for each
 * earlier replacement of the same ordinal (a member that can never catch up is retried ever more
 * slowly instead of in a tight loop).
 */
function isSilentTooLong(view: ClusterView, member: MemberView): boolean {
  if (member.silentSinceMs === null) return false;
  const pod = view.workload.pods.find((candidate) => candidate.ordinal === member.ordinal);
  const isPodUp =
    pod !== undefined && !pod.isTerminating && (pod.isRunning || pod.restartCount > 0);
  const replaced = member.ordinal === null ? 0 : (view.replacements.get(member.ordinal) ?? 0);
  const limitMs =
    view.unhealthyAfterMs *
    (isPodUp ? 1 : NOT_UP_FACTOR) *
    2 ** Math.min(replaced, REPLACEMENT_BACKOFF_DOUBLINGS_MAX);
  return view.nowMs - member.silentSinceMs >= limitMs;
}

/** How much longer a member whose pod is not up may stay silent before it is replaced. */
const NOT_UP_FACTOR = 3;
/** Replacements of one ordinal double its unhealthy time up to 2^this. */
const REPLACEMENT_BACKOFF_DOUBLINGS_MAX = 4;

function memberAt(members: readonly MemberView[], ordinal: number): MemberView | undefined {
  return members.find((member) => member.ordinal === ordinal);
}

function highestOrdinal(members: readonly MemberView[]): number | null {
  let highest: number | null = null;
  for (const member of members) {
    if (member.ordinal !== null && (highest === null || member.ordinal > highest)) {
      highest = member.ordinal;
    }
  }
  return highest;
}

function countVoters(members: readonly MemberView[]): number {
  return members.filter((member) => !member.isLearner).length;
}

/** Members without an ordinal sort last: they were not added by this operator. */
function byOrdinalDescending(a: MemberView, b: MemberView): number {
  return (b.ordinal ?? -1) - (a.ordinal ?? -1);
}

function name(member: MemberView): string {
  return member.ordinal === null ? hex(member.id) : `ordinal ${member.ordinal} (${hex(member.id)})`;
}

/** A member id as etcd prints it. */
export function hex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}
