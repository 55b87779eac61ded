/**
 * `Platform` on a real Kubernetes API server through `@kubernetes/client-node` 1.4: applies the
 * owned objects of decision 0011 by server-side apply (field manager `raftkv-operator`, force),
 * observes the StatefulSet, pods and claims, deletes pods and claims, writes the RaftCluster's
 * status through `/status`, and records Events.
 *
 * It decides no membership step and holds no per-cluster state beyond a cache of the dashboard
 * text and which warnings were already logged. It never adopts an object it does not control
 * (`NotOwnedError`) and never deletes one it does not control.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';

import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  type V1OwnerReference,
  type V1StatefulSet,
  setHeaderOptions,
} from '@kubernetes/client-node';

import type { Logger } from '../common/index.js';
import {
  NotOwnedError,
  describeError,
  isNotFound,
  isUnknownResource,
} from './kubernetes-errors.js';
import { observationOf } from './kubernetes-observation.js';
import {
  type OwnedObjects,
  buildOwnedObjects,
  claimName,
  dashboardConfigMapName,
  isControlledBy,
} from './owned-objects.js';
import type { DesiredWorkload, Platform, PlatformEvent, WorkloadObservation } from './platform.js';
import {
  CLIENT_PORT,
  FIELD_MANAGER,
  PEER_PORT,
  RAFT_CLUSTER_GROUP,
  RAFT_CLUSTER_PLURAL,
  RAFT_CLUSTER_VERSION,
  type RaftCluster,
  type RaftClusterStatus,
  clusterKey,
  memberName,
  peerServiceName,
  resolveSpec,
  selectorString,
} from './raft-cluster.js';

/** Every server-side apply goes with this content type (client-node defaults to JSON patch). */
const APPLY_OPTIONS = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const MERGE_PATCH_OPTIONS = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const MONITORING_GROUP = 'monitoring.coreos.com';
const MONITORING_VERSION = 'v1';
const SERVICE_MONITOR_PLURAL = 'servicemonitors';

/** Every `status` field; a status write sets the absent ones to null so they are removed. */
const STATUS_FIELDS: readonly (keyof RaftClusterStatus)[] = [
  'observedGeneration',
  'replicas',
  'readyReplicas',
  'selector',
  'initialReplicas',
  'leader',
  'leaderId',
  'term',
  'members',
  'lastStep',
  'conditions',
];

/** `deploy/grafana/raftkv.json` of this package (two levels above src/operator or dist/operator). */
export const DEFAULT_DASHBOARD_PATH = fileURLToPath(
  new URL('../../deploy/grafana/raftkv.json', import.meta.url),
);

export interface KubernetesPlatformOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** The Grafana dashboard JSON for the dashboard ConfigMap; default {@link DEFAULT_DASHBOARD_PATH}. */
  readonly dashboardPath?: string;
  /**
   * How the operator reaches ordinal K's client API (`host:port`); default the pod's DNS name on
   * the client port. Tests point it at local members.
   */
  readonly clientEndpointOf?: (cluster: RaftCluster, ordinal: number) => string;
  /** `reportingInstance` of Events: the operator's pod name; default the host name. */
  readonly instanceName?: string;
  /** Clock for Event timestamps. */
  readonly nowMs?: () => number;
}

/** The Kubernetes implementation of {@link Platform}. */
export class KubernetesPlatform implements Platform {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly policy: PolicyV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly logger: Logger;
  private readonly dashboardPath: string;
  private readonly instanceName: string;
  private readonly nowMs: () => number;
  private readonly clientEndpointOverride:
    ((cluster: RaftCluster, ordinal: number) => string) | undefined;
  private dashboardText: string | undefined;
  /** Warnings logged once per process, not once per reconcile. */
  private readonly warned = new Set<string>();

  constructor(options: KubernetesPlatformOptions) {
    this.apps = options.kubeConfig.makeApiClient(AppsV1Api);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.policy = options.kubeConfig.makeApiClient(PolicyV1Api);
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.logger = options.logger;
    this.dashboardPath = options.dashboardPath ?? DEFAULT_DASHBOARD_PATH;
    this.instanceName = options.instanceName ?? hostname();
    this.nowMs = options.nowMs ?? Date.now;
    this.clientEndpointOverride = options.clientEndpointOf;
  }

