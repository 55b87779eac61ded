/**
 * The operator's control loop: clusters from a `ClusterSource` (informers, or a local directory)
 * go through a per-key work queue into the reconciler, one pass per cluster at a time, with
 * exponential backoff on errors, a requeue while a change is under way, and a periodic resync of
 * every cluster so a missed event heals by itself (level-triggered, DESIGN.md §8).
 *
 * Owns: the queue, the resync timer, the reconcile metrics. Must not: reconcile one cluster in
 * two passes at once (the queue guarantees it), or keep anything about a cluster the reconciler
 * cannot rebuild from observation.
 */
import type { Logger } from '../common/index.js';
import type { MembershipAction, OperatorMetrics } from '../metrics/index.js';
import type { MembershipStep } from './membership-plan.js';
import type { ClusterSource } from './platform.js';
import type { ReconcileObserver, Reconciler } from './reconciler.js';
import { type WorkResult, WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  readonly source: ClusterSource;
  readonly reconciler: Reconciler;
  readonly logger: Logger;
  readonly metrics?: OperatorMetrics;
  /** Every cluster is reconciled at least this often (default 30 s). */
  readonly resyncPeriodMs?: number;
  /** Clusters reconciled at once (default 2). */
  readonly concurrency?: number;
}

/** The metric label of each step kind; `wait` and `create` are not membership steps. */
const STEP_ACTIONS: Partial<Record<MembershipStep['kind'], MembershipAction>> = {
  addLearner: 'add_learner',
  promote: 'promote',
  removeMember: 'remove_member',
  transferLeadership: 'transfer_leadership',
  raiseReplicas: 'raise_replicas',
  lowerReplicas: 'lower_replicas',
  resetOrdinal: 'delete_claim',
};

/** The metric label of a step (an unhealthy member's removal counts as a replacement). */
export function stepAction(step: MembershipStep): MembershipAction | undefined {
  if (step.kind === 'removeMember' && step.why === 'unhealthy') return 'replace_member';
  return STEP_ACTIONS[step.kind];
}

/** The reconciler's observer that feeds the operator metrics. */
export function metricsObserver(metrics: OperatorMetrics): ReconcileObserver {
  return {
    stepTaken(step, seconds) {
      const action = stepAction(step);
      if (action !== undefined) metrics.membershipStep(action, seconds);
    },
    membersCounted: (key, count) => metrics.setClusterMembers(key, count),
  };
}

export class Controller {
  private readonly options: ControllerOptions;
  private readonly queue: WorkQueue;
  private resyncTimer: NodeJS.Timeout | undefined;
  private isSyncedFlag = false;
  /** When a pass last finished (for /healthz: a stuck loop stops moving it). */
  private lastPassEndedMs = Date.now();

  constructor(options: ControllerOptions) {
    this.options = options;
    this.queue = new WorkQueue({
      handler: (key) => this.handle(key),
      concurrency: options.concurrency ?? 2,
      onDrop: (key) => {
        options.logger.warn({ cluster: key }, 'work queue full: key dropped');
        options.metrics?.queueDropped(1);
      },
    });
  }

  /** Starts watching and reconciling; resolves once the first list is in. */
  async start(): Promise<void> {
    await this.options.source.start((key) => this.enqueue(key));
    this.isSyncedFlag = true;
    this.resyncAll();
    const periodMs = this.options.resyncPeriodMs ?? 30_000;
    this.resyncTimer = setInterval(() => this.resyncAll(), periodMs);
    this.resyncTimer.unref();
  }

  /** Stops watching and waits for the passes in flight. */
  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    await this.options.source.stop();
    await this.queue.shutdown();
  }

  /** True once the first list of clusters is in (for /readyz). */
  isSynced(): boolean {
    return this.isSyncedFlag;
  }

  /** Milliseconds since the last pass ended, or 0 while idle with nothing queued. */
  stalledForMs(nowMs: number): number {
    const stats = this.queue.stats();
    if (stats.inFlight === 0 && stats.queued === 0) return 0;
    return nowMs - this.lastPassEndedMs;
  }

  private enqueue(key: string): void {
    this.queue.add(key);
    this.options.metrics?.setQueueDepth(this.queue.depth());
  }

  private resyncAll(): void {
    for (const cluster of this.options.source.list()) {
      this.enqueue(`${cluster.metadata.namespace}/${cluster.metadata.name}`);
    }
  }

  private async handle(key: string): Promise<WorkResult> {
    const metrics = this.options.metrics;
    const cluster = this.options.source.get(key);
    if (cluster === undefined) {
      this.options.reconciler.forget(key);
      metrics?.removeCluster(key);
      return { kind: 'done' };
    }
    const startedMs = performance.now();
    const result = await this.options.reconciler.reconcile(cluster);
    this.lastPassEndedMs = Date.now();
    const seconds = (performance.now() - startedMs) / 1000;
    metrics?.reconciled(result.kind === 'requeueAfter' ? 'requeue' : result.kind, seconds);
    metrics?.setQueueDepth(this.queue.depth());
    return result;
  }
}
