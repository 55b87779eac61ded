/**
 * The metrics of the raftkv operator (docs/decisions/0011-operator-contract.md) behind a small
 * typed facade: the controller states what happened (`reconciled('error', s)`,
 * `membershipStep('promote', s)`) and never touches prom-client. Every metric lives in the
 * operator's own {@link Registry}, never in prom-client's global one.
 * This file must not decide when something is counted: the controller and the reconcile call it.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How one reconcile ended (the `result` label; every series exists from the start). */
export const RECONCILE_RESULTS = ['done', 'requeue', 'error'] as const;
export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

/** The membership steps of the plan (the `action` label; every series exists from the start). */
export const MEMBERSHIP_ACTIONS = [
  'add_learner',
  'promote',
  'remove_member',
  'transfer_leadership',
  'raise_replicas',
  'lower_replicas',
  'delete_claim',
  'replace_member',
] as const;
export type MembershipAction = (typeof MEMBERSHIP_ACTIONS)[number];

/**
 * 5 ms .. ~82 s, doubling: a reconcile is a few API calls (milliseconds) but may wait for a
 * member's answer up to its request timeout.
 */
export const RECONCILE_BUCKETS_SECONDS: readonly number[] = Object.freeze(
  Array.from({ length: 15 }, (_, index) => 0.005 * 2 ** index),
);

/**
 * 0.1 s .. 120 s: a step from its start until it is read back done, from a quick member change
 * to a pod being scheduled, pulling its image and catching up.
 */
export const MEMBERSHIP_STEP_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120,
]);

/** Options of {@link createOperatorMetrics}. */
export interface OperatorMetricsOptions {
  /** The registry to fill; a new one by default. Never pass prom-client's global `register`. */
  readonly registry?: Registry;
  /** Also collect prom-client's default process and Node.js metrics; off by default. */
  readonly isProcessMetricsEnabled?: boolean;
}

/** The operator's metrics. Methods never throw for valid numbers. */
export interface OperatorMetrics {
  readonly registry: Registry;
  /** The `Content-Type` of {@link OperatorMetrics.text}'s output. */
  readonly contentType: string;
  /** Every metric in the Prometheus text exposition format, for `GET /metrics`. */
  text(): Promise<string>;

  /** Sets `raftkv_operator_is_leader`: whether this replica holds the Lease and reconciles. */
  setLeader(isLeader: boolean): void;
  /** One reconcile ended with `result` after `seconds`. */
  reconciled(result: ReconcileResultLabel, seconds: number): void;
  /** One membership step `action` completed, `seconds` after it started. */
  membershipStep(action: MembershipAction, seconds: number): void;
  /** Keys ready in the work queue (`raftkv_operator_queue_depth`). */
  setQueueDepth(depth: number): void;
  /** The work queue refused `count` keys at its limit (resync brings them back). */
  queueDropped(count: number): void;
  /** Members in the Raft configuration of cluster `cluster` (`namespace/name`). */
  setClusterMembers(cluster: string, members: number): void;
  /** Drops the series of a deleted cluster. */
  removeCluster(cluster: string): void;
}

/** Builds every operator metric in `options.registry` (a new registry by default). */
export function createOperatorMetrics(options: OperatorMetricsOptions = {}): OperatorMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];

  const isLeader = new Gauge({
    name: 'raftkv_operator_is_leader',
    help: '1 if this operator replica holds the leader Lease and reconciles, else 0.',
    registers,
  });
  const reconcileTotal = new Counter({
    name: 'raftkv_operator_reconcile_total',
    help: 'Reconciles of a RaftCluster, by result (done, requeue, error).',
    labelNames: ['result'],
    registers,
  });
  const reconcileDuration = new Histogram({
    name: 'raftkv_operator_reconcile_duration_seconds',
    help: 'Duration of one reconcile of a RaftCluster.',
    buckets: [...RECONCILE_BUCKETS_SECONDS],
    registers,
  });
  const stepsTotal = new Counter({
    name: 'raftkv_operator_membership_steps_total',
    help: 'Membership steps completed, by action.',
    labelNames: ['action'],
    registers,
  });
  const stepDuration = new Histogram({
    name: 'raftkv_operator_membership_step_duration_seconds',
    help: 'Time from starting a membership step until it was seen done, by action.',
    labelNames: ['action'],
    buckets: [...MEMBERSHIP_STEP_BUCKETS_SECONDS],
    registers,
  });
  const queueDepth = new Gauge({
    name: 'raftkv_operator_queue_depth',
    help: 'RaftCluster keys waiting in the work queue, ready to reconcile.',
    registers,
  });
  const queueDrops = new Counter({
    name: 'raftkv_operator_queue_drops_total',
    help: 'Keys the work queue refused at its limit (the periodic resync adds them again).',
    registers,
  });
  const clusterMembers = new Gauge({
    name: 'raftkv_operator_cluster_members',
    help: 'Members in the Raft configuration of each RaftCluster (cluster = namespace/name).',
    labelNames: ['cluster'],
    registers,
  });

  isLeader.set(0);
  queueDepth.set(0);
  for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ result }, 0);
  for (const action of MEMBERSHIP_ACTIONS) stepsTotal.inc({ action }, 0);
  if (options.isProcessMetricsEnabled === true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    setLeader: (leading) => isLeader.set(leading ? 1 : 0),
    reconciled(result, seconds) {
      reconcileTotal.inc({ result });
      reconcileDuration.observe(seconds);
    },
    membershipStep(action, seconds) {
      stepsTotal.inc({ action });
      stepDuration.observe({ action }, seconds);
    },
    setQueueDepth: (depth) => queueDepth.set(depth),
    queueDropped: (count) => queueDrops.inc(count),
    setClusterMembers: (cluster, members) => clusterMembers.set({ cluster }, members),
    removeCluster: (cluster) => clusterMembers.remove({ cluster }),
  };
}
