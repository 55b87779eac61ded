/**
 * The operator's runtime on Kubernetes: the API server from $KUBECONFIG, ~/.kube/config or the
 * pod's service account; informers on RaftClusters and the objects they own; a Lease in the
 * operator's namespace for leader election.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

import { KubeConfig } from '@kubernetes/client-node';

import type { Logger } from '../common/index.js';
import { KubernetesClusterSource } from './kubernetes-cluster-source.js';
import { KubernetesLeaseStore } from './kubernetes-lease-store.js';
import { KubernetesPlatform } from './kubernetes-platform.js';
import type { OperatorOptions } from './operator-options.js';
import type { OperatorRuntime } from './operator-runner.js';

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The namespace the operator runs in: $POD_NAMESPACE, the service account's, else `default`. */
function ownNamespace(env: Readonly<Record<string, string | undefined>>): string {
  if (env.POD_NAMESPACE !== undefined && env.POD_NAMESPACE !== '') return env.POD_NAMESPACE;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    return 'default';
  }
}

/** Builds the Kubernetes runtime. */
export async function kubernetesRuntime(
  options: OperatorOptions,
  logger: Logger,
  env: Readonly<Record<string, string | undefined>>,
): Promise<OperatorRuntime> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const home = ownNamespace(env);
  const watched = options.isAllNamespaces ? undefined : (options.namespace ?? home);
  const podName = env.POD_NAME ?? hostname();
  logger.info(
    { server: kubeConfig.getCurrentCluster()?.server, namespace: watched ?? '(all)' },
    'connecting to Kubernetes',
  );
  return Promise.resolve({
    platform: new KubernetesPlatform({
      kubeConfig,
      logger,
      instanceName: podName,
      ...(options.dashboardFile === undefined ? {} : { dashboardPath: options.dashboardFile }),
    }),
    source: new KubernetesClusterSource({ kubeConfig, namespace: watched, logger }),
    leaseStore: new KubernetesLeaseStore({ kubeConfig, namespace: home, name: options.leaseName }),
    identity: `${podName}_${randomUUID()}`,
  });
}
