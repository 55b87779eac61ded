/**
 * The reconciler against an in-memory world (fake-world.ts): each phase's calls, the status and
 * conditions it writes from partial states, and whole scale sequences with the operator's
 * memory dropped (a restart) between passes, checking after every pass that the running voters
 * still form a quorum.
 */
import { describe, expect, it } from 'vitest';

import { SILENT_LOGGER } from '../../src/common/index.js';
import { findCondition } from '../../src/operator/conditions.js';
import { NOT_OWNED_CODE } from '../../src/operator/platform.js';
import { Reconciler, type ReconcileResult } from '../../src/operator/reconciler.js';
import { FakeWorld, MAIN_CLUSTER } from './fake-world.js';

function reconcilerFor(world: FakeWorld, nowMs = () => 1_000_000): Reconciler {
  return new Reconciler({
    platform: world,
    membershipClients: world.clients,
    logger: SILENT_LOGGER,
    nowMs,
    unhealthyAfterMs: 60_000,
  });
}

/** Runs passes until the cluster is stable with `replicas` voters; returns the steps taken. */
async function converge(
  world: FakeWorld,
  replicas: number,
  options: { restartEvery?: number; maxPasses?: number } = {},
): Promise<string[]> {
  let reconciler = reconcilerFor(world);
  const steps: string[] = [];
  for (let pass = 1; pass <= (options.maxPasses ?? 60); pass++) {
    if (options.restartEvery !== undefined && pass % options.restartEvery === 0) {
      reconciler = reconcilerFor(world);
    }
    const before = world.events.length;
    const result: ReconcileResult = await reconciler.reconcile(world.cluster({ replicas }));
    expect(result.kind).not.toBe('error');
    expect(world.hasQuorum()).toBe(true);
    steps.push(...world.events.slice(before).map((event) => event.reason));
    const progressing = findCondition(world.status?.conditions, 'Progressing');
    const voters = [...world.members.values()].filter((member) => !member.isLearner).length;
    if (progressing?.status === 'False' && voters === replicas && world.replicas === replicas) {
      return steps;
    }
  }
  throw new Error(`did not converge to ${replicas}: ${steps.join(', ')}`);
}

