/**
 * Runs the operator until a signal (or lost leadership) stops it: HTTP endpoints, metrics, the
 * Lease elector and the control loop, over whichever platform main.ts built. Standby replicas
 * serve /healthz and /readyz and wait for the Lease; the leader reconciles. Losing the Lease
 * exits with code 1, so Kubernetes restarts the pod as a fresh candidate (client-go's rule: a
 * leader that cannot prove it still leads must stop acting at once).
 */
import type { Logger } from '../common/index.js';
import { createOperatorMetrics, type OperatorMetrics } from '../metrics/index.js';
import { Controller, metricsObserver } from './controller.js';
import { LeaseElector } from './lease-elector.js';
import { type MembershipClientFactory, raftkvMembershipClients } from './membership-client.js';
import { startOperatorHttp } from './operator-http.js';
import type { OperatorOptions } from './operator-options.js';
import type { ClusterSource, LeaseStore, Platform } from './platform.js';
import type { MembershipStep } from './membership-plan.js';
import type { RaftCluster } from './raft-cluster.js';
import { Reconciler } from './reconciler.js';

/** What a platform contributes to a running operator. */
export interface OperatorRuntime {
  readonly platform: Platform;
  readonly source: ClusterSource;
  /** Null: no leader election (a single local operator guards itself another way). */
  readonly leaseStore: LeaseStore | null;
  /** Unique per process: the Lease holder identity. */
  readonly identity: string;
}

export interface RunOperatorOptions {
  readonly options: OperatorOptions;
  readonly runtime: OperatorRuntime;
  readonly logger: Logger;
  /** Default: a new registry without process metrics. */
  readonly metrics?: OperatorMetrics;
  /** Resolves when the operator should stop (default: SIGTERM or SIGINT). */
  readonly stopSignal?: Promise<void>;
  /** Called after each membership step (the local CLI prints them). */
  readonly onStep?: (cluster: RaftCluster, step: MembershipStep, seconds: number) => void;
  /** Called once the control loop runs (after the Lease is won). */
  readonly onStarted?: () => void;
  /** How members are reached; default the raftkv client library (tests pass a model). */
  readonly membershipClients?: MembershipClientFactory;
}

/** A pass that has not ended for this long means the loop is stuck: /healthz fails. */
const STALLED_MS_MAX = 5 * 60_000;
/** Time a membership call may take (one pass waits on it). */
const MEMBER_REQUEST_TIMEOUT_MS = 5000;
const MEMBER_CONNECT_TIMEOUT_MS = 1500;

/** Runs until stopped; resolves with the process exit code. */
export async function runOperator(run: RunOperatorOptions): Promise<number> {
  const { options, runtime, logger } = run;
  // First of all: as PID 1 nothing else stops the process on SIGTERM, and the steps below may
  // wait on an API server that does not answer.
  const stopSignal = run.stopSignal ?? signalled();
  let elector: LeaseElector | null = null;
  const metrics = run.metrics ?? createOperatorMetrics();
  const reconciler = new Reconciler({
    platform: runtime.platform,
    membershipClients:
      run.membershipClients ??
      raftkvMembershipClients({
        requestTimeoutMs: MEMBER_REQUEST_TIMEOUT_MS,
        connectTimeoutMs: MEMBER_CONNECT_TIMEOUT_MS,
      }),
    logger,
    observer: metricsObserver(metrics),
    unhealthyAfterMs: options.unhealthyAfterSeconds * 1000,
    // Checked before every write: a pass that outlived the Lease must not act.
    isLeading: () => elector === null || elector.isLeader(),
    ...(run.onStep === undefined ? {} : { onStep: run.onStep }),
  });
  const controller = new Controller({
    source: runtime.source,
    reconciler,
    logger,
    metrics,
    resyncPeriodMs: options.resyncPeriodSeconds * 1000,
  });
  let isControllerStarted = false;
  const http =
    options.httpPort === 0
      ? null
      : await startOperatorHttp({
          host: options.httpHost,
          port: options.httpPort,
          live: () => {
            const stalledMs = controller.stalledForMs(Date.now());
            return stalledMs < STALLED_MS_MAX
              ? { isHealthy: true, reason: 'ok' }
              : { isHealthy: false, reason: `no reconcile pass ended for ${stalledMs} ms` };
          },
          ready: () =>
            !isControllerStarted || controller.isSynced()
              ? { isHealthy: true, reason: isControllerStarted ? 'synced' : 'standby' }
              : { isHealthy: false, reason: 'waiting for the first list of clusters' },
          metricsText: () => metrics.text(),
          metricsContentType: metrics.contentType,
        });

  let exitCode = 0;
  let resolveLost: () => void = () => undefined;
  const lost = new Promise<void>((resolve) => (resolveLost = resolve));
  const startController = async (): Promise<void> => {
    isControllerStarted = true;
    metrics.setLeader(true);
    await controller.start();
    logger.info({ identity: runtime.identity }, 'operator reconciling');
    run.onStarted?.();
  };

  if (runtime.leaseStore !== null && options.isLeaderElection) {
    elector = new LeaseElector({
      store: runtime.leaseStore,
      identity: runtime.identity,
      leaseDurationMs: options.leaseDurationSeconds * 1000,
      renewDeadlineMs: options.renewDeadlineSeconds * 1000,
      retryPeriodMs: options.retryPeriodSeconds * 1000,
      onStartedLeading: () => {
        logger.info({ identity: runtime.identity, lease: options.leaseName }, 'lease acquired');
        startController().catch((error: unknown) => {
          logger.error({ err: describe(error) }, 'control loop failed to start');
          exitCode = 1;
          resolveLost();
        });
      },
      onStoppedLeading: (reason) => {
        logger.error({ reason }, 'lease lost: exiting so that a fresh candidate takes over');
        metrics.setLeader(false);
        exitCode = 1;
        resolveLost();
      },
      onNewLeader: (identity) => logger.info({ leader: identity }, 'operator leader'),
      onError: (error) => logger.warn({ err: describe(error) }, 'lease attempt failed'),
    });
    elector.start();
    logger.info({ identity: runtime.identity, lease: options.leaseName }, 'waiting for the lease');
  } else {
    await Promise.race([startController(), stopSignal]);
  }

  await Promise.race([stopSignal, lost]);
  logger.info({}, 'operator stopping');
  await controller.stop();
  if (elector !== null && exitCode === 0) await elector.release();
  metrics.setLeader(false);
  await http?.close();
  return exitCode;
}

/** Resolves on the first SIGTERM or SIGINT (kept installed: a second one must not kill us). */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.on('SIGTERM', () => resolve());
    process.on('SIGINT', () => resolve());
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
