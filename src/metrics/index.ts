/**
 * The public surface of the metrics module, the only importer of prom-client (DESIGN.md §2).
 * Other modules import only from here and never build a registry of their own.
 */
export { LATENCY_BUCKETS_SECONDS, SNAPSHOT_BUCKETS_SECONDS } from './metric-buckets.js';
export {
  createNodeMetrics,
  ELECTION_REASONS,
  type ElectionReason,
  NODE_ROLES,
  type NodeMetrics,
  type NodeMetricsOptions,
  type NodeRole,
} from './node-metrics.js';
export {
  createOperatorMetrics,
  MEMBERSHIP_ACTIONS,
  MEMBERSHIP_STEP_BUCKETS_SECONDS,
  type MembershipAction,
  type OperatorMetrics,
  type OperatorMetricsOptions,
  RECONCILE_BUCKETS_SECONDS,
  RECONCILE_RESULTS,
  type ReconcileResultLabel,
} from './operator-metrics.js';