describe('Reconciler', () => {
  it('creates the founders, then reports them available and stable', async () => {
    const world = new FakeWorld();
    const reconciler = reconcilerFor(world);
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    expect(world.replicas).toBe(3);
    expect(world.initialReplicas).toBe(3);
    expect(findCondition(world.status?.conditions, 'Available')?.reason).toBe('Bootstrapping');
    expect(findCondition(world.status?.conditions, 'Progressing')?.reason).toBe('Creating');
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    const status = world.status;
    expect(status?.replicas).toBe(3);
    expect(status?.readyReplicas).toBe(3);
    expect(status?.initialReplicas).toBe(3);
    expect(status?.leader).toBe('rkv-0');
    expect(status?.members?.map((member) => member.role)).toEqual([
      'Leader',
      'Follower',
      'Follower',
    ]);
    expect(status?.selector).toBe(
      'app.kubernetes.io/name=raftkv,app.kubernetes.io/instance=rkv,app.kubernetes.io/component=node',
    );
    expect(findCondition(status?.conditions, 'Available')).toMatchObject({
      status: 'True',
      reason: 'QuorumAvailable',
      observedGeneration: 1,
    });
    expect(findCondition(status?.conditions, 'Progressing')?.reason).toBe('Stable');
    expect(findCondition(status?.conditions, 'Degraded')?.reason).toBe('AllMembersHealthy');
  });

  it('scales 3 to 5 one learner at a time: add, raise replicas, catch up, promote', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    const steps = await converge(world, 5);
    expect(steps).toEqual([
      'MemberAdded',
      'ReplicasRaised',
      'MemberPromoted',
      'MemberAdded',
      'ReplicasRaised',
      'MemberPromoted',
    ]);
    expect(world.status?.lastStep).toMatchObject({ action: 'AddMember', member: 'rkv-4' });
  });

  it('scales 5 to 3 highest first, moving leadership off a leader being removed', async () => {
    const world = new FakeWorld();
    await converge(world, 5);
    // Make the highest ordinal lead: it must hand over before it is removed.
    const highest = [...world.members].find(([, member]) => member.ordinal === 4)?.[0] ?? 0n;
    world.leaderId = highest;
    const steps = await converge(world, 3);
    expect(steps).toEqual([
      'LeaderMoved',
      'MemberRemoved',
      'ReplicasLowered',
      'StorageReset',
      'MemberRemoved',
      'ReplicasLowered',
      'StorageReset',
    ]);
    expect(world.claims).toEqual(new Set([0, 1, 2]));
    expect(world.status?.lastStep).toMatchObject({ action: 'RemoveMember', member: 'rkv-3' });
  });

  it('walks 3, 5, 3, 1, 3 with the operator restarted every few passes', async () => {
    for (const restartEvery of [2, 3, 5]) {
      const world = new FakeWorld();
      for (const replicas of [3, 5, 3, 1, 3]) {
        await converge(world, replicas, { restartEvery });
        expect(world.members.size).toBe(replicas);
      }
      // Every member answers as itself: nobody rejoined with another member's storage.
      for (const id of world.members.keys()) expect(world.isAnswering(id)).toBe(true);
    }
  });

  it('works with a platform that cannot address high ordinals (local port schemes)', async () => {
    const world = new FakeWorld();
    const peerUrl = world.peerUrl.bind(world);
    world.peerUrl = (cluster, ordinal) => {
      if (ordinal >= 7) throw new Error(`ordinal ${ordinal} has no port`);
      return peerUrl(cluster, ordinal);
    };
    await converge(world, 3);
    await converge(world, 5);
    expect(world.members.size).toBe(5);
  });

  it('no leader: takes no step and reports NoLeader', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    for (const pod of world.pods.values()) pod.isRunning = false;
    world.calls.length = 0;
    await reconcilerFor(world).reconcile(world.cluster({ replicas: 5 }));
    expect(world.calls.filter((call) => call === 'addLearner')).toEqual([]);
    expect(findCondition(world.status?.conditions, 'Available')).toMatchObject({
      status: 'False',
      reason: 'NoLeader',
    });
  });

  it('a StatefulSet it does not own: applies nothing and reports Degraded NotOwned', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    world.isOwned = false;
    world.calls.length = 0;
    await reconcilerFor(world).reconcile(world.cluster({ replicas: 5 }));
    expect(world.calls).not.toContain('applyWorkload');
    expect(findCondition(world.status?.conditions, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'NotOwned',
    });
  });

  it('replaces a member silent too long: remove, reset its storage, add anew, promote', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    const victim = [...world.members].find(([, member]) => member.ordinal === 2)?.[0] ?? 0n;
    const pod = world.pods.get(2);
    if (pod === undefined) throw new Error('no pod 2');
    // Its process crash-loops: the pod is up, the member silent.
    pod.isRunning = false;
    pod.restartCount = 3;
    let nowMs = 1_000_000;
    const reconciler = reconcilerFor(world, () => nowMs);
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    expect(findCondition(world.status?.conditions, 'Degraded')?.reason).toBe('UnhealthyMembers');
    nowMs += 61_000;
    const reasons: string[] = [];
    for (let pass = 0; pass < 10; pass++) {
      const before = world.events.length;
      await reconciler.reconcile(world.cluster({ replicas: 3 }));
      reasons.push(...world.events.slice(before).map((event) => event.reason));
      if (reasons.includes('MemberPromoted')) break;
    }
    expect(reasons).toEqual(['MemberRemoved', 'StorageReset', 'MemberAdded', 'MemberPromoted']);
    expect(world.members.has(victim)).toBe(false);
    expect(world.members.size).toBe(3);
    expect(world.status?.lastStep?.action).toBe('ReplaceMember');
  });

  it('a platform refusing to overwrite an object it does not own: Degraded NotOwned', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    world.applyWorkload = () =>
      Promise.reject(
        Object.assign(new Error('Service ns/rkv exists and is not controlled by rkv'), {
          code: NOT_OWNED_CODE,
        }),
      );
    const result = await reconcilerFor(world).reconcile(world.cluster({ replicas: 3 }));
    expect(result.kind).toBe('error');
    expect(findCondition(world.status?.conditions, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'NotOwned',
    });
  });

  it('a silent member whose pod is not up (Pending, lost node) gets three times longer', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    const pod = world.pods.get(2);
    if (pod === undefined) throw new Error('no pod 2');
    pod.isRunning = false; // Never started: Pending (unschedulable), restartCount 0.
    let nowMs = 1_000_000;
    const reconciler = reconcilerFor(world, () => nowMs);
    // Within three unhealthy times (3 × 60 s): left alone.
    for (let pass = 0; pass < 5; pass++) {
      await reconciler.reconcile(world.cluster({ replicas: 3 }));
      nowMs += 40_000;
    }
    expect(world.calls).not.toContain('remove');
    expect(findCondition(world.status?.conditions, 'Degraded')?.reason).toBe('UnhealthyMembers');
    // After them: replaced (a pod on a lost node may never come back by itself).
    nowMs += 30_000;
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    expect(world.calls).toContain('remove');
  });

  it('replacing founder 0 of a cluster founded with one member never founds a second cluster', async () => {
    // The review's scenario: founded with 1, scaled to 3, ordinal 0 crash-loops long enough to
    // be replaced. Its pod restarts on empty storage; a node that asks no peer before founding
    // (initial size 1) would found a second cluster unless told the cluster exists.
    const world = new FakeWorld({ discovery: 'founders' });
    await converge(world, 1);
    await converge(world, 3);
    expect(world.initialClusterState).toBe('existing');
    const zero = world.pods.get(0);
    if (zero === undefined) throw new Error('no pod 0');
    zero.isRunning = false;
    zero.restartCount = 5;
    let nowMs = 2_000_000;
    const reconciler = reconcilerFor(world, () => nowMs);
    const reasons: string[] = [];
    for (let pass = 0; pass < 20; pass++) {
      const before = world.events.length;
      await reconciler.reconcile(world.cluster({ replicas: 3 }));
      reasons.push(...world.events.slice(before).map((event) => event.reason));
      expect(world.hasQuorum()).toBe(true);
      nowMs += 61_000;
      if (reasons.includes('MemberPromoted')) break;
    }
    expect(reasons).toEqual(['MemberRemoved', 'StorageReset', 'MemberAdded', 'MemberPromoted']);
    expect(world.refoundings).toBe(0);
    expect(world.members.size).toBe(3);
    for (const id of world.members.keys()) expect(world.isAnswering(id)).toBe(true);
    expect(world.status?.clusterId).toBe('00000000000000c1');
  });

  it('a pod answering for another cluster is reset, and the configuration read from the leader', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    // Ordinal 2's storage is replaced by a member of another cluster that leads itself.
    const pod = world.pods.get(2);
    if (pod === undefined) throw new Error('no pod 2');
    pod.dataCluster = MAIN_CLUSTER + 7n;
    pod.dataId = 3n;
    const reconciler = reconcilerFor(world);
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    expect(world.events.at(-1)?.reason).toBe('StorageReset');
    expect(world.events.at(-1)?.message).toContain('another cluster');
  });

  it('a learner that answers but never catches up is removed after the unhealthy time', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    let nowMs = 3_000_000;
    const reconciler = reconcilerFor(world, () => nowMs);
    await reconciler.reconcile(world.cluster({ replicas: 4 })); // adds the learner
    const learnerId = [...world.members].find(([, member]) => member.isLearner)?.[0] ?? 0n;
    world.learnerApplied.set(learnerId, 0);
    for (let pass = 0; pass < 8 && !world.calls.includes('remove'); pass++) {
      await reconciler.reconcile(world.cluster({ replicas: 4 }));
      nowMs += 30_000;
    }
    expect(world.calls).toContain('remove');
    expect(world.members.has(learnerId)).toBe(false);
  });

  it('never resets a pod that runs a configured member whose peer URL changed', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    // The platform now names other peer URLs (the cluster domain changed): no member maps to
    // an ordinal, yet every pod answers as a configured member.
    world.peerUrl = (_cluster, ordinal) => `http://pod-${ordinal}.other.domain:2380`;
    world.calls.length = 0;
    const reconciler = reconcilerFor(world);
    for (let pass = 0; pass < 3; pass++) await reconciler.reconcile(world.cluster({ replicas: 3 }));
    expect(world.calls).not.toContain('resetOrdinal');
    expect(world.calls).not.toContain('remove');
    expect(findCondition(world.status?.conditions, 'Degraded')?.reason).toBe('PeerUrlMismatch');
  });

  it('a StatefulSet deleted by hand is created again for the existing cluster', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    world.replicas = null;
    world.pods.clear(); // The claims remain.
    const reconciler = reconcilerFor(world);
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    expect(world.initialClusterState).toBe('existing');
    await converge(world, 3);
    expect(world.refoundings).toBe(0);
  });

  it('a failing phase still writes status, as Degraded ReconcileError', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    world.failNext = 'addLearner';
    const result = await reconcilerFor(world).reconcile(world.cluster({ replicas: 4 }, 2));
    expect(result.kind).toBe('error');
    expect(world.calls.at(-1)).toBe('writeStatus');
    expect(findCondition(world.status?.conditions, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ReconcileError',
      message: 'injected failure of addLearner',
      observedGeneration: 2,
    });
    expect(world.status?.observedGeneration).toBe(2);
  });

  it('keeps a condition transition time while its status holds', async () => {
    const world = new FakeWorld();
    let nowMs = 1_000_000;
    const reconciler = reconcilerFor(world, () => nowMs);
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    nowMs += 5_000;
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    const available = findCondition(world.status?.conditions, 'Available');
    nowMs += 5_000;
    await reconciler.reconcile(world.cluster({ replicas: 3 }));
    expect(findCondition(world.status?.conditions, 'Available')?.lastTransitionTime).toBe(
      available?.lastTransitionTime,
    );
  });

  it('waits for a lagging learner to reach the leader commit index before promoting', async () => {
    const world = new FakeWorld();
    await converge(world, 3);
    const reconciler = reconcilerFor(world);
    await reconciler.reconcile(world.cluster({ replicas: 4 })); // add learner
    const learnerId = [...world.members].find(([, member]) => member.isLearner)?.[0] ?? 0n;
    world.learnerApplied.set(learnerId, 0);
    for (let pass = 0; pass < 4; pass++) await reconciler.reconcile(world.cluster({ replicas: 4 }));
    expect(world.calls).not.toContain('promote');
    expect(findCondition(world.status?.conditions, 'Progressing')?.reason).toBe(
      'LearnerCatchingUp',
    );
    world.learnerApplied.delete(learnerId);
    await reconciler.reconcile(world.cluster({ replicas: 4 }));
    await reconciler.reconcile(world.cluster({ replicas: 4 }));
    expect(world.calls).toContain('promote');
  });
});
