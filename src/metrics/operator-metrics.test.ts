import parsePrometheusTextFormat, { type ParsedMetricFamily } from 'parse-prometheus-text-format';
import { Registry, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import {
  createOperatorMetrics,
  MEMBERSHIP_ACTIONS,
  type OperatorMetrics,
  RECONCILE_RESULTS,
} from './index.js';

/** Every metric family of `metrics`, by name. */
async function scrape(metrics: OperatorMetrics): Promise<Map<string, ParsedMetricFamily>> {
  const families = parsePrometheusTextFormat(await metrics.text());
  return new Map(families.map((family) => [family.name, family]));
}

/** The value of the one plain (non-histogram) series of `name` whose labels include `labels`. */
async function value(
  metrics: OperatorMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const family = (await scrape(metrics)).get(name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  const matches = family.metrics.filter((candidate) =>
    Object.entries(labels).every(([key, text]) => candidate.labels?.[key] === text),
  );
  expect(matches, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return Number(matches[0]?.value);
}

/**
 * One histogram series read from the text directly: parse-prometheus-text-format 1.1 drops the
 * labels of histogram series, so it cannot tell actions apart.
 */
async function histogramSeries(
  metrics: OperatorMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<{ count: number; sum: number; buckets: Map<string, number> }> {
  const wanted = Object.entries(labels).map(([key, text]) => `${key}="${text}"`);
  const series = (await metrics.text())
    .split('\n')
    .filter((line) => line.startsWith(`${name}_`) && wanted.every((label) => line.includes(label)));
  const number = (suffix: string): number => {
    const line = series.find((candidate) => candidate.startsWith(`${name}_${suffix}`));
    return Number(line?.split(' ').at(-1));
  };
  const buckets = new Map<string, number>();
  for (const line of series.filter((candidate) => candidate.startsWith(`${name}_bucket{`))) {
    const bound = /le="([^"]+)"/.exec(line)?.[1] ?? '';
    buckets.set(bound, Number(line.split(' ').at(-1)));
  }
  return { count: number('count'), sum: number('sum'), buckets };
}

const EXPECTED_TYPES: Readonly<Record<string, ParsedMetricFamily['type']>> = {
  raftkv_operator_is_leader: 'GAUGE',
  raftkv_operator_reconcile_total: 'COUNTER',
  raftkv_operator_reconcile_duration_seconds: 'HISTOGRAM',
  raftkv_operator_membership_steps_total: 'COUNTER',
  raftkv_operator_membership_step_duration_seconds: 'HISTOGRAM',
  raftkv_operator_queue_depth: 'GAUGE',
  raftkv_operator_queue_drops_total: 'COUNTER',
  raftkv_operator_cluster_members: 'GAUGE',
};

describe('createOperatorMetrics', () => {
  it('defines every operator metric with its type, and nothing else', async () => {
    const metrics = createOperatorMetrics();
    const text = await metrics.text();
    for (const [name, type] of Object.entries(EXPECTED_TYPES)) {
      expect(text).toContain(`# TYPE ${name} ${type.toLowerCase()}\n`);
    }
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
    expect(names.sort()).toEqual(Object.keys(EXPECTED_TYPES).sort());
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('starts as a follower with every result and action series at 0', async () => {
    const metrics = createOperatorMetrics();
    expect(await value(metrics, 'raftkv_operator_is_leader')).toBe(0);
    expect(await value(metrics, 'raftkv_operator_queue_depth')).toBe(0);
    for (const result of RECONCILE_RESULTS) {
      expect(await value(metrics, 'raftkv_operator_reconcile_total', { result })).toBe(0);
    }
    for (const action of MEMBERSHIP_ACTIONS) {
      expect(await value(metrics, 'raftkv_operator_membership_steps_total', { action })).toBe(0);
    }
  });

  it('counts reconciles by result and times them', async () => {
    const metrics = createOperatorMetrics();
    metrics.reconciled('done', 0.004);
    metrics.reconciled('done', 0.03);
    metrics.reconciled('requeue', 0.2);
    metrics.reconciled('error', 1.5);
    const total = 'raftkv_operator_reconcile_total';
    expect(await value(metrics, total, { result: 'done' })).toBe(2);
    expect(await value(metrics, total, { result: 'requeue' })).toBe(1);
    expect(await value(metrics, total, { result: 'error' })).toBe(1);
    const duration = await histogramSeries(metrics, 'raftkv_operator_reconcile_duration_seconds');
    expect(duration.count).toBe(4);
    expect(duration.sum).toBeCloseTo(1.734, 10);
    expect(duration.buckets.get('0.005')).toBe(1);
    expect(duration.buckets.get('0.04')).toBe(2);
    expect(duration.buckets.get('+Inf')).toBe(4);
  });

  it('counts membership steps by action with durations from 0.1 s to 120 s', async () => {
    const metrics = createOperatorMetrics();
    metrics.membershipStep('add_learner', 0.05);
    metrics.membershipStep('promote', 3);
    metrics.membershipStep('promote', 45);
    const steps = 'raftkv_operator_membership_steps_total';
    expect(await value(metrics, steps, { action: 'add_learner' })).toBe(1);
    expect(await value(metrics, steps, { action: 'promote' })).toBe(2);
    expect(await value(metrics, steps, { action: 'remove_member' })).toBe(0);
    const name = 'raftkv_operator_membership_step_duration_seconds';
    const promote = await histogramSeries(metrics, name, { action: 'promote' });
    expect([...promote.buckets.keys()]).toEqual([
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '20',
      '30',
      '60',
      '120',
      '+Inf',
    ]);
    expect(promote.count).toBe(2);
    expect(promote.buckets.get('2.5')).toBe(0);
    expect(promote.buckets.get('5')).toBe(1);
    expect(promote.buckets.get('60')).toBe(2);
    const learner = await histogramSeries(metrics, name, { action: 'add_learner' });
    expect(learner.buckets.get('0.1')).toBe(1);
  });

  it('sets leadership, queue depth and drops', async () => {
    const metrics = createOperatorMetrics();
    metrics.setLeader(true);
    metrics.setQueueDepth(3);
    metrics.queueDropped(2);
    expect(await value(metrics, 'raftkv_operator_is_leader')).toBe(1);
    expect(await value(metrics, 'raftkv_operator_queue_depth')).toBe(3);
    expect(await value(metrics, 'raftkv_operator_queue_drops_total')).toBe(2);
    metrics.setLeader(false);
    expect(await value(metrics, 'raftkv_operator_is_leader')).toBe(0);
  });

  it('labels members by cluster and drops a deleted cluster', async () => {
    const metrics = createOperatorMetrics();
    metrics.setClusterMembers('default/kv', 3);
    metrics.setClusterMembers('prod/orders', 5);
    metrics.setClusterMembers('default/kv', 4);
    const members = 'raftkv_operator_cluster_members';
    expect(await value(metrics, members, { cluster: 'default/kv' })).toBe(4);
    expect(await value(metrics, members, { cluster: 'prod/orders' })).toBe(5);
    metrics.removeCluster('default/kv');
    const series = (await scrape(metrics)).get(members)?.metrics ?? [];
    expect(series.map((entry) => entry.labels?.['cluster'])).toEqual(['prod/orders']);
  });
});

describe('operator registries', () => {
  it('keeps its own registry, or fills the one it is given', async () => {
    const first = createOperatorMetrics();
    const second = createOperatorMetrics();
    first.setLeader(true);
    expect(await value(second, 'raftkv_operator_is_leader')).toBe(0);
    expect(globalRegistry.getSingleMetric('raftkv_operator_is_leader')).toBeUndefined();
    const registry = new Registry();
    const given = createOperatorMetrics({ registry });
    expect(given.registry).toBe(registry);
    expect(await registry.metrics()).toContain('raftkv_operator_is_leader 0');
  });

  it('adds process metrics only when enabled', async () => {
    expect((await scrape(createOperatorMetrics())).has('process_cpu_user_seconds_total')).toBe(
      false,
    );
    const withProcess = await scrape(createOperatorMetrics({ isProcessMetricsEnabled: true }));
    expect(withProcess.has('process_cpu_user_seconds_total')).toBe(true);
    expect(withProcess.has('raftkv_operator_is_leader')).toBe(true);
  });
});