  /**
   * Applies the Services, the StatefulSet and the disruption budget, then the ServiceMonitor
   * and dashboard ConfigMap (or deletes them when switched off). Throws `NotOwnedError` before
   * writing anything if one of the objects exists without this cluster as its controller.
   */
  async applyWorkload(cluster: RaftCluster, desired: DesiredWorkload): Promise<void> {
    const spec = resolveSpec(cluster.spec);
    const dashboardJson = spec.dashboard.enabled ? await this.readDashboard() : undefined;
    const objects = buildOwnedObjects(cluster, desired, dashboardJson);
    const { namespace, name } = cluster.metadata;
    const existingStatefulSet = await this.readOwnedObjects(cluster, objects);
    const statefulSet = withExistingClaimTemplates(objects.statefulSet, existingStatefulSet);
    if (statefulSet !== objects.statefulSet)
      this.warnIfStorageChanged(cluster, objects.statefulSet, statefulSet);

    const apply = { namespace, fieldManager: FIELD_MANAGER, force: true };
    await this.core.patchNamespacedService(
      { ...apply, name: peerServiceName(name), body: objects.peerService },
      APPLY_OPTIONS,
    );
    await this.core.patchNamespacedService(
      { ...apply, name, body: objects.clientService },
      APPLY_OPTIONS,
    );
    await this.apps.patchNamespacedStatefulSet(
      { ...apply, name, body: statefulSet },
      APPLY_OPTIONS,
    );
    await this.policy.patchNamespacedPodDisruptionBudget(
      { ...apply, name, body: objects.podDisruptionBudget },
      APPLY_OPTIONS,
    );
    await this.reconcileServiceMonitor(cluster, objects);
    await this.reconcileDashboard(cluster, objects, spec.dashboard.enabled);
  }

  async observe(cluster: RaftCluster): Promise<WorkloadObservation> {
    const { namespace, name } = cluster.metadata;
    const [statefulSet, pods, claims] = await Promise.all([
      orUndefinedIfNotFound(this.apps.readNamespacedStatefulSet({ namespace, name })),
      this.core.listNamespacedPod({ namespace, labelSelector: selectorString(name) }),
      // Claims are matched by name (data-NAME-K), not labels: a leftover claim counts even if
      // someone relabelled it.
      this.core.listNamespacedPersistentVolumeClaim({ namespace }),
    ]);
    return observationOf(cluster, statefulSet, pods.items, claims.items);
  }

  async deletePod(cluster: RaftCluster, ordinal: number): Promise<void> {
    const { namespace, name } = cluster.metadata;
    await ignoreNotFound(
      this.core.deleteNamespacedPod({ namespace, name: memberName(name, ordinal) }),
    );
  }

  async deleteClaim(cluster: RaftCluster, ordinal: number): Promise<void> {
    const { namespace, name } = cluster.metadata;
    await ignoreNotFound(
      this.core.deleteNamespacedPersistentVolumeClaim({
        namespace,
        name: claimName(name, ordinal),
      }),
    );
  }

  /**
   * Deletes the claim, then the pod. The claim's `kubernetes.io/pvc-protection` finalizer keeps
   * it (Terminating) until the pod is gone; the StatefulSet then recreates the pod with a new,
   * empty claim. The other order could let the new pod bind the old claim again.
   */
  async resetOrdinal(cluster: RaftCluster, ordinal: number): Promise<void> {
    await this.deleteClaim(cluster, ordinal);
    await this.deletePod(cluster, ordinal);
  }

