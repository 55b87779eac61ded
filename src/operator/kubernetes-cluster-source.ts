/**
 * `ClusterSource` on the Kubernetes API: informers on `RaftCluster`s (one namespace, or all) and
 * on the StatefulSets and pods the operator manages (label `app.kubernetes.io/managed-by:
 * raftkv-operator`). A change to a cluster, or to an object of one, wakes that cluster's key;
 * owned objects find their cluster through the `app.kubernetes.io/instance` label and their
 * namespace. It reconciles nothing and writes nothing.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import type { Logger } from '../common/index.js';
import { type RestartBackoff, RestartingInformer } from './kubernetes-informer.js';
import type { ClusterSource } from './platform.js';
import {
  RAFT_CLUSTER_API_VERSION,
  RAFT_CLUSTER_GROUP,
  RAFT_CLUSTER_KIND,
  RAFT_CLUSTER_PLURAL,
  RAFT_CLUSTER_VERSION,
  type RaftCluster,
} from './raft-cluster.js';

const INSTANCE_LABEL = 'app.kubernetes.io/instance';
/** Selects every object any cluster owns. */
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=raftkv-operator';

export interface KubernetesClusterSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** The namespace to watch; all namespaces when undefined. */
  readonly namespace: string | undefined;
  readonly logger: Logger;
  /** Delays between informer restarts after errors; default 1 s doubling to 30 s. */
  readonly restartBackoff?: RestartBackoff;
}

/** The Kubernetes implementation of {@link ClusterSource}. */
export class KubernetesClusterSource implements ClusterSource {
  private readonly clusters: RestartingInformer<KubernetesObject>;
  private readonly statefulSets: RestartingInformer<KubernetesObject>;
  private readonly pods: RestartingInformer<KubernetesObject>;
  private onChange: (key: string) => void = () => undefined;

  constructor(options: KubernetesClusterSourceOptions) {
    const { kubeConfig, namespace } = options;
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const common = {
      kubeConfig,
      logger: options.logger,
      ...(options.restartBackoff !== undefined ? { backoff: options.restartBackoff } : {}),
    };
    const inNamespace = namespace === undefined ? '' : `/namespaces/${namespace}`;
    const crd = { group: RAFT_CLUSTER_GROUP, version: RAFT_CLUSTER_VERSION };

    this.clusters = new RestartingInformer<KubernetesObject>({
      ...common,
      name: RAFT_CLUSTER_PLURAL,
      path: `/apis/${RAFT_CLUSTER_API_VERSION}${inNamespace}/${RAFT_CLUSTER_PLURAL}`,
      // The custom objects API is untyped; its answer is a list of RaftCluster objects.
      list: async () =>
        (namespace === undefined
          ? await custom.listClusterCustomObject({ ...crd, plural: RAFT_CLUSTER_PLURAL })
          : await custom.listNamespacedCustomObject({
              ...crd,
              namespace,
              plural: RAFT_CLUSTER_PLURAL,
            })) as KubernetesListObject<KubernetesObject>,
      onEvent: (_verb, object) => this.wake(keyOf(object, object.metadata?.name)),
    });
    const labelSelector = MANAGED_BY_SELECTOR;
    this.statefulSets = new RestartingInformer<KubernetesObject>({
      ...common,
      name: 'statefulsets',
      path: `/apis/apps/v1${inNamespace}/statefulsets`,
      labelSelector,
      list: () =>
        namespace === undefined
          ? apps.listStatefulSetForAllNamespaces({ labelSelector })
          : apps.listNamespacedStatefulSet({ namespace, labelSelector }),
      onEvent: (_verb, object) => this.wake(ownerKeyOf(object)),
    });
    this.pods = new RestartingInformer<KubernetesObject>({
      ...common,
      name: 'pods',
      path: `/api/v1${inNamespace}/pods`,
      labelSelector,
      list: () =>
        namespace === undefined
          ? core.listPodForAllNamespaces({ labelSelector })
          : core.listNamespacedPod({ namespace, labelSelector }),
      onEvent: (_verb, object) => this.wake(ownerKeyOf(object)),
    });
  }

  list(): readonly RaftCluster[] {
    return this.clusters
      .list()
      .map(toRaftCluster)
      .filter((cluster): cluster is RaftCluster => cluster !== undefined);
  }

  get(key: string): RaftCluster | undefined {
    const slash = key.indexOf('/');
    if (slash < 0) return undefined;
    const object = this.clusters.get(key.slice(slash + 1), key.slice(0, slash));
    return object === undefined ? undefined : toRaftCluster(object);
  }

  async start(onChange: (key: string) => void): Promise<void> {
    this.onChange = onChange;
    await Promise.all([this.clusters.start(), this.statefulSets.start(), this.pods.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.clusters.stop(), this.statefulSets.stop(), this.pods.stop()]);
    this.onChange = () => undefined;
  }

  private wake(key: string | undefined): void {
    if (key !== undefined) this.onChange(key);
  }
}

function keyOf(object: KubernetesObject, name: string | undefined): string | undefined {
  const namespace = object.metadata?.namespace;
  if (namespace === undefined || name === undefined || name === '') return undefined;
  return `${namespace}/${name}`;
}

/** The key of the cluster owning `object`, from its instance label. */
function ownerKeyOf(object: KubernetesObject): string | undefined {
  return keyOf(object, object.metadata?.labels?.[INSTANCE_LABEL]);
}

/**
 * A cached object as a `RaftCluster`, or undefined if it lacks the identity every reconcile
 * needs. An absent spec reads as all defaults.
 */
export function toRaftCluster(object: KubernetesObject): RaftCluster | undefined {
  const metadata = object.metadata;
  if (
    typeof metadata?.name !== 'string' ||
    typeof metadata.namespace !== 'string' ||
    typeof metadata.uid !== 'string'
  ) {
    return undefined;
  }
  const raw = object as KubernetesObject & { spec?: unknown };
  return {
    ...(raw as unknown as RaftCluster),
    apiVersion: RAFT_CLUSTER_API_VERSION,
    kind: RAFT_CLUSTER_KIND,
    spec: (typeof raw.spec === 'object' && raw.spec !== null
      ? raw.spec
      : {}) as RaftCluster['spec'],
  };
}
