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