  /**
   * Replaces `status` by a merge patch on `/status`: every field absent from `status` is sent
   * as null, so the written status is exactly `status`. A cluster deleted meanwhile is ignored.
   */
  async writeStatus(cluster: RaftCluster, status: RaftClusterStatus): Promise<void> {
    const body: Record<string, unknown> = {};
    for (const field of STATUS_FIELDS) body[field] = null;
    for (const field of Object.keys(cluster.status ?? {})) body[field] = null;
    Object.assign(body, status);
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: RAFT_CLUSTER_GROUP,
          version: RAFT_CLUSTER_VERSION,
          plural: RAFT_CLUSTER_PLURAL,
          namespace: cluster.metadata.namespace,
          name: cluster.metadata.name,
          body: { status: body },
          fieldManager: FIELD_MANAGER,
        },
        MERGE_PATCH_OPTIONS,
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.logger.debug({ cluster: clusterKey(cluster) }, 'status not written: cluster is gone');
    }
  }

  /** Best effort: a failure is logged, never thrown (an Event is not worth a failed step). */
  async recordEvent(cluster: RaftCluster, event: PlatformEvent): Promise<void> {
    const { namespace, name, uid, resourceVersion } = cluster.metadata;
    // metav1.Time has seconds precision.
    const now = new Date(Math.floor(this.nowMs() / 1000) * 1000);
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: {
            apiVersion: cluster.apiVersion,
            kind: cluster.kind,
            name,
            namespace,
            uid,
            ...(resourceVersion !== undefined ? { resourceVersion } : {}),
          },
          type: event.type,
          reason: event.reason,
          message: event.message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          reportingInstance: this.instanceName,
        },
      });
    } catch (error) {
      this.logger.warn(
        { cluster: clusterKey(cluster), reason: event.reason, error: describeError(error) },
        'event not recorded',
      );
    }
  }

  clientEndpoint(cluster: RaftCluster, ordinal: number): string {
    if (this.clientEndpointOverride !== undefined) {
      return this.clientEndpointOverride(cluster, ordinal);
    }
    return `${podHost(cluster, ordinal)}:${CLIENT_PORT}`;
  }

  peerUrl(cluster: RaftCluster, ordinal: number): string {
    return `http://${podHost(cluster, ordinal)}:${PEER_PORT}`;
  }

  /**
   * Reads every object about to be applied and throws `NotOwnedError` for one that exists
   * without this cluster as controller. Returns the existing StatefulSet, if any.
   */
  private async readOwnedObjects(
    cluster: RaftCluster,
    objects: OwnedObjects,
  ): Promise<V1StatefulSet | undefined> {
    const { namespace, name } = cluster.metadata;
    const [statefulSet, peerService, clientService, budget] = await Promise.all([
      orUndefinedIfNotFound(this.apps.readNamespacedStatefulSet({ namespace, name })),
      orUndefinedIfNotFound(
        this.core.readNamespacedService({ namespace, name: peerServiceName(name) }),
      ),
      orUndefinedIfNotFound(this.core.readNamespacedService({ namespace, name })),
      orUndefinedIfNotFound(this.policy.readNamespacedPodDisruptionBudget({ namespace, name })),
    ]);
    const found: [
      string,
      string,
      { metadata?: { ownerReferences?: V1OwnerReference[] } } | undefined,
    ][] = [
      ['StatefulSet', name, statefulSet],
      ['Service', peerServiceName(name), peerService],
      ['Service', name, clientService],
      ['PodDisruptionBudget', name, budget],
    ];
    if (objects.dashboardConfigMap !== undefined) {
      const configMap = await orUndefinedIfNotFound(
        this.core.readNamespacedConfigMap({ namespace, name: dashboardConfigMapName(name) }),
      );
      found.push(['ConfigMap', dashboardConfigMapName(name), configMap]);
    }
    if (objects.serviceMonitor !== undefined) {
      found.push(['ServiceMonitor', name, await this.readServiceMonitor(cluster)]);
    }
    for (const [kind, objectName, object] of found) {
      if (
        object !== undefined &&
        !isControlledBy(object.metadata?.ownerReferences, cluster.metadata.uid)
      ) {
        throw new NotOwnedError(kind, `${namespace}/${objectName}`);
      }
    }
    return statefulSet;
  }

  private async readServiceMonitor(
    cluster: RaftCluster,
  ): Promise<{ metadata?: { ownerReferences?: V1OwnerReference[] } } | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: MONITORING_GROUP,
        version: MONITORING_VERSION,
        plural: SERVICE_MONITOR_PLURAL,
        namespace: cluster.metadata.namespace,
        name: cluster.metadata.name,
      })) as { metadata?: { ownerReferences?: V1OwnerReference[] } };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async reconcileServiceMonitor(
    cluster: RaftCluster,
    objects: OwnedObjects,
  ): Promise<void> {
    const { namespace, name } = cluster.metadata;
    const target = {
      group: MONITORING_GROUP,
      version: MONITORING_VERSION,
      plural: SERVICE_MONITOR_PLURAL,
      namespace,
      name,
    };
    try {
      if (objects.serviceMonitor !== undefined) {
        await this.custom.patchNamespacedCustomObject(
          { ...target, body: objects.serviceMonitor, fieldManager: FIELD_MANAGER, force: true },
          APPLY_OPTIONS,
        );
        return;
      }
      // Switched off: delete only what this cluster controls (a user's own is left alone).
      const existing = await this.readServiceMonitor(cluster);
      if (existing === undefined) return;
      if (!isControlledBy(existing.metadata?.ownerReferences, cluster.metadata.uid)) return;
      await ignoreNotFound(this.custom.deleteNamespacedCustomObject(target));
    } catch (error) {
      if (!isUnknownResource(error)) throw error;
      if (objects.serviceMonitor !== undefined) {
        this.warnOnce(
          'servicemonitor-crd',
          { cluster: clusterKey(cluster) },
          'ServiceMonitor not created: the monitoring.coreos.com/v1 API is not served (is the Prometheus Operator installed?)',
        );
      }
    }
  }

  private async reconcileDashboard(
    cluster: RaftCluster,
    objects: OwnedObjects,
    isEnabled: boolean,
  ): Promise<void> {
    const { namespace } = cluster.metadata;
    const name = dashboardConfigMapName(cluster.metadata.name);
    if (objects.dashboardConfigMap !== undefined) {
      await this.core.patchNamespacedConfigMap(
        {
          namespace,
          name,
          body: objects.dashboardConfigMap,
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        APPLY_OPTIONS,
      );
      return;
    }
    // Enabled but the file is unreadable (already logged): leave whatever exists.
    if (isEnabled) return;
    const existing = await orUndefinedIfNotFound(
      this.core.readNamespacedConfigMap({ namespace, name }),
    );
    if (existing === undefined) return;
    if (!isControlledBy(existing.metadata?.ownerReferences, cluster.metadata.uid)) return;
    await ignoreNotFound(this.core.deleteNamespacedConfigMap({ namespace, name }));
  }

  /** The dashboard text, read once; undefined (logged once) when the file cannot be read. */
  private async readDashboard(): Promise<string | undefined> {
    if (this.dashboardText !== undefined) return this.dashboardText;
    try {
      this.dashboardText = await readFile(this.dashboardPath, 'utf8');
      return this.dashboardText;
    } catch (error) {
      this.warnOnce(
        'dashboard-file',
        { path: this.dashboardPath, error: describeError(error) },
        'dashboard ConfigMap not applied: the dashboard file cannot be read',
      );
      return undefined;
    }
  }

  private warnIfStorageChanged(
    cluster: RaftCluster,
    wanted: V1StatefulSet,
    applied: V1StatefulSet,
  ): void {
    const storageOf = (statefulSet: V1StatefulSet): string =>
      JSON.stringify(
        (statefulSet.spec?.volumeClaimTemplates ?? []).map((template) => [
          template.spec?.resources?.requests?.storage,
          template.spec?.storageClassName,
        ]),
      );
    if (storageOf(wanted) !== storageOf(applied)) {
      this.warnOnce(
        `storage:${clusterKey(cluster)}`,
        { cluster: clusterKey(cluster) },
        'storage size and class are fixed when the StatefulSet is created; the change is not applied',
      );
    }
  }

  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(fields, message);
  }
}

