import { describe, expect, it } from 'vitest';

import type { ClusterView, MemberAnswer, MemberView } from './cluster-view.js';
import { type MembershipStep, planStep } from './membership-plan.js';
import type { PodObservation } from './platform.js';

/** Member id of ordinal k in these tables: 0x100 + k (a re-added member gets 0x200 + k). */
const idOf = (ordinal: number): bigint => BigInt(0x100 + ordinal);
const LEADER = idOf(0);
const CLUSTER = 0xc1n;

interface MemberSpec {
  readonly ordinal: number;
  readonly id?: bigint;
  readonly learner?: boolean;
  /** Does not answer; silent since this many ms before now. */
  readonly silentForMs?: number;
  readonly applied?: number;
}

interface ViewSpec {
  readonly desired: number;
  readonly replicas: number | null;
  readonly members: readonly MemberSpec[] | null;
  readonly leader?: bigint;
  readonly pods?: readonly number[] | undefined;
  readonly claims?: readonly number[];
  readonly terminating?: readonly number[];
  /** Pods answering Status as some member id, by ordinal (besides the members' own). */
  readonly podAnswers?: Readonly<Record<number, bigint>>;
  readonly targets?: ReadonlyMap<bigint, number>;
  readonly reset?: readonly number[];
  readonly isOwned?: boolean;
}

const NOW_MS = 1_000_000;
const UNHEALTHY_AFTER_MS = 60_000;

function answer(memberId: bigint, applied: number, isLearner = false): MemberAnswer {
  return {
    clusterId: CLUSTER,
    memberId,
    leaderId: LEADER,
    term: 2,
    commitIndex: 100,
    appliedIndex: applied,
    isLearner,
  };
}

function view(spec: ViewSpec): ClusterView {
  const members: MemberView[] | null =
    spec.members?.map((member) => {
      const id = member.id ?? idOf(member.ordinal);
      const isSilent = member.silentForMs !== undefined;
      return {
        id,
        ordinal: member.ordinal,
        isLearner: member.learner ?? false,
        answer: isSilent ? null : answer(id, member.applied ?? 100, member.learner),
        silentSinceMs: isSilent ? NOW_MS - (member.silentForMs ?? 0) : null,
      };
    }) ?? null;
  const replicas = spec.replicas;
  const podOrdinals =
    spec.pods ?? Array.from({ length: replicas ?? 0 }, (_unused, ordinal) => ordinal);
  const pods: PodObservation[] = podOrdinals.map((ordinal) => ({
    name: `rkv-${ordinal}`,
    ordinal,
    isRunning: true,
    isReady: true,
    isTerminating: spec.terminating?.includes(ordinal) ?? false,
    restartCount: 0,
  }));
  const podAnswers = new Map<number, MemberAnswer>();
  for (const member of members ?? []) {
    if (member.answer !== null && member.ordinal !== null && podOrdinals.includes(member.ordinal)) {
      podAnswers.set(member.ordinal, member.answer);
    }
  }
  for (const [ordinal, memberId] of Object.entries(spec.podAnswers ?? {})) {
    podAnswers.set(Number(ordinal), answer(memberId, 50));
  }
  return {
    desiredReplicas: spec.desired,
    workload: {
      replicas,
      initialReplicas: replicas === null ? null : 3,
      initialClusterState: replicas === null ? null : 'existing',
      isOwned: spec.isOwned ?? true,
      pods,
      claimOrdinals: spec.claims ?? podOrdinals,
    },
    members,
    leaderId: spec.leader ?? (members === null ? 0n : LEADER),
    clusterId: members === null ? null : CLUSTER,
    podAnswers,
    catchUpTargets: spec.targets ?? new Map(),
    resetOrdinals: new Set(spec.reset ?? []),
    nowMs: NOW_MS,
    unhealthyAfterMs: UNHEALTHY_AFTER_MS,
    replacements: new Map(),
  };
}

const voters = (count: number): MemberSpec[] =>
  Array.from({ length: count }, (_unused, ordinal) => ({ ordinal }));

interface Row {
  readonly name: string;
  readonly view: ViewSpec;
  readonly step: MembershipStep | { readonly kind: 'wait'; readonly reason: string };
}

