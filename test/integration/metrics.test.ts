/**
 * The HTTP port of real members: `/metrics` (Prometheus text) follows an election caused by
 * killing the leader (term, role, commit and applied indexes), `/livez` and `/readyz` answer
 * 200 on healthy members, and `/readyz` answers 503 on a member cut off from the others.
 */
import parsePrometheusTextFormat, { type ParsedMetricFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  printLogsOnFailure,
  startTestCluster,
  type TestCluster,
  waitUntil,
} from './test-cluster.js';

type Families = Map<string, ParsedMetricFamily>;

/** The gauges this test follows, as one member reports them. */
interface RaftGauges {
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly hasLeader: number;
  /** raftkv_raft_role by role label. */
  readonly roles: Readonly<Record<string, number>>;
}

function sampleValue(families: Families, name: string, labels: Record<string, string> = {}) {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  const matches = family.metrics.filter((candidate) =>
    Object.entries(labels).every(([key, value]) => candidate.labels?.[key] === value),
  );
  if (matches.length !== 1) {
    throw new Error(`${matches.length} samples of ${name} ${JSON.stringify(labels)}`);
  }
  return Number(matches[0]?.value);
}

describe('the HTTP endpoints of real members', () => {
  let cluster: TestCluster;
  let paused: number[] = [];
  printLogsOnFailure(() => cluster);
  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
  });
  afterAll(async () => {
    for (const ordinal of paused) cluster?.local.signal(ordinal, 'SIGCONT');
    await cluster?.destroy();
  });

  async function scrape(ordinal: number): Promise<Families> {
    const answer = await cluster.httpGet(ordinal, '/metrics');
    expect(answer.status, `/metrics of raftkv-${ordinal}`).toBe(200);
    const families = parsePrometheusTextFormat(answer.body);
    return new Map(families.map((family) => [family.name, family]));
  }

  async function gauges(ordinal: number): Promise<RaftGauges> {
    const families = await scrape(ordinal);
    const roleFamily = families.get('raftkv_raft_role');
    const roles = Object.fromEntries(
      (roleFamily?.metrics ?? []).map((sample) => [sample.labels?.role, Number(sample.value)]),
    );
    return {
      term: sampleValue(families, 'raftkv_raft_term'),
      commitIndex: sampleValue(families, 'raftkv_raft_commit_index'),
      appliedIndex: sampleValue(families, 'raftkv_raft_applied_index'),
      hasLeader: sampleValue(families, 'raftkv_server_has_leader'),
      roles,
    };
  }

  /** Polls the gauges of `ordinals` until `isExpected` holds for them all together. */
  async function waitForGauges(
    description: string,
    ordinals: readonly number[],
    isExpected: (all: RaftGauges[]) => boolean,
  ): Promise<RaftGauges[]> {
    let last: RaftGauges[] = [];
    try {
      return await waitUntil(
        description,
        async () => {
          last = await Promise.all(ordinals.map((ordinal) => gauges(ordinal)));
          return isExpected(last) ? last : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, cluster },
      );
    } catch (error) {
      throw new Error(`${String(error)}\nlast gauges: ${JSON.stringify(last)}`, { cause: error });
    }
  }

  const leaderCount = (all: readonly RaftGauges[]): number =>
    all.filter((one) => one.roles.leader === 1).length;

  it('reports one leader, the term and the indexes, and moves them across an election', async () => {
    const leader = await cluster.waitForLeader();
    const before = await waitForGauges(
      'exactly one member reports role leader',
      [0, 1, 2],
      (all) => leaderCount(all) === 1 && new Set(all.map((one) => one.term)).size === 1,
    );
    expect(before[leader]?.roles).toMatchObject({ leader: 1, follower: 0, candidate: 0 });
    for (const one of before) {
      expect(one.term).toBeGreaterThanOrEqual(2);
      expect(one.hasLeader).toBe(1);
      expect(Object.values(one.roles).reduce((sum, value) => sum + value, 0)).toBe(1);
    }
    const termBefore = before[leader]?.term ?? 0;

    await cluster.local.kill(leader);
    const survivors = [0, 1, 2].filter((ordinal) => ordinal !== leader);
    const newLeader = await cluster.waitForLeader(15_000, [leader]);
    const afterElection = await waitForGauges(
      'the survivors report a higher term and one leader',
      survivors,
      (all) => all.every((one) => one.term > termBefore) && leaderCount(all) === 1,
    );
    const newLeaderGauges = afterElection[survivors.indexOf(newLeader)];
    expect(newLeaderGauges?.roles.leader, `raftkv_raft_role on raftkv-${newLeader}`).toBe(1);
    const follower = afterElection[survivors.indexOf(newLeader) === 0 ? 1 : 0];
    expect(follower?.roles).toMatchObject({ follower: 1, leader: 0 });

    const client = await cluster.client(survivors);
    await client.put('metrics-key', 'after-election');
    await waitForGauges('commit and applied indexes rise on the survivors', survivors, (all) =>
      all.every(
        (one, position) =>
          one.commitIndex > (afterElection[position]?.commitIndex ?? Infinity) &&
          one.appliedIndex > (afterElection[position]?.appliedIndex ?? Infinity) &&
          one.appliedIndex === one.commitIndex,
      ),
    );

    cluster.local.start(leader);
    await cluster.waitForCaughtUp(leader);
    await waitForGauges(
      'the restarted member follows in the new term',
      [leader],
      ([one]) => one !== undefined && one.roles.follower === 1 && one.term > termBefore,
    );
  });

  it('answers /livez and /readyz 200 on healthy members', async () => {
    await cluster.waitForLeader();
    for (const ordinal of [0, 1, 2]) {
      await waitUntil(
        `raftkv-${ordinal} is ready`,
        async () => ((await cluster.httpGet(ordinal, '/readyz')).status === 200 ? true : undefined),
        { timeoutMs: 15_000, cluster },
      );
      const live = await cluster.httpGet(ordinal, '/livez');
      expect(live.status, live.body).toBe(200);
      expect((await cluster.httpGet(ordinal, '/readyz?verbose')).status).toBe(200);
    }
    expect((await cluster.httpGet(0, '/nothing-here')).status).toBe(404);
  });

  it('answers /readyz 503 on a member cut off from the others, 200 again after', async () => {
    const isolated = 0;
    paused = [1, 2];
    for (const ordinal of paused) cluster.local.signal(ordinal, 'SIGSTOP');
    try {
      const notReady = await waitUntil(
        'the isolated member is not ready',
        async () => {
          const answer = await cluster.httpGet(isolated, '/readyz');
          return answer.status === 503 ? answer : undefined;
        },
        { timeoutMs: 15_000, cluster },
      );
      expect(notReady.body).toMatch(/leader/);
      expect((await cluster.httpGet(isolated, '/livez')).status).toBe(200);
      await waitForGauges(
        'the isolated member reports no leader',
        [isolated],
        ([one]) => one !== undefined && one.hasLeader === 0 && one.roles.leader === 0,
      );
    } finally {
      for (const ordinal of paused) cluster.local.signal(ordinal, 'SIGCONT');
      paused = [];
    }
    await cluster.waitForLeader();
    for (const ordinal of [0, 1, 2]) {
      await waitUntil(
        `raftkv-${ordinal} is ready again`,
        async () => ((await cluster.httpGet(ordinal, '/readyz')).status === 200 ? true : undefined),
        { timeoutMs: 15_000, cluster },
      );
    }
  });
});