/** `NAME-K.NAME-peers.NS.svc.DOMAIN`: the pod's stable DNS name through the headless Service. */
function podHost(cluster: RaftCluster, ordinal: number): string {
  const { name, namespace } = cluster.metadata;
  const domain = resolveSpec(cluster.spec).clusterDomain;
  return `${memberName(name, ordinal)}.${peerServiceName(name)}.${namespace}.svc.${domain}`;
}

/**
 * The StatefulSet to apply: the built one, but with the existing claim templates when there is
 * a StatefulSet already, since the API server refuses any change to them.
 */
export function withExistingClaimTemplates(
  built: V1StatefulSet,
  existing: V1StatefulSet | undefined,
): V1StatefulSet {
  const templates = existing?.spec?.volumeClaimTemplates;
  if (templates === undefined || built.spec === undefined) return built;
  // A JSON round trip turns client-node's Dates back into text; the server's `null`s
  // (`creationTimestamp: null`) and the templates' `status` are nothing to apply.
  const copied = (
    JSON.parse(
      JSON.stringify(templates, (_key, value: unknown) => (value === null ? undefined : value)),
    ) as typeof templates
  ).map(({ status: _status, ...template }) => template);
  return { ...built, spec: { ...built.spec, volumeClaimTemplates: copied } };
}

async function orUndefinedIfNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function ignoreNotFound(request: Promise<unknown>): Promise<void> {
  await orUndefinedIfNotFound(request);
}