const ROWS: Row[] = [
  // Creation and the states where nothing may change.
  {
    name: 'no StatefulSet: create it with the founders',
    view: { desired: 3, replicas: null, members: null },
    step: { kind: 'create', replicas: 3 },
  },
  {
    name: 'a StatefulSet this cluster does not own: touch nothing',
    view: { desired: 3, replicas: 3, members: voters(3), isOwned: false },
    step: { kind: 'wait', reason: 'NotOwned' },
  },
  {
    name: 'members cannot be listed (no quorum): wait',
    view: { desired: 5, replicas: 3, members: null },
    step: { kind: 'wait', reason: 'NoLeader' },
  },
  {
    name: 'no member knows a leader: wait even though scaling is wanted',
    view: { desired: 5, replicas: 3, members: voters(3), leader: 0n },
    step: { kind: 'wait', reason: 'NoLeader' },
  },
  {
    name: 'stable at the desired size',
    view: { desired: 3, replicas: 3, members: voters(3) },
    step: { kind: 'wait', reason: 'Stable' },
  },
  // Scale up: add learner, raise replicas, catch up, promote.
  {
    name: 'scale up 3 to 5: add ordinal 3 as a learner first',
    view: { desired: 5, replicas: 3, members: voters(3) },
    step: { kind: 'addLearner', ordinal: 3 },
  },
  {
    name: 'learner added but its pod absent (crash after MemberAdd): raise replicas',
    view: {
      desired: 5,
      replicas: 3,
      members: [...voters(3), { ordinal: 3, learner: true, silentForMs: 1000 }],
    },
    step: { kind: 'raiseReplicas', replicas: 4 },
  },
  {
    name: 'learner pod started, no catch-up target recorded yet: wait',
    view: {
      desired: 5,
      replicas: 4,
      members: [...voters(3), { ordinal: 3, learner: true, applied: 100 }],
    },
    step: { kind: 'wait', reason: 'LearnerCatchingUp' },
  },
  {
    name: 'learner behind the leader commit index it must reach: wait',
    view: {
      desired: 5,
      replicas: 4,
      members: [...voters(3), { ordinal: 3, learner: true, applied: 40 }],
      targets: new Map([[idOf(3), 100]]),
    },
    step: { kind: 'wait', reason: 'LearnerCatchingUp' },
  },
  {
    name: 'learner caught up by log index: promote',
    view: {
      desired: 5,
      replicas: 4,
      members: [...voters(3), { ordinal: 3, learner: true, applied: 120 }],
      targets: new Map([[idOf(3), 100]]),
    },
    step: { kind: 'promote', id: idOf(3), ordinal: 3 },
  },
  {
    name: 'promotion would not have a healthy quorum (two voters silent): wait',
    view: {
      desired: 5,
      replicas: 4,
      members: [
        { ordinal: 0 },
        { ordinal: 1, silentForMs: 1000 },
        { ordinal: 2, silentForMs: 1000 },
        { ordinal: 3, learner: true, applied: 120 },
      ],
      targets: new Map([[idOf(3), 100]]),
    },
    step: { kind: 'wait', reason: 'QuorumAtRisk' },
  },
  {
    name: 'after promotion of 3: add ordinal 4',
    view: { desired: 5, replicas: 4, members: voters(4) },
    step: { kind: 'addLearner', ordinal: 4 },
  },
  {
    name: 'scale up: a leftover claim of the next ordinal is deleted before the add',
    view: { desired: 5, replicas: 3, members: voters(3), claims: [0, 1, 2, 3] },
    step: { kind: 'resetOrdinal', ordinal: 3, why: 'its member was removed' },
  },
  {
    name: 'desired lowered while a learner catches up: remove the learner',
    view: {
      desired: 3,
      replicas: 4,
      members: [...voters(3), { ordinal: 3, learner: true, applied: 10 }],
    },
    step: { kind: 'removeMember', id: idOf(3), ordinal: 3, why: 'scaleDown' },
  },
  {
    name: 'a learner silent too long (pod never starts): remove it to add it again',
    view: {
      desired: 5,
      replicas: 4,
      members: [...voters(3), { ordinal: 3, learner: true, silentForMs: UNHEALTHY_AFTER_MS }],
    },
    step: { kind: 'removeMember', id: idOf(3), ordinal: 3, why: 'unhealthy' },
  },
  // Scale down: highest first, leadership moved off, then replicas, then the claim.
  {
    name: 'scale down 5 to 3: remove the highest ordinal',
    view: { desired: 3, replicas: 5, members: voters(5) },
    step: { kind: 'removeMember', id: idOf(4), ordinal: 4, why: 'scaleDown' },
  },
  {
    name: 'the member to remove leads: hand leadership to the most caught-up voter',
    view: {
      desired: 3,
      replicas: 4,
      members: [
        { ordinal: 0, applied: 90 },
        { ordinal: 1, applied: 99 },
        { ordinal: 2 },
        { ordinal: 3 },
      ],
      leader: idOf(3),
    },
    step: { kind: 'transferLeadership', fromId: idOf(3), toId: idOf(2) },
  },
  {
    name: 'member removed but its pod still there: lower replicas',
    view: { desired: 3, replicas: 4, members: voters(3) },
    step: { kind: 'lowerReplicas', replicas: 3 },
  },
  {
    name: 'pod present but member removed (crash before lowering), 5 to 3 in one go',
    view: { desired: 3, replicas: 5, members: voters(3) },
    step: { kind: 'lowerReplicas', replicas: 3 },
  },
  {
    name: 'replicas lowered, the removed member claim remains: delete it',
    view: { desired: 3, replicas: 3, members: voters(3), pods: [0, 1, 2], claims: [0, 1, 2, 3] },
    step: { kind: 'resetOrdinal', ordinal: 3, why: 'its member was removed' },
  },
  {
    name: 'claim of a pod still terminating: wait for the pod',
    view: {
      desired: 3,
      replicas: 3,
      members: voters(3),
      pods: [0, 1, 2, 3],
      terminating: [3],
      claims: [0, 1, 2, 3],
    },
    step: { kind: 'wait', reason: 'PodsStarting' },
  },
  {
    name: 'scale 3 to 1 with one voter silent: removal would lose quorum',
    view: {
      desired: 1,
      replicas: 3,
      members: [{ ordinal: 0 }, { ordinal: 1, silentForMs: 5 }, { ordinal: 2 }],
    },
    step: { kind: 'wait', reason: 'QuorumAtRisk' },
  },
  {
    name: 'scale 2 to 1: remove ordinal 1 (one healthy voter remains, a quorum of one)',
    view: { desired: 1, replicas: 2, members: voters(2) },
    step: { kind: 'removeMember', id: idOf(1), ordinal: 1, why: 'scaleDown' },
  },
  // Unhealthy members and stale storage.
  {
    name: 'a voter silent too long: remove it (two healthy of two remain)',
    view: {
      desired: 3,
      replicas: 3,
      members: [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2, silentForMs: UNHEALTHY_AFTER_MS }],
    },
    step: { kind: 'removeMember', id: idOf(2), ordinal: 2, why: 'unhealthy' },
  },
  {
    name: 'a voter silent briefly (restarting): leave it',
    view: {
      desired: 3,
      replicas: 3,
      members: [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2, silentForMs: 5_000 }],
    },
    step: { kind: 'wait', reason: 'Stable' },
  },
  {
    name: 'two of three voters silent too long: never remove (quorum at risk)',
    view: {
      desired: 3,
      replicas: 3,
      members: [
        { ordinal: 0 },
        { ordinal: 1, silentForMs: UNHEALTHY_AFTER_MS },
        { ordinal: 2, silentForMs: UNHEALTHY_AFTER_MS },
      ],
    },
    step: { kind: 'wait', reason: 'QuorumAtRisk' },
  },
  {
    name: 'after removing an unhealthy member: its ordinal has storage of unknown origin, reset it',
    view: { desired: 3, replicas: 3, members: [{ ordinal: 0 }, { ordinal: 1 }] },
    step: { kind: 'resetOrdinal', ordinal: 2, why: 'its storage may hold a removed member' },
  },
  {
    name: 'reset done (fresh pod waiting to be added): add it as a learner',
    view: { desired: 3, replicas: 3, members: [{ ordinal: 0 }, { ordinal: 1 }], reset: [2] },
    step: { kind: 'addLearner', ordinal: 2 },
  },
  {
    name: 'a pod answers as a member that is not configured: reset it',
    view: {
      desired: 3,
      replicas: 3,
      members: [{ ordinal: 0 }, { ordinal: 1 }],
      podAnswers: { 2: idOf(2) },
    },
    step: {
      kind: 'resetOrdinal',
      ordinal: 2,
      why: 'its pod runs as member 0000000000000102, which is not in the configuration',
    },
  },
  {
    name: 'a pod answers as another member than the one configured for its ordinal: reset it',
    view: {
      desired: 3,
      replicas: 3,
      members: [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2, id: BigInt(0x202), silentForMs: 1 }],
      podAnswers: { 2: idOf(2) },
    },
    step: {
      kind: 'resetOrdinal',
      ordinal: 2,
      why: 'its pod runs as member 0000000000000102, not as 0000000000000202',
    },
  },
  {
    name: 'a removed member pod above the desired size is not reset: replicas are lowered',
    view: { desired: 3, replicas: 4, members: voters(3), podAnswers: { 3: idOf(3) } },
    step: { kind: 'lowerReplicas', replicas: 3 },
  },
];

