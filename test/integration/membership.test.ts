/**
 * Membership changes on real processes: a learner is added, started with
 * `--initial-cluster-state=existing`, catches up and is promoted to voter; then the leader is
 * removed through another member: a new leader is elected, the removed process exits 0 on its
 * own (its data directory stamped removed, so it refuses to start again), and the cluster keeps
 * serving writes.
 */
import type { ChildProcess } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RaftkvClient } from '../../src/client/index.js';
import {
  printLogsOnFailure,
  startTestCluster,
  type TestCluster,
  waitUntil,
} from './test-cluster.js';

const decoder = new TextDecoder();

async function valueOf(client: RaftkvClient, key: string): Promise<string | null> {
  const [found] = (await client.get(key)).kvs;
  return found === undefined ? null : decoder.decode(found.value);
}

/** Resolves with the exit code and signal of `child` (at once if it already exited). */
function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Rejects as soon as `child` exits, naming `who`; never resolves otherwise. */
function failOnExit(child: ChildProcess, who: string): Promise<never> {
  return exitOf(child).then(({ code, signal }) => {
    throw new Error(`${who} exited (code ${code}, signal ${signal})`);
  });
}

describe('membership changes', () => {
  let cluster: TestCluster;
  /** How the client saw the removal of the leader (test 2), checked by test 3. */
  let removalOutcome: string | undefined;
  let removedPeerUrl: string | undefined;
  printLogsOnFailure(() => cluster, 80);
  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  // Also a regression test: the new member installs the leader's snapshot (index 1, the
  // bootstrap configuration, which predates its addition); it used to conclude from "not in the
  // configuration" that it was removed, stamp its data directory removed and exit.
  it('adds a learner, lets it catch up and promotes it to voter', async () => {
    const admin = await cluster.client([0, 1, 2]);
    for (let index = 0; index < 50; index++) await admin.put(`before-join-${index}`, `${index}`);
    const slot = cluster.local.addMemberSlot();
    const peerUrl = `http://${slot.peerAddress}`;
    const added = await admin.memberAdd([peerUrl], { isLearner: true });
    expect(added.member.isLearner).toBe(true);
    expect(added.member.peerUrls).toEqual([peerUrl]);
    const learnerId = added.member.id;
    expect(added.members.map((member) => member.id)).toContain(learnerId);

    const learner = cluster.local.start(slot.ordinal, ['--initial-cluster-state=existing']);
    const exited = failOnExit(learner, `the learner ${slot.name}`);
    exited.catch(() => undefined);
    const learnerStatus = await Promise.race([
      waitUntil('the learner answers status', () => cluster.status(slot.ordinal), {
        timeoutMs: 30_000,
        cluster,
      }),
      exited,
    ]);
    expect(BigInt(learnerStatus.header?.memberId ?? 0)).toBe(learnerId);
    await Promise.race([cluster.waitForCaughtUp(slot.ordinal, 30_000, [0, 1, 2]), exited]);
    // Before its first contact with the leader it knows no configuration; once caught up it
    // knows it is a learner.
    expect((await cluster.status(slot.ordinal)).isLearner).toBe(true);

    // The leader may not have seen the learner's progress yet: retry while it says "not ready".
    await waitUntil(
      'the learner is promoted',
      async () => {
        await admin.memberPromote(learnerId);
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 250, cluster },
    );
    const listed = await waitUntil(
      'the member list shows the new member as a published voter',
      async () => {
        const { members } = await admin.memberList();
        const member = members.find((candidate) => candidate.id === learnerId);
        return member !== undefined && !member.isLearner && member.name === slot.name
          ? members
          : undefined;
      },
      { timeoutMs: 20_000, cluster },
    );
    expect(listed).toHaveLength(4);
    expect(listed.every((member) => !member.isLearner)).toBe(true);
    await waitUntil(
      'the new member reports itself a voter',
      async () => ((await cluster.status(slot.ordinal)).isLearner ? undefined : true),
      { timeoutMs: 10_000, cluster },
    );
    const newMember = await cluster.client([slot.ordinal]);
    await newMember.put('written-on-new-member', 'yes');
    expect(await valueOf(admin, 'written-on-new-member')).toBe('yes');
    expect(await valueOf(newMember, 'before-join-49')).toBe('49');
  });

  it('removes the leader: a new leader takes over and the removed process exits 0', async () => {
    const leader = await cluster.waitForLeader();
    const leaderId = BigInt(await cluster.memberId(leader));
    const survivors = cluster.running().filter((ordinal) => ordinal !== leader);
    expect(survivors.length).toBeGreaterThanOrEqual(2);
    const child = cluster.local.member(leader).process;
    if (child === undefined) throw new Error(`raftkv-${leader} is not running`);
    const exited = exitOf(child);
    removedPeerUrl = `http://${cluster.local.member(leader).peerAddress}`;
    const via = await cluster.client([survivors[0] ?? 0]);
    const membersBefore = (await via.memberList()).members.length;

    removalOutcome = await via.memberRemove(leaderId).then(
      (removal) =>
        removal.members.some((member) => member.id === leaderId) ? 'still listed' : 'ok',
      (error: unknown) => String(error),
    );

    const newLeader = await cluster.waitForLeader(20_000, [leader]);
    expect(survivors).toContain(newLeader);
    const exit = await withTimeout(exited, 20_000, `raftkv-${leader} exiting after its removal`);
    expect(exit, `exit of the removed raftkv-${leader}`).toEqual({ code: 0, signal: null });

    const everyone = await cluster.client(survivors);
    const { members } = await everyone.memberList();
    expect(members.map((member) => member.id)).not.toContain(leaderId);
    expect(members).toHaveLength(membersBefore - 1);
    for (let index = 0; index < 10; index++) await everyone.put(`after-removal-${index}`, 'ok');
    for (const ordinal of survivors) {
      const client = await cluster.client([ordinal]);
      expect(await valueOf(client, 'after-removal-9'), `read on raftkv-${ordinal}`).toBe('ok');
    }

    // Its data directory says it was removed: it refuses to start from it again.
    const restarted = cluster.local.start(leader);
    const refusal = await withTimeout(exitOf(restarted), 20_000, 'the removed member refusing');
    expect(refusal.code, 'exit code of a start from a removed data directory').not.toBe(0);
    expect(cluster.logTail(10)).toMatch(/removed/);
  });

  // Regression: the answer used to be CANCELLED (the removed leader stopped its gRPC server
  // while the call waited to unregister it) and the peer URL stayed taken. The registry record
  // now goes with the applied configuration (RaftLoop.forgetRemovedMembers).
  it('told the client that the leader was removed, and forgot its peer URL', async () => {
    expect.soft(removalOutcome, 'answer to MemberRemove of the leader').toBe('ok');
    const admin = await cluster.client(cluster.running());
    const added = await admin.memberAdd([removedPeerUrl ?? ''], { isLearner: true }).then(
      (result) => result.member.peerUrls,
      (error: unknown) => String(error),
    );
    expect.soft(added, "adding the removed member's peer URL again").toEqual([removedPeerUrl]);
  });
});
