/**
 * `helm template` of the chart with its default values and with the feature-rich ci values (and
 * the Prometheus Operator's API present): every rendered object passes its kind's schema
 * (kubernetes-models, @kubernetes-models/prometheus-operator; the RaftCluster the CRD's), and the
 * properties that matter hold: labels and selectors, least-privilege namespaced RBAC, the
 * operator's command, probes and security context, the values mapped onto the RaftCluster, the
 * monitoring objects behind their switches and the API check, the helm test pod and NOTES.txt.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { DEFAULT_IMAGE } from '../../src/operator/raft-cluster.js';
import {
  CHART,
  FEATURE_RICH_VALUES,
  field,
  findObject,
  helm,
  type KubeObject,
  raftClusterValidator,
  renderChart,
  type RenderOptions,
  standardChartLabels,
  templateArguments,
  validateWithModels,
} from './chart-helpers.js';

const RELEASE = 'rkv';
const NAMESPACE = 'data';
const DEFAULTS: RenderOptions = { release: RELEASE, namespace: NAMESPACE };
const FEATURE_RICH: RenderOptions = {
  release: RELEASE,
  namespace: NAMESPACE,
  valuesFiles: [FEATURE_RICH_VALUES],
  isMonitoringApi: true,
};

const kindsOf = (objects: readonly KubeObject[]) => objects.map((object) => object.kind).sort();

interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: { name: string; value?: string; valueFrom?: unknown }[];
  readonly ports?: { name: string; containerPort: number }[];
  readonly livenessProbe?: unknown;
  readonly readinessProbe?: unknown;
  readonly securityContext?: Record<string, unknown>;
}

function containersOf(object: KubeObject, ...podSpecPath: string[]): Container[] {
  return field(object, ...podSpecPath, 'containers') as Container[];
}

describe.each([
  ['default values', DEFAULTS],
  ['feature-rich values', FEATURE_RICH],
])('the chart rendered with %s', (_, options) => {
  let objects: KubeObject[];
  beforeAll(() => {
    objects = renderChart(options);
  });

  it('renders only objects that pass their schema', async () => {
    const validateCluster = raftClusterValidator();
    for (const object of objects) {
      if (object.kind === 'RaftCluster') {
        expect(validateCluster(object), JSON.stringify(validateCluster.errors)).toBe(true);
      } else {
        await validateWithModels(object);
      }
    }
  });

  it('labels every object with the standard labels', () => {
    for (const object of objects) {
      expect(object.metadata.labels, `${object.kind} ${object.metadata.name}`).toMatchObject(
        standardChartLabels(RELEASE),
      );
    }
  });

  it('renders no cluster-wide objects and no object the operator owns', () => {
    const kinds = kindsOf(objects);
    for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']) {
      expect(kinds).not.toContain(kind);
    }
    // StatefulSet, Services of the members, PDB and the dashboard ConfigMap are the operator's.
    for (const kind of ['StatefulSet', 'PodDisruptionBudget', 'ConfigMap']) {
      expect(kinds).not.toContain(kind);
    }
    expect(objects.filter((object) => object.kind === 'Service')).toHaveLength(1);
  });

  it('grants the operator a least-privilege namespaced Role', () => {
    const role = findObject(objects, 'Role');
    const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const granted = new Map<string, string[]>();
    for (const rule of rules) {
      expect(rule).not.toHaveProperty('nonResourceURLs');
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          const key = `${group === '' ? 'core' : group}/${resource}`;
          granted.set(key, [...(granted.get(key) ?? []), ...rule.verbs].sort());
        }
      }
    }
    for (const [key, verbs] of granted) {
      expect(key).not.toContain('*');
      expect(verbs, key).not.toContain('*');
    }
    // Each verb is one the operator's code calls (kubernetes-platform.ts, the informers of
    // kubernetes-cluster-source.ts, kubernetes-lease-store.ts); server-side apply is a patch, and a
    // create for an object that does not exist yet.
    expect(Object.fromEntries(granted)).toEqual({
      'raftkv.io/raftclusters': ['get', 'list', 'watch'],
      'raftkv.io/raftclusters/status': ['get', 'patch', 'update'],
      'raftkv.io/raftclusters/finalizers': ['update'],
      'apps/statefulsets': ['create', 'get', 'list', 'patch', 'watch'],
      'core/services': ['create', 'get', 'patch'],
      'core/configmaps': ['create', 'delete', 'get', 'patch'],
      'policy/poddisruptionbudgets': ['create', 'get', 'patch'],
      'core/pods': ['delete', 'get', 'list', 'watch'],
      'core/persistentvolumeclaims': ['delete', 'get', 'list'],
      'coordination.k8s.io/leases': ['create', 'get', 'update'],
      'core/events': ['create'],
      'monitoring.coreos.com/servicemonitors': ['create', 'delete', 'get', 'patch'],
    });
  });

  it('binds the Role to the ServiceAccount the operator runs as', () => {
    const role = findObject(objects, 'Role');
    const binding = findObject(objects, 'RoleBinding');
    const account = findObject(objects, 'ServiceAccount');
    const deployment = findObject(objects, 'Deployment');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: account.metadata.name, namespace: NAMESPACE },
    ]);
    expect(field(deployment, 'spec', 'template', 'spec', 'serviceAccountName')).toBe(
      account.metadata.name,
    );
    expect(account.automountServiceAccountToken).toBe(false);
    expect(field(deployment, 'spec', 'template', 'spec', 'automountServiceAccountToken')).toBe(
      true,
    );
  });

  it('runs the operator from the node image, hardened, with its probes and arguments', () => {
    const deployment = findObject(objects, 'Deployment');
    const podSpec = field(deployment, 'spec', 'template', 'spec');
    const [operator, ...others] = containersOf(deployment, 'spec', 'template', 'spec');
    expect(others).toEqual([]);
    expect(operator?.command).toEqual(['node', 'dist/operator/main.js']);
    expect(operator?.args?.slice(0, 9)).toEqual([
      '--namespace=$(POD_NAMESPACE)',
      '--leader-election=true',
      expect.stringMatching(/^--lease-duration-seconds=\d+$/),
      expect.stringMatching(/^--renew-deadline-seconds=\d+$/),
      expect.stringMatching(/^--retry-period-seconds=\d+$/),
      expect.stringMatching(/^--resync-period-seconds=\d+$/),
      expect.stringMatching(/^--unhealthy-after-seconds=\d+$/),
      expect.stringMatching(/^--log-level=(debug|info|warn|error)$/),
      '--http-port=8081',
    ]);
    expect(operator?.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]);
    expect(operator?.ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
    expect(field(operator, 'livenessProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'http' });
    expect(field(operator, 'readinessProbe', 'httpGet')).toEqual({ path: '/readyz', port: 'http' });
    expect(field(podSpec, 'securityContext')).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(operator?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('selects the operator pods by name, instance and component only', () => {
    const deployment = findObject(objects, 'Deployment');
    const service = findObject(objects, 'Service');
    const selector = field(deployment, 'spec', 'selector', 'matchLabels');
    expect(selector).toEqual({
      'app.kubernetes.io/name': 'raftkv',
      'app.kubernetes.io/instance': RELEASE,
      'app.kubernetes.io/component': 'operator',
    });
    expect(field(deployment, 'spec', 'template', 'metadata', 'labels')).toMatchObject(
      selector as Record<string, string>,
    );
    expect(field(service, 'spec', 'selector')).toEqual(selector);
    expect(field(service, 'spec', 'ports')).toEqual([
      { name: 'metrics', port: expect.any(Number), targetPort: 'http', protocol: 'TCP' },
    ]);
  });

  it('points the helm test pod at the client Service with the node image', () => {
    const cluster = findObject(objects, 'RaftCluster');
    const pod = findObject(objects, 'Pod');
    const name = cluster.metadata.name;
    expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const [container] = containersOf(pod, 'spec');
    expect(container?.image).toBe(field(cluster, 'spec', 'image'));
    expect(container?.command?.slice(0, 2)).toEqual(['node', '-e']);
    const domain = field(cluster, 'spec', 'clusterDomain');
    expect(container?.env).toContainEqual({
      name: 'RAFTKV_ENDPOINTS',
      value: `${name}.${NAMESPACE}.svc.${String(domain)}:2379`,
    });
    expect(field(pod, 'spec', 'restartPolicy')).toBe('Never');
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true });
  });
});

describe('the chart with default values', () => {
  let objects: KubeObject[];
  beforeAll(() => {
    objects = renderChart(DEFAULTS);
  });

  it('renders the operator, its RBAC and metrics Service, the RaftCluster and the test pod', () => {
    expect(kindsOf(objects)).toEqual([
      'Deployment',
      'Pod',
      'RaftCluster',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('asks for a 3-member RaftCluster named after the release, with the default image', () => {
    const cluster = findObject(objects, 'RaftCluster');
    expect(cluster.apiVersion).toBe('raftkv.io/v1alpha1');
    expect(cluster.metadata.name).toBe('rkv-raftkv');
    expect(cluster.spec).toEqual({
      replicas: 3,
      image: DEFAULT_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      storage: { size: '1Gi' },
      scheduling: { antiAffinity: 'soft' },
      raft: {
        tickIntervalMs: 100,
        electionTimeoutTicks: 10,
        heartbeatIntervalTicks: 1,
        snapshotEntriesThreshold: 10000,
      },
      requestTimeoutMs: 5000,
      clusterDomain: 'cluster.local',
      logLevel: 'info',
      monitoring: {
        serviceMonitor: { enabled: false, interval: '15s' },
        dashboard: { enabled: false, labels: { grafana_dashboard: '1' } },
      },
    });
    const image = containersOf(findObject(objects, 'Deployment'), 'spec', 'template', 'spec')[0]
      ?.image;
    expect(image).toBe(DEFAULT_IMAGE);
  });

  it('names the cluster after the release alone when the release name contains the chart’s', () => {
    const cluster = findObject(renderChart({ release: 'raftkv' }), 'RaftCluster');
    expect(cluster.metadata.name).toBe('raftkv');
  });

  it('names the cluster cluster.name when set', () => {
    const rendered = renderChart({ set: ['cluster.name=orders'] });
    expect(findObject(rendered, 'RaftCluster').metadata.name).toBe('orders');
  });

  it('renders no monitoring objects where the cluster lacks the Prometheus Operator’s API', () => {
    const rendered = renderChart({
      set: [
        'metrics.serviceMonitor.enabled=true',
        'metrics.podMonitor.enabled=true',
        'metrics.prometheusRule.enabled=true',
        'operator.serviceMonitor.enabled=true',
        'grafana.dashboards.enabled=true',
      ],
    });
    expect(rendered.filter((object) => object.apiVersion.startsWith('monitoring.'))).toEqual([]);
    // The operator, not the chart, creates the members' ServiceMonitor and the dashboard.
    const cluster = findObject(rendered, 'RaftCluster');
    expect(field(cluster, 'spec', 'monitoring')).toEqual({
      serviceMonitor: { enabled: true, interval: '15s' },
      dashboard: { enabled: true, labels: { grafana_dashboard: '1' } },
    });
    expect(kindsOf(rendered)).not.toContain('ConfigMap');
  });

  it('installs the operator alone, or the cluster alone', () => {
    expect(kindsOf(renderChart({ set: ['cluster.enabled=false'] }))).toEqual([
      'Deployment',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    expect(kindsOf(renderChart({ set: ['operator.enabled=false'] }))).toEqual([
      'Pod',
      'RaftCluster',
    ]);
  });
});

describe('the chart with the feature-rich values', () => {
  let objects: KubeObject[];
  beforeAll(() => {
    objects = renderChart(FEATURE_RICH);
  });

  it('renders the monitors and the alert rules too', () => {
    expect(kindsOf(objects)).toEqual([
      'Deployment',
      'Pod',
      'PodMonitor',
      'PrometheusRule',
      'RaftCluster',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
  });

  it('maps the values onto the RaftCluster', () => {
    const cluster = findObject(objects, 'RaftCluster');
    expect(cluster.metadata.name).toBe('orders');
    expect(cluster.metadata.labels).toMatchObject({ tier: 'data', team: 'storage' });
    expect(cluster.metadata.annotations).toEqual({
      'example.com/owner': 'storage-team',
      'example.com/ticket': 'KV-42',
    });
    expect(cluster.spec).toMatchObject({
      replicas: 5,
      image: 'registry.example.com/raftkv/raftkv:0.1.0',
      imagePullPolicy: 'Always',
      imagePullSecrets: [{ name: 'regcred' }],
      storage: { size: '20Gi', storageClassName: 'fast-ssd' },
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
      scheduling: {
        antiAffinity: 'hard',
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        priorityClassName: 'high-priority',
      },
      raft: {
        tickIntervalMs: 50,
        electionTimeoutTicks: 20,
        heartbeatIntervalTicks: 2,
        snapshotEntriesThreshold: 2000000,
      },
      requestTimeoutMs: 8000,
      clusterDomain: 'k8s.example.internal',
      logLevel: 'debug',
      podTemplate: {
        metadata: {
          labels: { 'sidecar.istio.io/inject': 'false' },
          annotations: { 'example.com/backup': 'daily' },
        },
      },
      monitoring: {
        serviceMonitor: {
          enabled: true,
          interval: '30s',
          labels: { release: 'kube-prometheus-stack' },
        },
        dashboard: { enabled: true, labels: { grafana_dashboard: '1', team: 'storage' } },
      },
    });
    expect(field(cluster, 'spec', 'scheduling', 'tolerations')).toHaveLength(1);
    expect(field(cluster, 'spec', 'scheduling', 'topologySpreadConstraints')).toHaveLength(1);
  });

  it('runs a separate operator image by digest with the values’ timings', () => {
    const deployment = findObject(objects, 'Deployment');
    const [operator] = containersOf(deployment, 'spec', 'template', 'spec');
    expect(operator?.image).toBe(
      'registry.example.com/raftkv/raftkv-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(operator?.args).toEqual([
      '--namespace=$(POD_NAMESPACE)',
      '--leader-election=true',
      '--lease-duration-seconds=30',
      '--renew-deadline-seconds=20',
      '--retry-period-seconds=4',
      '--resync-period-seconds=60',
      '--unhealthy-after-seconds=120',
      '--log-level=debug',
      '--http-port=8081',
      '--log-format=json',
    ]);
    expect(field(deployment, 'spec', 'replicas')).toBe(2);
    expect(field(deployment, 'spec', 'template', 'spec', 'imagePullSecrets')).toEqual([
      { name: 'regcred' },
    ]);
  });

  it('scrapes the members with a PodMonitor on their HTTP port', () => {
    const podMonitor = findObject(objects, 'PodMonitor');
    expect(podMonitor.metadata.namespace).toBe('monitoring');
    expect(podMonitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(podMonitor.spec).toMatchObject({
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'raftkv',
          'app.kubernetes.io/instance': 'orders',
          'app.kubernetes.io/component': 'node',
        },
      },
      namespaceSelector: { matchNames: [NAMESPACE] },
      podMetricsEndpoints: [
        { port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
      ],
    });
  });

  it('scrapes the operator with a ServiceMonitor on its metrics Service', () => {
    const serviceMonitor = findObject(objects, 'ServiceMonitor');
    const service = findObject(objects, 'Service');
    expect(field(serviceMonitor, 'spec', 'selector', 'matchLabels')).toEqual(
      field(service, 'spec', 'selector'),
    );
    expect(field(serviceMonitor, 'spec', 'endpoints')).toEqual([
      { port: 'metrics', path: '/metrics', interval: '1m' },
    ]);
    expect(field(service, 'spec', 'ports', 0, 'port')).toBe(9081);
  });

  it('alerts on this release’s member pods only, with the extra rules appended', () => {
    const rule = findObject(objects, 'PrometheusRule');
    expect(rule.metadata.namespace).toBe('monitoring');
    const rules = field(rule, 'spec', 'groups', 0, 'rules') as {
      alert: string;
      expr: string;
      labels: { severity: string };
      annotations: Record<string, string>;
    }[];
    expect(rules.map((one) => one.alert)).toEqual([
      'RaftkvNoLeader',
      'RaftkvHighLeaderChanges',
      'RaftkvMemberDown',
      'RaftkvInsufficientMembers',
      'RaftkvSlowFsync',
      'RaftkvSlowFsync',
      'RaftkvProposalsFailing',
      'RaftkvPeerRoundTripSlow',
      'RaftkvLowApplyRate',
    ]);
    for (const one of rules.slice(0, -1)) {
      expect(one.expr, one.alert).toContain(`namespace="${NAMESPACE}",pod=~"orders-[0-9]+"`);
      expect(['warning', 'critical']).toContain(one.labels.severity);
      expect(Object.keys(one.annotations).sort(), one.alert).toEqual([
        'description',
        'runbook',
        'summary',
      ]);
    }
  });
});

describe('NOTES.txt', () => {
  let chartCopy: string;
  beforeAll(() => {
    // helm template does not render NOTES.txt; a copy of the chart renders it into a ConfigMap.
    chartCopy = mkdtempSync(path.join(tmpdir(), 'raftkv-chart-'));
    cpSync(CHART, chartCopy, { recursive: true });
    cpSync(path.join(CHART, 'templates', 'NOTES.txt'), path.join(chartCopy, 'notes-copy.txt'));
    writeFileSync(
      path.join(chartCopy, 'templates', 'zz-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n' +
        'data:\n  notes: {{ tpl (.Files.Get "notes-copy.txt") . | toJson }}\n',
    );
  });
  afterAll(() => {
    rmSync(chartCopy, { recursive: true, force: true });
  });

  function notes(set: readonly string[] = []): string {
    const [, , , ...rest] = templateArguments({ release: RELEASE, namespace: NAMESPACE, set });
    const result = helm([
      'template',
      RELEASE,
      chartCopy,
      ...rest,
      '--show-only=templates/zz-notes.yaml',
    ]);
    expect(result.status, result.stderr).toBe(0);
    return String(field(parse(result.stdout), 'data', 'notes'));
  }

  it('tells how to reach, try, check, watch and scale the cluster', () => {
    const text = notes();
    expect(text).toContain('rkv-raftkv.data.svc.cluster.local:2379');
    expect(text).toContain('kubectl run raftkv-client -n data');
    expect(text).toContain('kubectl get raftcluster rkv-raftkv -n data -w');
    expect(text).toContain('kubectl scale raftcluster/rkv-raftkv -n data --replicas=5');
    expect(text).toContain('--set replicaCount=5');
    expect(text).toContain('helm test rkv');
  });

  it('gives the kube-prometheus-stack label hint and the Grafana port-forward', () => {
    const text = notes(['metrics.serviceMonitor.enabled=true', 'grafana.dashboards.enabled=true']);
    expect(text).toContain('metrics.serviceMonitor.labels.release=KPS');
    expect(text).toContain('kubectl port-forward -n monitoring svc/KPS-grafana');
    expect(text).toContain('rkv-raftkv-dashboard');
    expect(text).toContain('does not serve');
  });

  it('warns about hard anti-affinity', () => {
    expect(notes(['podAntiAffinityPreset=hard'])).toContain('WARNING: podAntiAffinityPreset=hard');
  });
});
