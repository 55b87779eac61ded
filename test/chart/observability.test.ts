/**
 * The Grafana dashboard (deploy/grafana/raftkv.json) and the alert rules (the chart's
 * PrometheusRule and deploy/prometheus/raftkv-rules.yaml) query only metrics that exist: the
 * names a real raftkv member serves on /metrics and the operator's registry holds. The helm test
 * pod's script passes against a real member, started from the build on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { createOperatorMetrics } from '../../src/metrics/index.js';
import { startTestCluster, type TestCluster } from '../integration/test-cluster.js';
import { FEATURE_RICH_VALUES, field, findObject, renderChart, ROOT } from './chart-helpers.js';

const execFileAsync = promisify(execFile);

const DASHBOARD_FILE = path.join(ROOT, 'deploy', 'grafana', 'raftkv.json');
const RULES_FILE = path.join(ROOT, 'deploy', 'prometheus', 'raftkv-rules.yaml');
/** Metric names of ours and of prom-client's default collectors inside a PromQL expression. */
const METRIC_NAME = /\b(?:raftkv|process|nodejs)_[A-Za-z0-9_]+/g;

interface Panel {
  readonly type: string;
  readonly id: number;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: { expr: string; datasource: { uid: string } }[];
}

interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly refresh: string;
  readonly panels: Panel[];
  readonly templating: {
    list: { name: string; type: string; query: string | { query: string }; regex?: string }[];
  };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;

function dashboardExpressions(): string[] {
  const fromPanels = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));
  const fromVariables = dashboard.templating.list.flatMap((variable) =>
    variable.type === 'query'
      ? [typeof variable.query === 'string' ? variable.query : variable.query.query]
      : [],
  );
  return [...fromPanels, ...fromVariables];
}

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
}

function ruleExpressions(): string[] {
  const chartRule = findObject(
    renderChart({ valuesFiles: [FEATURE_RICH_VALUES], isMonitoringApi: true }),
    'PrometheusRule',
  );
  const chartRules = field(chartRule, 'spec', 'groups', 0, 'rules') as Rule[];
  const fileRules = field(parse(readFileSync(RULES_FILE, 'utf8')), 'groups', 0, 'rules') as Rule[];
  return [...chartRules, ...fileRules].map((rule) => rule.expr);
}

/**
 * The series names an exposition offers, from its `# TYPE` lines: a histogram is queried by its
 * `_bucket`, `_sum` and `_count` series, a summary by its quantiles, `_sum` and `_count`.
 */
function seriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = match;
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    } else {
      names.add(name);
    }
  }
  return names;
}

const namesIn = (expressions: readonly string[]) =>
  [...new Set(expressions.flatMap((expr) => expr.match(METRIC_NAME) ?? []))].sort();

/** Whether brackets, braces, parentheses and double quotes pair up (a cheap PromQL check). */
function isBalanced(expr: string): boolean {
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const open: string[] = [];
  let isQuoted = false;
  for (let index = 0; index < expr.length; index++) {
    const char = expr[index] ?? '';
    if (isQuoted) {
      if (char === '\\') index++;
      else if (char === '"') isQuoted = false;
    } else if (char === '"') {
      isQuoted = true;
    } else if ('([{'.includes(char)) {
      open.push(char);
    } else if (char in closing && open.pop() !== closing[char]) {
      return false;
    }
  }
  return !isQuoted && open.length === 0;
}

