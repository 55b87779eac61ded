/**
 * A real network partition: three raftkv members in their own network namespaces behind a
 * bridge (test/integration/netns-cluster.ts), clients (etcdctl) in a hub namespace, and a member
 * cut off with iptables DROP rules inside its namespace. When the leader is cut off, the
 * majority must elect a new leader within seconds and keep serving writes; the old leader must
 * step down (CheckQuorum) and never acknowledge a write; after healing it must catch up, and no
 * acknowledged write may be lost. Root only, with `ip` and `iptables` installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type EtcdctlResult,
  fromBase64,
  type JsonRange,
  type JsonStatus,
  sleep,
} from '../compat/etcdctl-runner.js';
import { NetnsCluster, netnsSupport } from './netns-cluster.js';
import { FAST_TIMING_ARGUMENTS } from './test-cluster.js';

const support = netnsSupport();
if (!support.isSupported) {
  process.stderr.write(
    `test/integration/partition.test.ts: skipped, needs root with 'ip' and 'iptables': ${support.reason}\n`,
  );
}
const itIfSupported = it.skipIf(!support.isSupported);
const title = (name: string): string =>
  support.isSupported ? name : `${name} (skipped: ${support.reason})`;

/** How long the majority may take to elect a new leader once the old one is cut off. */
const NEW_LEADER_WITHIN_MS = 5_000;

type Status = JsonStatus['Status'];

