/**
 * The raftkv operator (DESIGN.md §8): reconciles RaftCluster resources through a Platform. The
 * CLI uses the local platform (`raftkv local start|scale`) and the operator command from here.
 */
export { describeStep } from './cluster-status.js';
export { findCondition } from './conditions.js';
export {
  createLocalCluster,
  readLocalCluster,
  updateLocalClusterSpec,
} from './local-cluster-files.js';
export { acquireLocalOperatorLock, runningLocalOperator } from './local-operator-lock.js';
export { LOCAL_CLUSTER_NAME, localRuntime } from './local-runtime.js';
export { runOperatorMain } from './main.js';
export { operatorHelp, OperatorUsageError, parseOperatorOptions } from './operator-options.js';
export { runOperator } from './operator-runner.js';
export type { RaftCluster, RaftClusterSpec, RaftClusterStatus } from './raft-cluster.js';