describe('the Grafana dashboard', () => {
  it('is a refreshing dashboard with datasource, namespace and cluster variables', () => {
    expect(dashboard.uid).toBe('raftkv');
    expect(dashboard.refresh).toBe('10s');
    const variables = dashboard.templating.list;
    expect(variables.map((variable) => variable.name)).toEqual([
      'datasource',
      'namespace',
      'cluster',
    ]);
    expect(variables[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
    // The cluster is the pods' name without the ordinal: NAME-K, whichever monitor scrapes them.
    expect(variables[2]?.regex).toBe('/^(.+)-[0-9]+$/');
  });

  it('queries through the datasource variable, with unique panel ids on a 24-column grid', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      for (const target of panel.targets ?? []) {
        expect(target.datasource.uid, panel.title).toBe('${datasource}');
        expect(isBalanced(target.expr), target.expr).toBe(true);
      }
    }
  });

  it('shows elections, replication, proposals, disk, peers, clients and the operator', () => {
    expect(namesIn(dashboardExpressions())).toEqual(
      expect.arrayContaining([
        'raftkv_raft_role',
        'raftkv_raft_term',
        'raftkv_server_has_leader',
        'raftkv_server_leader_changes_seen_total',
        'raftkv_raft_elections_started_total',
        'raftkv_raft_commit_index',
        'raftkv_raft_applied_index',
        'raftkv_raft_follower_match_index',
        'raftkv_raft_proposals_committed_total',
        'raftkv_raft_proposals_failed_total',
        'raftkv_raft_proposals_pending',
        'raftkv_wal_fsync_duration_seconds_bucket',
        'raftkv_server_slow_apply_total',
        'raftkv_snapshot_save_duration_seconds_bucket',
        'raftkv_peer_round_trip_time_seconds_bucket',
        'raftkv_grpc_handled_total',
        'raftkv_grpc_handling_seconds_bucket',
        'raftkv_operator_is_leader',
        'raftkv_operator_reconcile_total',
        'raftkv_operator_membership_steps_total',
        'raftkv_operator_membership_step_duration_seconds_bucket',
      ]),
    );
  });
});

describe('the alert rules', () => {
  it('have balanced expressions', () => {
    for (const expr of ruleExpressions()) expect(isBalanced(expr), expr).toBe(true);
  });
});

describe('the metric names the dashboard and the alerts query', () => {
  let cluster: TestCluster | undefined;
  let nodeNames: Set<string>;
  let operatorNames: Set<string>;
  let endpoint: string;

  beforeAll(async () => {
    cluster = await startTestCluster({ size: 1 });
    await cluster.waitForLeader();
    const answer = await cluster.httpGet(0, '/metrics');
    expect(answer.status).toBe(200);
    nodeNames = seriesNames(answer.body);
    operatorNames = seriesNames(await createOperatorMetrics().text());
    [endpoint = ''] = cluster.endpoints();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('are all served by a real member, or held by the operator’s registry', () => {
    // Sanity: the exposition was read (a histogram, a labelled gauge, a default metric).
    expect(nodeNames).toContain('raftkv_wal_fsync_duration_seconds_bucket');
    expect(nodeNames).toContain('raftkv_peer_round_trip_time_seconds_bucket');
    expect(nodeNames).toContain('process_resident_memory_bytes');
    expect(operatorNames).toContain('raftkv_operator_reconcile_total');
    const queried = namesIn([...dashboardExpressions(), ...ruleExpressions()]);
    expect(queried.length).toBeGreaterThan(20);
    const unknown = queried.filter((name) =>
      name.startsWith('raftkv_operator_') ? !operatorNames.has(name) : !nodeNames.has(name),
    );
    expect(unknown).toEqual([]);
  });

  it('pass the helm test pod’s script against a real member', async () => {
    const pod = findObject(renderChart(), 'Pod');
    const command = field(pod, 'spec', 'containers', 0, 'command') as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    // The image's working directory holds dist/; here the repository root does.
    const { stdout } = await execFileAsync(process.execPath, ['-e', command[2] ?? ''], {
      cwd: ROOT,
      env: { ...process.env, RAFTKV_ENDPOINTS: endpoint, POD_NAME: 'rkv-raftkv-test-put-get' },
      timeout: 60_000,
    });
    expect(stdout).toContain('put and get helm-test/rkv-raftkv-test-put-get/');
    expect(stdout).toMatch(/1 members answered: \S+ leader/);
    expect(stdout).toContain('exactly one leader');
  });
});