describe('partitions made with iptables inside network namespaces', () => {
  let cluster: NetnsCluster | undefined;
  let namePrefix = '';
  const netns = (): NetnsCluster => {
    if (cluster === undefined) throw new Error('no cluster');
    return cluster;
  };
  const fail = (what: string, result?: EtcdctlResult): string =>
    `${what}\n${
      result === undefined ? '' : `exit ${result.code}\n${result.stdout}\n${result.stderr}\n`
    }${cluster?.logTail() ?? ''}`;
  const lastLine = (result: EtcdctlResult): string => result.stderr.trim().split('\n').at(-1) ?? '';

  /** Status of member K as seen from the hub (undefined if it does not answer). */
  const statusFromHub = async (ordinal: number): Promise<Status | undefined> => {
    const result = await netns().etcdctl(['endpoint', 'status', '-w', 'json'], {
      endpoints: [netns().member(ordinal).clientEndpoint],
      commandTimeout: '1s',
    });
    if (result.code !== 0) return undefined;
    return (JSON.parse(result.stdout) as JsonStatus[])[0]?.Status;
  };
  /** Status of member K asked inside its own namespace (reachable while it is cut off). */
  const statusInside = async (ordinal: number): Promise<Status | undefined> => {
    const result = await netns().etcdctlInside(ordinal, ['endpoint', 'status', '-w', 'json'], {
      commandTimeout: '2s',
    });
    if (result.code !== 0) return undefined;
    return (JSON.parse(result.stdout) as JsonStatus[])[0]?.Status;
  };
  /** Waits until members `ordinals` agree on one leader other than `excludedId`. */
  const agreedLeader = async (ordinals: number[], excludedId: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(ordinals.map(statusFromHub));
      const leaders = new Set(statuses.map((status) => status?.leader ?? 0));
      const [leader] = [...leaders];
      if (leaders.size === 1 && leader !== undefined && leader !== 0 && leader !== excludedId) {
        const ordinal = ordinals.find(
          (_, position) => statuses[position]?.header.member_id === leader,
        );
        return { leader, ordinal, statuses };
      }
      if (Date.now() > deadline) {
        throw new Error(
          fail(`no agreed leader among ${ordinals.join(',')}: ${JSON.stringify(statuses)}`),
        );
      }
      await sleep(100);
    }
  };
  /** Waits until member K, seen from the hub, follows `leaderId` and applied `index`. */
  const caughtUp = async (ordinal: number, leaderId: number, index: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await statusFromHub(ordinal);
      if (status?.leader === leaderId && status.raftAppliedIndex >= index) return;
      if (Date.now() > deadline) {
        throw new Error(fail(`member ${ordinal} did not catch up: ${JSON.stringify(status)}`));
      }
      await sleep(100);
    }
  };

  beforeAll(async () => {
    if (!support.isSupported) return;
    cluster = await NetnsCluster.create({ size: 3, serveArguments: FAST_TIMING_ARGUMENTS });
    namePrefix = cluster.namePrefix;
  });
  afterAll(async () => {
    await cluster?.destroy();
    if (namePrefix !== '') expect(await NetnsCluster.leftoverNamespaces(namePrefix)).toEqual([]);
  });

  itIfSupported(
    title(
      'leader cut off: majority elects, old leader steps down, heals, catches up, no acknowledged write lost',
    ),
    async () => {
      const cluster = netns();
      /** Every write a client saw acknowledged: key → value. */
      const acknowledged = new Map<string, string>();
      const putAcknowledged = async (key: string, value: string, endpoints?: string[]) => {
        const result = await cluster.etcdctl(['put', key, value], {
          ...(endpoints === undefined ? {} : { endpoints }),
          commandTimeout: '3s',
        });
        if (result.code === 0) acknowledged.set(key, value);
        return result;
      };

      // 1. The cluster forms across the bridge.
      const first = await agreedLeader([0, 1, 2], 0, 20_000);
      const oldLeaderId = first.leader;
      const oldLeader = first.ordinal ?? -1;
      expect(oldLeader).toBeGreaterThanOrEqual(0);
      const majority = [0, 1, 2].filter((ordinal) => ordinal !== oldLeader);
      const majorityEndpoints = majority.map((ordinal) => cluster.member(ordinal).clientEndpoint);
      for (let index = 0; index < 5; index++) {
        const result = await putAcknowledged(`before/${index}`, `b${index}`);
        expect(result.code, fail('write before the partition', result)).toBe(0);
      }

      // A writer through every endpoint for the whole run: its writes that land on the cut-off
      // member time out; every acknowledged one must survive.
      let isWriting = true;
      let backgroundAttempts = 0;
      const background = (async () => {
        for (let index = 0; isWriting; index++) {
          backgroundAttempts++;
          await putAcknowledged(`bg/${String(index).padStart(5, '0')}`, `w${index}`);
        }
      })();

      // 2. Cut the leader off: every packet in and out of its interface is dropped.
      const isolatedAt = performance.now();
      await cluster.isolate(oldLeader);
      expect(await cluster.rules(oldLeader)).toContain('-A INPUT -i eth0 -j DROP');
      // A write sent to the cut-off leader right away cannot commit.
      const earlyWrite = cluster.etcdctlInside(oldLeader, ['put', 'stale/early', 'lost?'], {
        commandTimeout: '4s',
      });

      // 3. The majority elects a new leader within a few seconds and serves writes.
      const second = await agreedLeader(majority, oldLeaderId, 15_000);
      const electionMs = performance.now() - isolatedAt;
      expect(electionMs, fail(`new leader after ${Math.round(electionMs)} ms`)).toBeLessThan(
        NEW_LEADER_WITHIN_MS,
      );
      const oldTerm = first.statuses[0]?.raftTerm ?? 0;
      expect(second.statuses.every((status) => (status?.raftTerm ?? 0) > oldTerm)).toBe(true);
      for (let index = 0; index < 10; index++) {
        const result = await putAcknowledged(`during/${index}`, `d${index}`, majorityEndpoints);
        expect(result.code, fail('write to the majority', result)).toBe(0);
      }
      const majorityRead = await cluster.etcdctl(['get', 'during/', '--prefix', '--keys-only'], {
        endpoints: majorityEndpoints,
      });
      expect(majorityRead.stdout.split('\n').filter((line) => line !== '')).toHaveLength(10);

      // 4. The old leader steps down (CheckQuorum) and acknowledges nothing.
      const early = await earlyWrite;
      expect(early.code, fail('a write to the cut-off leader succeeded', early)).not.toBe(0);
      const stepDownDeadline = Date.now() + 10_000;
      for (;;) {
        const status = await statusInside(oldLeader);
        if (status !== undefined && status.leader !== oldLeaderId) break;
        if (Date.now() > stepDownDeadline) {
          throw new Error(fail(`the cut-off leader did not step down: ${JSON.stringify(status)}`));
        }
        await sleep(100);
      }
      const lateWrite = await cluster.etcdctlInside(oldLeader, ['put', 'stale/late', 'lost?'], {
        commandTimeout: '3s',
      });
      expect(lateWrite.code, fail('a write to the deposed leader succeeded', lateWrite)).not.toBe(
        0,
      );
      // A serializable read is local by definition: the old state (no during/ keys) is allowed.
      // (No linearizable read here: see the BUG test below.)
      const localRead = await cluster.etcdctlInside(oldLeader, [
        'get',
        'during/0',
        '--consistency=s',
      ]);
      expect(localRead.code, fail('serializable read on the deposed leader', localRead)).toBe(0);
      expect(localRead.stdout).toBe('');

      // 5. Heal; the old leader follows the new one and catches up.
      const target = (await statusFromHub(second.ordinal ?? -1))?.raftIndex ?? 0;
      await cluster.heal(oldLeader);
      expect(await cluster.rules(oldLeader)).not.toContain('DROP');
      const healedAt = performance.now();
      await caughtUp(oldLeader, second.leader, target, 20_000);
      const catchUpMs = performance.now() - healedAt;
      const oldLeaderEndpoint = [cluster.member(oldLeader).clientEndpoint];
      const healedRead = await cluster.etcdctl(
        ['get', 'during/', '--prefix', '-w', 'json', '--consistency=s'],
        { endpoints: oldLeaderEndpoint },
      );
      const healedValues = (JSON.parse(healedRead.stdout) as JsonRange).kvs?.map((entry) =>
        fromBase64(entry.value),
      );
      expect(healedValues).toEqual(Array.from({ length: 10 }, (_, index) => `d${index}`));
      // It serves writes again (forwarded to the new leader).
      const afterHeal = await putAcknowledged('after/heal', 'ok', oldLeaderEndpoint);
      expect(afterHeal.code, fail('write through the healed member', afterHeal)).toBe(0);

      // 6. No acknowledged write lost, on any member.
      await sleep(1000);
      isWriting = false;
      await background;
      const backgroundAcknowledged = [...acknowledged.keys()].filter((key) =>
        key.startsWith('bg/'),
      ).length;
      expect(backgroundAcknowledged).toBeGreaterThan(0);
      const staleKeys = new Set<string>();
      for (const member of cluster.members) {
        const result = await cluster.etcdctl(['get', '', '--from-key', '-w', 'json'], {
          endpoints: [member.clientEndpoint],
        });
        expect(result.code, fail(`read of everything on ${member.name}`, result)).toBe(0);
        const stored = new Map(
          ((JSON.parse(result.stdout) as JsonRange).kvs ?? []).map((entry) => [
            fromBase64(entry.key),
            fromBase64(entry.value),
          ]),
        );
        const lost = [...acknowledged].filter(([key, value]) => stored.get(key) !== value);
        expect(lost, `acknowledged writes missing on ${member.name}`).toEqual([]);
        for (const key of stored.keys()) if (key.startsWith('stale/')) staleKeys.add(key);
      }
      process.stderr.write(
        `partition: new leader ${Math.round(electionMs)} ms after the cut; old leader caught up ` +
          `${Math.round(catchUpMs)} ms after healing; background writes acknowledged ` +
          `${backgroundAcknowledged}/${backgroundAttempts}; write to the cut-off leader: ` +
          `${lastLine(early)}; to the deposed leader: ${lastLine(lateWrite)}; unacknowledged ` +
          `writes present after healing: ${JSON.stringify([...staleKeys])}\n`,
      );
    },
    120_000,
  );

  // Regression: a linearizable read on a member that knew no leader used to wedge it (the loop
  // re-offered the read to the core in a tight loop; RaftLoop.isNewWorkWaiting).
  itIfSupported(
    title('a follower cut off and read from (linearizable) rejoins after healing'),
    async () => {
      const cluster = netns();
      const { leader, ordinal: leaderOrdinal } = await agreedLeader([0, 1, 2], 0, 20_000);
      const follower = [0, 1, 2].find((ordinal) => ordinal !== leaderOrdinal) ?? 0;
      await cluster.isolate(follower);
      try {
        // Wait until the cut-off follower has lost its leader (its election timeout).
        const leaderlessDeadline = Date.now() + 10_000;
        for (;;) {
          const status = await statusInside(follower);
          if (status !== undefined && status.leader !== leader) break;
          if (Date.now() > leaderlessDeadline) throw new Error(fail('follower kept its leader'));
          await sleep(100);
        }
        // Without a leader a linearizable read must fail (etcd: request timed out / no leader)...
        const read = await cluster.etcdctlInside(follower, ['get', 'before/0'], {
          commandTimeout: '2s',
        });
        expect(read.code).not.toBe(0);
        // ...and leave the member responsive.
        const status = await statusInside(follower);
        expect(
          status,
          fail('the member stopped answering after a linearizable read'),
        ).toBeDefined();
      } finally {
        await cluster.heal(follower);
      }
      const target = (await statusFromHub(leaderOrdinal ?? -1))?.raftIndex ?? 0;
      await caughtUp(follower, leader, target, 15_000);
    },
    60_000,
  );
});
