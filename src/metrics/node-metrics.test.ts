import parsePrometheusTextFormat, {
  type ParsedMetricFamily,
  type ParsedSample,
} from 'parse-prometheus-text-format';
import { Registry, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { createNodeMetrics, ELECTION_REASONS, NODE_ROLES, type NodeMetrics } from './index.js';

/** Every metric family of `metrics`, by name. */
async function scrape(metrics: NodeMetrics): Promise<Map<string, ParsedMetricFamily>> {
  const families = parsePrometheusTextFormat(await metrics.text());
  return new Map(families.map((family) => [family.name, family]));
}

async function family(metrics: NodeMetrics, name: string): Promise<ParsedMetricFamily> {
  const found = (await scrape(metrics)).get(name);
  if (found === undefined) throw new Error(`no metric ${name}`);
  return found;
}

/** The one sample of `name` whose labels include `labels`. */
async function sample(
  metrics: NodeMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<ParsedSample> {
  const matches = (await family(metrics, name)).metrics.filter((candidate) =>
    Object.entries(labels).every(([key, value]) => candidate.labels?.[key] === value),
  );
  expect(matches, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return matches[0] as ParsedSample;
}

async function value(
  metrics: NodeMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return Number((await sample(metrics, name, labels)).value);
}

/**
 * One labelled histogram series, read from the text directly: parse-prometheus-text-format 1.1
 * drops the labels of histogram series (and mixes their buckets), so it cannot tell peers apart.
 */
async function histogramSeries(
  metrics: NodeMetrics,
  name: string,
  labels: Record<string, string>,
): Promise<{ count: number; sum: number; buckets: Map<string, number> }> {
  const wanted = Object.entries(labels).map(([key, text]) => `${key}="${text}"`);
  const series = (await metrics.text())
    .split('\n')
    .filter((line) => line.startsWith(`${name}_`) && wanted.every((label) => line.includes(label)));
  const number = (suffix: string): number => {
    const line = series.find((candidate) => candidate.startsWith(`${name}_${suffix}{`));
    return Number(line?.split(' ').at(-1));
  };
  const buckets = new Map<string, number>();
  for (const line of series.filter((candidate) => candidate.startsWith(`${name}_bucket{`))) {
    const bound = /le="([^"]+)"/.exec(line)?.[1] ?? '';
    buckets.set(bound, Number(line.split(' ').at(-1)));
  }
  return { count: number('count'), sum: number('sum'), buckets };
}

/** DESIGN.md §9's metrics and the extras, with their types. */
const EXPECTED_TYPES: Readonly<Record<string, ParsedMetricFamily['type']>> = {
  raftkv_raft_term: 'GAUGE',
  raftkv_raft_role: 'GAUGE',
  raftkv_raft_commit_index: 'GAUGE',
  raftkv_raft_applied_index: 'GAUGE',
  raftkv_server_has_leader: 'GAUGE',
  raftkv_server_is_leader: 'GAUGE',
  raftkv_server_leader_changes_seen_total: 'COUNTER',
  raftkv_raft_elections_started_total: 'COUNTER',
  raftkv_raft_proposals_committed_total: 'COUNTER',
  raftkv_raft_proposals_failed_total: 'COUNTER',
  raftkv_raft_proposals_pending: 'GAUGE',
  raftkv_wal_fsync_duration_seconds: 'HISTOGRAM',
  raftkv_snapshot_save_duration_seconds: 'HISTOGRAM',
  raftkv_peer_round_trip_time_seconds: 'HISTOGRAM',
  raftkv_raft_follower_match_index: 'GAUGE',
  raftkv_grpc_handled_total: 'COUNTER',
  raftkv_grpc_handling_seconds: 'HISTOGRAM',
  raftkv_raft_last_log_index: 'GAUGE',
  raftkv_wal_fsyncs_total: 'COUNTER',
  raftkv_snapshot_install_total: 'COUNTER',
  raftkv_server_slow_apply_total: 'COUNTER',
  raftkv_server_read_index_retries_total: 'COUNTER',
  raftkv_build_info: 'GAUGE',
};

describe('createNodeMetrics', () => {
  it('defines every metric of DESIGN.md §9 and the extras, and nothing else', async () => {
    const metrics = createNodeMetrics();
    // Series-less metrics (labelled, nothing observed yet) still print HELP and TYPE lines.
    const text = await metrics.text();
    for (const [name, type] of Object.entries(EXPECTED_TYPES)) {
      expect(text).toContain(`# TYPE ${name} ${type.toLowerCase()}\n`);
    }
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
    expect(names.sort()).toEqual(Object.keys(EXPECTED_TYPES).sort());
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('starts as a follower without a leader, with both election reasons at 0', async () => {
    const metrics = createNodeMetrics();
    const roles = (await family(metrics, 'raftkv_raft_role')).metrics;
    expect(roles.map((series) => [series.labels?.['role'], series.value])).toEqual([
      ['follower', '1'],
      ['preCandidate', '0'],
      ['candidate', '0'],
      ['leader', '0'],
    ]);
    expect(await value(metrics, 'raftkv_server_has_leader')).toBe(0);
    expect(await value(metrics, 'raftkv_server_is_leader')).toBe(0);
    for (const reason of ELECTION_REASONS) {
      expect(await value(metrics, 'raftkv_raft_elections_started_total', { reason })).toBe(0);
    }
  });

  it('keeps exactly one role at 1', async () => {
    const metrics = createNodeMetrics();
    for (const role of NODE_ROLES) {
      metrics.setRole(role);
      const series = (await family(metrics, 'raftkv_raft_role')).metrics;
      expect(series.filter((entry) => entry.value === '1').map((entry) => entry.labels)).toEqual([
        { role },
      ]);
      expect(series).toHaveLength(NODE_ROLES.length);
      expect(await value(metrics, 'raftkv_server_is_leader')).toBe(role === 'leader' ? 1 : 0);
    }
  });

  it('counts a leader change whenever a leader appears that was not the one known', async () => {
    const metrics = createNodeMetrics();
    const steps: readonly [number, number, number][] = [
      // [leader id, leader changes seen, has leader]
      [2, 1, 1],
      [2, 1, 1],
      [0, 1, 0],
      [2, 2, 1],
      [3, 3, 1],
    ];
    for (const [leaderId, changes, hasLeader] of steps) {
      metrics.setLeader(leaderId);
      expect(await value(metrics, 'raftkv_server_leader_changes_seen_total')).toBe(changes);
      expect(await value(metrics, 'raftkv_server_has_leader')).toBe(hasLeader);
    }
  });

  it('sets the Raft gauges and counts proposals, elections, snapshots', async () => {
    const metrics = createNodeMetrics();
    metrics.setTerm(7);
    metrics.setCommitIndex(120);
    metrics.setAppliedIndex(118);
    metrics.setLastLogIndex(125);
    metrics.setProposalsPending(4);
    metrics.proposalsCommitted(3);
    metrics.proposalsCommitted(2);
    metrics.proposalsFailed(1);
    metrics.electionStarted('electionTimeout');
    metrics.electionStarted('electionTimeout');
    metrics.electionStarted('leadershipTransfer');
    metrics.snapshotInstalled();
    metrics.observeSnapshotSaveSeconds(0.3);
    expect(await value(metrics, 'raftkv_raft_term')).toBe(7);
    expect(await value(metrics, 'raftkv_raft_commit_index')).toBe(120);
    expect(await value(metrics, 'raftkv_raft_applied_index')).toBe(118);
    expect(await value(metrics, 'raftkv_raft_last_log_index')).toBe(125);
    expect(await value(metrics, 'raftkv_raft_proposals_pending')).toBe(4);
    expect(await value(metrics, 'raftkv_raft_proposals_committed_total')).toBe(5);
    expect(await value(metrics, 'raftkv_raft_proposals_failed_total')).toBe(1);
    const elections = 'raftkv_raft_elections_started_total';
    expect(await value(metrics, elections, { reason: 'electionTimeout' })).toBe(2);
    expect(await value(metrics, elections, { reason: 'leadershipTransfer' })).toBe(1);
    expect(await value(metrics, 'raftkv_snapshot_install_total')).toBe(1);
    const save = await sample(metrics, 'raftkv_snapshot_save_duration_seconds');
    expect(save.count).toBe('1');
    expect(save.buckets?.['0.256']).toBe('0');
    expect(save.buckets?.['0.512']).toBe('1');
  });

  it('resolves sub-millisecond fsyncs, from 100 µs', async () => {
    const metrics = createNodeMetrics();
    metrics.observeFsyncSeconds(0.00005);
    metrics.observeFsyncSeconds(0.00015);
    metrics.observeFsyncSeconds(0.0007);
    const fsync = await sample(metrics, 'raftkv_wal_fsync_duration_seconds');
    expect(Object.keys(fsync.buckets ?? {})[0]).toBe('0.0001');
    expect(fsync.buckets).toMatchObject({
      '0.0001': '1',
      '0.0002': '2',
      '0.0004': '2',
      '0.0008': '3',
      '+Inf': '3',
    });
    expect(fsync.count).toBe('3');
    expect(Number(fsync.sum)).toBeCloseTo(0.0009, 10);
    expect(await value(metrics, 'raftkv_wal_fsyncs_total')).toBe(3);
  });

  it('labels client calls by method and code', async () => {
    const metrics = createNodeMetrics();
    metrics.grpcHandled('etcdserverpb.KV/Range', 'OK', 0.0003);
    metrics.grpcHandled('etcdserverpb.KV/Range', 'OK', 0.002);
    metrics.grpcHandled('etcdserverpb.KV/Put', 'INVALID_ARGUMENT', 0.0001);
    const handled = 'raftkv_grpc_handled_total';
    expect(await value(metrics, handled, { method: 'etcdserverpb.KV/Range', code: 'OK' })).toBe(2);
    expect(
      await value(metrics, handled, { method: 'etcdserverpb.KV/Put', code: 'INVALID_ARGUMENT' }),
    ).toBe(1);
    const range = await histogramSeries(metrics, 'raftkv_grpc_handling_seconds', {
      method: 'etcdserverpb.KV/Range',
    });
    expect(range.count).toBe(2);
    expect(range.sum).toBeCloseTo(0.0023, 10);
    expect(range.buckets.get('0.0001')).toBe(0);
    expect(range.buckets.get('0.0004')).toBe(1);
    expect(range.buckets.get('6.5536')).toBe(2);
    const put = await histogramSeries(metrics, 'raftkv_grpc_handling_seconds', {
      method: 'etcdserverpb.KV/Put',
    });
    expect(put.buckets.get('0.0001')).toBe(1);
  });

  it('labels peer series by member id and drops them when asked', async () => {
    const metrics = createNodeMetrics();
    metrics.setFollowerMatchIndex(2, 40);
    metrics.setFollowerMatchIndex(3, 38);
    metrics.observePeerRoundTripSeconds(2, 0.0004);
    metrics.observePeerRoundTripSeconds(3, 0.0009);
    expect(await value(metrics, 'raftkv_raft_follower_match_index', { peer: '3' })).toBe(38);
    const roundTrip = await histogramSeries(metrics, 'raftkv_peer_round_trip_time_seconds', {
      peer: '2',
    });
    expect(roundTrip.count).toBe(1);
    expect(roundTrip.buckets.get('0.0004')).toBe(1);

    metrics.removePeer(3);
    const peersOf = async (name: string) => [
      ...new Set(
        [...(await metrics.text()).matchAll(new RegExp(`^${name}\\S*peer="(\\d+)"`, 'gm'))].map(
          (match) => match[1],
        ),
      ),
    ];
    expect(await peersOf('raftkv_raft_follower_match_index')).toEqual(['2']);
    expect(await peersOf('raftkv_peer_round_trip_time_seconds')).toEqual(['2']);

    metrics.clearFollowerMatchIndexes();
    expect(await peersOf('raftkv_raft_follower_match_index')).toEqual([]);
    expect(await peersOf('raftkv_peer_round_trip_time_seconds')).toEqual(['2']);
  });

  it('counts applies at or above the slow threshold', async () => {
    const metrics = createNodeMetrics({ slowApplySeconds: 0.05 });
    metrics.observeApplySeconds(0.01);
    metrics.observeApplySeconds(0.05);
    metrics.observeApplySeconds(2);
    expect(await value(metrics, 'raftkv_server_slow_apply_total')).toBe(2);
    const defaults = createNodeMetrics();
    defaults.observeApplySeconds(0.05);
    defaults.observeApplySeconds(0.1);
    expect(await value(defaults, 'raftkv_server_slow_apply_total')).toBe(1);
  });

  it('reports the build version', async () => {
    expect(await value(createNodeMetrics({ version: '1.2.3' }), 'raftkv_build_info')).toBe(1);
    const info = await sample(createNodeMetrics({ version: '1.2.3' }), 'raftkv_build_info');
    expect(info.labels).toEqual({ version: '1.2.3' });
    expect((await sample(createNodeMetrics(), 'raftkv_build_info')).labels).toEqual({
      version: 'unknown',
    });
  });
});

describe('registries', () => {
  it('keeps two nodes apart and stays out of the global registry', async () => {
    const first = createNodeMetrics();
    const second = createNodeMetrics();
    first.setTerm(5);
    first.setRole('leader');
    second.setTerm(2);
    expect(await value(first, 'raftkv_raft_term')).toBe(5);
    expect(await value(second, 'raftkv_raft_term')).toBe(2);
    expect(await value(second, 'raftkv_raft_role', { role: 'leader' })).toBe(0);
    expect(first.registry).not.toBe(second.registry);
    expect(globalRegistry.getSingleMetric('raftkv_raft_term')).toBeUndefined();
  });

  it('fills a registry it is given', async () => {
    const registry = new Registry();
    const metrics = createNodeMetrics({ registry });
    metrics.setTerm(9);
    expect(metrics.registry).toBe(registry);
    expect(await registry.metrics()).toContain('raftkv_raft_term 9');
  });

  it('adds process metrics to the same registry only when enabled', async () => {
    const without = await scrape(createNodeMetrics());
    expect(without.has('process_cpu_user_seconds_total')).toBe(false);
    const withProcess = await scrape(createNodeMetrics({ isProcessMetricsEnabled: true }));
    expect(withProcess.has('process_cpu_user_seconds_total')).toBe(true);
    expect(withProcess.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(withProcess.has('raftkv_raft_term')).toBe(true);
    expect(globalRegistry.getSingleMetric('process_cpu_user_seconds_total')).toBeUndefined();
  });
});