describe('planStep', () => {
  it.each(ROWS)('$name', ({ view: spec, step }) => {
    const planned = planStep(view(spec));
    if (step.kind === 'wait') {
      expect(planned.kind).toBe('wait');
      expect(planned.kind === 'wait' && planned.reason).toBe(step.reason);
    } else {
      expect(planned).toEqual(step);
    }
  });

  it('walks 3 to 5 and back to 3 by repeatedly applying its own steps', () => {
    let spec: ViewSpec = { desired: 5, replicas: 3, members: voters(3) };
    const taken: string[] = [];
    for (let pass = 0; pass < 30; pass++) {
      const step = planStep(view(spec));
      if (step.kind === 'wait' && step.reason === 'Stable') break;
      taken.push(step.kind === 'wait' ? `wait:${step.reason}` : step.kind);
      spec = simulate(spec, step);
      if (
        spec.desired === 5 &&
        spec.members?.length === 5 &&
        !spec.members.some((m) => m.learner)
      ) {
        spec = { ...spec, desired: 3 };
      }
    }
    expect(taken).toEqual([
      'addLearner',
      'raiseReplicas',
      'wait:LearnerCatchingUp',
      'promote',
      'addLearner',
      'raiseReplicas',
      'wait:LearnerCatchingUp',
      'promote',
      'removeMember',
      'lowerReplicas',
      'resetOrdinal',
      'removeMember',
      'lowerReplicas',
      'resetOrdinal',
    ]);
  });
});

