/**
 * Turns what the API server returns (StatefulSet, pods, volume claims) into the platform's
 * `WorkloadObservation`. Pure: it reads objects handed to it and calls nothing.
 */
import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from '@kubernetes/client-node';

import {
  CONTAINER_NAME,
  DATA_VOLUME_NAME,
  INITIAL_CLUSTER_SIZE_ENV,
  INITIAL_CLUSTER_STATE_ENV,
  isControlledBy,
} from './owned-objects.js';
import type { InitialClusterState, PodObservation, WorkloadObservation } from './platform.js';
import { type RaftCluster, ordinalOf } from './raft-cluster.js';

/** The observation of `cluster` from its StatefulSet (undefined if none), pods and claims. */
export function observationOf(
  cluster: RaftCluster,
  statefulSet: V1StatefulSet | undefined,
  pods: readonly V1Pod[],
  claims: readonly V1PersistentVolumeClaim[],
): WorkloadObservation {
  const name = cluster.metadata.name;
  return {
    // The API server defaults spec.replicas to 1; an absent field means that.
    replicas: statefulSet === undefined ? null : (statefulSet.spec?.replicas ?? 1),
    initialReplicas: statefulSet === undefined ? null : initialReplicasOf(statefulSet),
    initialClusterState: statefulSet === undefined ? null : initialClusterStateOf(statefulSet),
    isOwned:
      statefulSet === undefined ||
      isControlledBy(statefulSet.metadata?.ownerReferences, cluster.metadata.uid),
    pods: pods
      .map((pod) => podObservationOf(name, pod))
      .filter((pod): pod is PodObservation => pod !== undefined)
      .sort((a, b) => a.ordinal - b.ordinal),
    claimOrdinals: claims
      .map((claim) => claimOrdinalOf(name, claim.metadata?.name ?? ''))
      .filter((ordinal): ordinal is number => ordinal !== null)
      .sort((a, b) => a - b),
  };
}

/** The value of environment variable `name` of the node container, if set. */
function nodeEnvOf(statefulSet: V1StatefulSet, name: string): string | undefined {
  // Typed as required, but a StatefulSet someone else wrote is read as it comes.
  const containers = statefulSet.spec?.template?.spec?.containers ?? [];
  const container =
    containers.find((candidate) => candidate.name === CONTAINER_NAME) ?? containers[0];
  return container?.env?.find((variable) => variable.name === name)?.value;
}

/** `RAFTKV_INITIAL_CLUSTER_SIZE` of the node container, or null if absent or not a number. */
export function initialReplicasOf(statefulSet: V1StatefulSet): number | null {
  const value = nodeEnvOf(statefulSet, INITIAL_CLUSTER_SIZE_ENV);
  if (value === undefined || !/^[1-9][0-9]*$/.test(value)) return null;
  return Number(value);
}

/** `RAFTKV_INITIAL_CLUSTER_STATE` of the node container, or null if absent or unknown. */
export function initialClusterStateOf(statefulSet: V1StatefulSet): InitialClusterState | null {
  const value = nodeEnvOf(statefulSet, INITIAL_CLUSTER_STATE_ENV);
  return value === 'new' || value === 'existing' ? value : null;
}

/** The pod of ordinal K, or undefined when its name is not `NAME-K`. */
export function podObservationOf(clusterName: string, pod: V1Pod): PodObservation | undefined {
  const name = pod.metadata?.name ?? '';
  const ordinal = ordinalOf(clusterName, name);
  if (ordinal === null) return undefined;
  const statuses = pod.status?.containerStatuses ?? [];
  const container = statuses.find((status) => status.name === CONTAINER_NAME) ?? statuses[0];
  return {
    name,
    ordinal,
    // `started` turns true once the startup probe passed; absent on old kubelets.
    isRunning:
      pod.status?.phase === 'Running' &&
      container?.state?.running !== undefined &&
      container.started !== false,
    isReady:
      pod.status?.conditions?.some(
        (condition) => condition.type === 'Ready' && condition.status === 'True',
      ) ?? false,
    isTerminating:
      pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
    restartCount: container?.restartCount ?? 0,
  };
}

/** The ordinal of claim `data-NAME-K`, or null if it is not one of this cluster's claims. */
export function claimOrdinalOf(clusterName: string, claimName: string): number | null {
  const prefix = `${DATA_VOLUME_NAME}-`;
  if (!claimName.startsWith(prefix)) return null;
  return ordinalOf(clusterName, claimName.slice(prefix.length));
}
