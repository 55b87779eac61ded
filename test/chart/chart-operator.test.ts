/**
 * The chart and the operator agree: the RaftCluster the chart renders, defaulted by the CRD's
 * schema as the API server would, becomes (through the operator's own buildOwnedObjects) objects
 * that pass their schemas, and whose pods the chart's PodMonitor and alert rules find: the
 * PodMonitor's port and selector, the rules' container name and pod names, the dashboard the
 * operator puts in its ConfigMap.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildOwnedObjects, CONTAINER_NAME } from '../../src/operator/owned-objects.js';
import {
  HTTP_PORT,
  quorumOf,
  type RaftCluster,
  resolveSpec,
} from '../../src/operator/raft-cluster.js';
import {
  FEATURE_RICH_VALUES,
  field,
  findObject,
  type KubeObject,
  raftClusterValidator,
  renderChart,
  ROOT,
  validateWithModels,
} from './chart-helpers.js';

const NAMESPACE = 'data';
const DASHBOARD_JSON = readFileSync(path.join(ROOT, 'deploy', 'grafana', 'raftkv.json'), 'utf8');

interface Rendered {
  readonly objects: KubeObject[];
  readonly cluster: RaftCluster;
}

/** The chart's objects and its RaftCluster as stored: defaulted, with a namespace and uid. */
function render(valuesFiles: readonly string[]): Rendered {
  const objects = renderChart({ namespace: NAMESPACE, valuesFiles, isMonitoringApi: true });
  const rendered = structuredClone(findObject(objects, 'RaftCluster'));
  const validate = raftClusterValidator(true);
  expect(validate(rendered), JSON.stringify(validate.errors)).toBe(true);
  const cluster = {
    ...rendered,
    metadata: {
      ...rendered.metadata,
      namespace: NAMESPACE,
      uid: 'c0ffee00-0000-4000-8000-000000000001',
    },
  } as unknown as RaftCluster;
  return { objects, cluster };
}

function ownedObjects(cluster: RaftCluster) {
  const replicas = resolveSpec(cluster.spec).replicas;
  return buildOwnedObjects(
    cluster,
    { replicas, initialReplicas: replicas, initialClusterState: 'new', quorum: quorumOf(replicas) },
    DASHBOARD_JSON,
  );
}

describe.each([
  ['default values', []],
  ['feature-rich values', [FEATURE_RICH_VALUES]],
])('the operator’s objects for the RaftCluster of the chart with %s', (_, valuesFiles) => {
  const { cluster } = render(valuesFiles);
  const owned = ownedObjects(cluster);

  it('pass their schemas', async () => {
    for (const object of Object.values(owned)) {
      if (object !== undefined) await validateWithModels(object as unknown as KubeObject);
    }
  });

  it('run the image and settings the chart asked for', () => {
    const podSpec = owned.statefulSet.spec?.template.spec;
    const node = podSpec?.containers.find((container) => container.name === CONTAINER_NAME);
    expect(node?.image).toBe(field(cluster, 'spec', 'image'));
    expect(owned.statefulSet.spec?.replicas).toBe(field(cluster, 'spec', 'replicas'));
  });

  it('are the pods the alert rules select, by container and pod name', () => {
    expect(CONTAINER_NAME).toBe('raftkv');
    const podName = `${owned.statefulSet.metadata?.name}-0`;
    expect(podName).toMatch(new RegExp(`^${cluster.metadata.name}-[0-9]+$`));
  });
});

describe('the chart’s monitoring of the operator’s pods', () => {
  const { objects, cluster } = render([FEATURE_RICH_VALUES]);
  const owned = ownedObjects(cluster);
  const template = owned.statefulSet.spec?.template;

  it('scrapes the port the node container serves /metrics on', () => {
    const podMonitor = findObject(objects, 'PodMonitor');
    const port = field(podMonitor, 'spec', 'podMetricsEndpoints', 0, 'port');
    const node = template?.spec?.containers.find((container) => container.name === CONTAINER_NAME);
    expect(node?.ports?.find((candidate) => candidate.name === port)?.containerPort).toBe(
      HTTP_PORT,
    );
  });

  it('selects the member pods by labels they carry', () => {
    const podMonitor = findObject(objects, 'PodMonitor');
    const selector = field(podMonitor, 'spec', 'selector', 'matchLabels') as Record<string, string>;
    expect(template?.metadata?.labels).toMatchObject(selector);
    for (const label of field(podMonitor, 'spec', 'podTargetLabels') as string[]) {
      expect(template?.metadata?.labels).toHaveProperty([label]);
    }
  });

  it('has the operator’s ServiceMonitor scrape a port of the peer Service', () => {
    const port = owned.serviceMonitor?.spec.endpoints[0]?.port;
    expect(owned.peerService.spec?.ports?.map((candidate) => candidate.name)).toContain(port);
    expect(owned.serviceMonitor?.metadata.labels).toMatchObject({
      release: 'kube-prometheus-stack',
    });
  });

  it('has the operator put the dashboard in a ConfigMap the Grafana sidecar picks up', () => {
    const configMap = owned.dashboardConfigMap;
    expect(configMap?.metadata?.labels).toMatchObject({ grafana_dashboard: '1', team: 'storage' });
    const dashboard = JSON.parse(configMap?.data?.['raftkv.json'] ?? '{}') as { uid?: string };
    expect(dashboard.uid).toBe('raftkv');
  });
});