/** Applies a step to a table view the way a platform and cluster would. */
function simulate(spec: ViewSpec, step: MembershipStep): ViewSpec {
  const members = [...(spec.members ?? [])];
  const claims = new Set(spec.claims ?? Array.from({ length: spec.replicas ?? 0 }, (_u, k) => k));
  switch (step.kind) {
    case 'addLearner':
      members.push({ ordinal: step.ordinal, learner: true, silentForMs: 0 });
      return { ...spec, members };
    case 'raiseReplicas': {
      for (let ordinal = 0; ordinal < step.replicas; ordinal++) claims.add(ordinal);
      const started = members.map((member) =>
        member.learner === true ? { ordinal: member.ordinal, learner: true, applied: 0 } : member,
      );
      return {
        ...spec,
        replicas: step.replicas,
        members: started,
        claims: [...claims],
        pods: undefined,
      };
    }
    case 'wait': {
      // The learner catches up while the operator waits.
      const caughtUp = members.map((member) =>
        member.learner === true ? { ...member, applied: 100 } : member,
      );
      const targets = new Map(
        caughtUp.filter((member) => member.learner === true).map((m) => [idOf(m.ordinal), 100]),
      );
      return { ...spec, members: caughtUp, targets };
    }
    case 'promote':
      return {
        ...spec,
        members: members.map((member) =>
          member.learner === true ? { ordinal: member.ordinal } : member,
        ),
      };
    case 'removeMember':
      return { ...spec, members: members.filter((member) => member.ordinal !== step.ordinal) };
    case 'lowerReplicas':
      return {
        ...spec,
        replicas: step.replicas,
        pods: Array.from({ length: step.replicas }, (_u, k) => k),
        claims: [...claims],
      };
    case 'resetOrdinal':
      claims.delete(step.ordinal);
      return { ...spec, claims: [...claims] };
    default:
      throw new Error(`unexpected step ${step.kind}`);
  }
}
