/**
 * The {@link Platform} of a local cluster: real `raftkv serve` processes on 127.0.0.1 play the
 * pods, files under one directory ROOT play the API objects (local-cluster-files.ts). It does
 * what the StatefulSet controller and the kubelet would: starts ordinals [0, replicas), restarts
 * a crashed pod with crash-loop back-off, stops ordinals at or above replicas (SIGTERM, SIGKILL
 * after the grace period). Pods are detached, so a new operator (a new LocalPlatform on the same
 * ROOT) adopts them. It decides no membership step; it signals only processes it tracks, by PID
 * and start time; it imports neither src/cli nor src/server (the node command is an option).
 */
import { request } from 'node:http';
import { mkdir, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { type Logger, RaftkvError, SILENT_LOGGER } from '../common/index.js';
import {
  appendLocalEvent,
  isErrorCode,
  type LocalClusterPaths,
  type LocalStatefulSet,
  localClusterPaths,
  readLocalStatefulSet,
  rfc3339Seconds,
  writeLocalClusterStatus,
  writeLocalStatefulSet,
} from './local-cluster-files.js';
import {
  findProcessesWithArgument,
  isAlive,
  type PodRecord,
  readAllPodRecords,
  readPodRecords,
  removePodRecord,
  spawnDetached,
  terminate,
  writePodRecord,
} from './local-pod-process.js';
import {
  type DesiredWorkload,
  NOT_OWNED_CODE,
  type Platform,
  type PlatformEvent,
  type PodObservation,
  type WorkloadObservation,
} from './platform.js';
import {
  clusterKey,
  memberName,
  ordinalOf,
  type RaftCluster,
  type RaftClusterStatus,
  resolveSpec,
} from './raft-cluster.js';

/** The ports of ordinal K: base + stride × K. */
export interface LocalPortScheme {
  readonly clientPortBase: number;
  readonly peerPortBase: number;
  readonly httpPortBase: number;
  readonly stride: number;
}

/** The program a pod runs; `serve` and its flags are appended to `args`. */
export interface LocalNodeCommand {
  /** E.g. `process.execPath`. */
  readonly file: string;
  /** E.g. `['/path/to/dist/cli/main.js']`. */
  readonly args: readonly string[];
}

/** Options of a {@link LocalPlatform}. */
export interface LocalPlatformOptions {
  /** The cluster directory (raftcluster.json and the rest). */
  readonly root: string;
  readonly ports: LocalPortScheme;
  readonly nodeCommand: LocalNodeCommand;
  /** More `serve` flags for every pod, after the generated ones (tests: small WAL segments). */
  readonly extraArgs?: readonly string[];
  /** Time between SIGTERM and SIGKILL when a pod is stopped; default 10 s. */
  readonly gracePeriodMs?: number;
  /** Time `/readyz` has to answer 200 for a pod to count as Ready; default 500 ms. */
  readonly readinessTimeoutMs?: number;
  /** Back-off before the second restart of a crash loop, doubled per crash; default 1 s. */
  readonly crashBackoffBaseMs?: number;
  /** Longest crash-loop back-off; default 30 s. */
  readonly crashBackoffMaxMs?: number;
  /** A pod that ran this long before it exited starts a new crash streak; default 10 s. */
  readonly stableRunMs?: number;
  readonly logger?: Logger;
  /** Called for every event recorded, after it is in `events.log` (the CLI prints them). */
  readonly onEvent?: (cluster: RaftCluster, event: PlatformEvent) => void;
}

export const GRACE_PERIOD_MS_DEFAULT = 10_000;
export const READINESS_TIMEOUT_MS_DEFAULT = 500;
export const CRASH_BACKOFF_BASE_MS_DEFAULT = 1000;
export const CRASH_BACKOFF_MAX_MS_DEFAULT = 30_000;
export const STABLE_RUN_MS_DEFAULT = 10_000;
/** Highest TCP port. */
const PORT_MAX = 65_535;
/** The one address pods listen on and are reached at. */
const LOCAL_HOST = '127.0.0.1';
/** Beside a data directory `NAME-K`: `NAME-K.deleting` marks it for deletion. */
const CLAIM_DELETION_SUFFIX = '.deleting';
/** Environment variables the node reads; the operator's own never leak into a pod. */
const NODE_ENV_PREFIX = 'RAFTKV_';

/** The platform was asked to apply a StatefulSet that another cluster (another uid) owns. */
export class LocalWorkloadNotOwnedError extends RaftkvError {
  readonly code = NOT_OWNED_CODE;
  constructor(root: string, ownerUid: string) {
    super(
      `${root}/statefulset.json belongs to another cluster (uid ${ownerUid})`,
      'Stop its pods and delete statefulset.json, or use another directory for this cluster.',
    );
  }
}

/** A data directory cannot be deleted: a process of that ordinal still runs on it. */
export class LocalClaimInUseError extends RaftkvError {
  readonly code = 'LOCAL_CLAIM_IN_USE';
  readonly ordinal: number;
  constructor(pod: string, ordinal: number) {
    super(
      `the data directory of ${pod} is in use by a running process`,
      'Wait until the pod has stopped (lower replicas or delete the pod first).',
    );
    this.ordinal = ordinal;
  }
}

/** An ordinal whose ports the port scheme puts beyond 65535. */
export class LocalPortRangeError extends RaftkvError {
  readonly code = 'LOCAL_PORT_OUT_OF_RANGE';
  constructor(ordinal: number) {
    super(
      `the port scheme gives ordinal ${ordinal} a port above ${PORT_MAX}`,
      'Use lower port bases or a smaller stride, or fewer replicas.',
    );
  }
}

/** The ports of one ordinal. */
export interface LocalPodPorts {
  readonly client: number;
  readonly peer: number;
  readonly http: number;
}

/** Pods and data directories of one cluster directory, run as local processes. */
export class LocalPlatform implements Platform {
  private readonly paths: LocalClusterPaths;
  private readonly logger: Logger;
  private readonly gracePeriodMs: number;
  private readonly readinessTimeoutMs: number;
  private readonly crashBackoffBaseMs: number;
  private readonly crashBackoffMaxMs: number;
  private readonly stableRunMs: number;
  /** Stops in flight in this operator, by pod name (not repeated, awaited by stopAll). */
  private readonly stops = new Map<string, Promise<void>>();
  /** Tail of the queue of syncs: one sync of the pods at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Set by stopAll: from then on no pod is started. */
  private isShuttingDown = false;

  constructor(private readonly options: LocalPlatformOptions) {
    this.paths = localClusterPaths(options.root);
    this.logger = options.logger ?? SILENT_LOGGER;
    this.gracePeriodMs = options.gracePeriodMs ?? GRACE_PERIOD_MS_DEFAULT;
    this.readinessTimeoutMs = options.readinessTimeoutMs ?? READINESS_TIMEOUT_MS_DEFAULT;
    this.crashBackoffBaseMs = options.crashBackoffBaseMs ?? CRASH_BACKOFF_BASE_MS_DEFAULT;
    this.crashBackoffMaxMs = options.crashBackoffMaxMs ?? CRASH_BACKOFF_MAX_MS_DEFAULT;
    this.stableRunMs = options.stableRunMs ?? STABLE_RUN_MS_DEFAULT;
  }

  /** Writes statefulset.json, then starts and stops pods to match it. */
  async applyWorkload(cluster: RaftCluster, desired: DesiredWorkload): Promise<void> {
    await this.exclusive(async () => {
      const current = await readLocalStatefulSet(this.paths.root);
      if (current !== undefined && current.ownerUid !== cluster.metadata.uid) {
        throw new LocalWorkloadNotOwnedError(this.paths.root, current.ownerUid);
      }
      if (desired.replicas > 0) this.ports(desired.replicas - 1); // refuse before starting any
      const statefulSet: LocalStatefulSet = {
        replicas: desired.replicas,
        initialReplicas: desired.initialReplicas,
        initialClusterState: desired.initialClusterState,
        ownerUid: cluster.metadata.uid,
      };
      if (JSON.stringify(statefulSet) !== JSON.stringify(current)) {
        await writeLocalStatefulSet(this.paths.root, statefulSet);
        this.logger.info({ cluster: clusterKey(cluster), ...statefulSet }, 'statefulset applied');
      }
      await this.syncPods(cluster, statefulSet);
    });
  }

  /**
   * What runs now. Like the kubelet and the StatefulSet controller, which never stop working,
   * it first brings the pods in line with statefulset.json (restarts crashed ones).
   */
  async observe(cluster: RaftCluster): Promise<WorkloadObservation> {
    const { statefulSet, isOwned, records } = await this.exclusive(async () => {
      const current = await readLocalStatefulSet(this.paths.root);
      const owned = current === undefined || current.ownerUid === cluster.metadata.uid;
      if (current !== undefined && owned) await this.syncPods(cluster, current);
      return {
        statefulSet: current,
        isOwned: owned,
        records: await readPodRecords(this.paths, cluster.metadata.name),
      };
    });
    const ordered = [...records.values()].sort((left, right) => left.ordinal - right.ordinal);
    const pods = await Promise.all(ordered.map((record) => this.podObservation(record)));
    return {
      replicas: statefulSet?.replicas ?? null,
      initialReplicas: statefulSet?.initialReplicas ?? null,
      initialClusterState: statefulSet?.initialClusterState ?? null,
      isOwned,
      pods,
      claimOrdinals: await this.claimOrdinals(cluster.metadata.name),
    };
  }

  /** Stops pod `ordinal` (SIGTERM, SIGKILL after the grace period) without waiting for it. */
  async deletePod(cluster: RaftCluster, ordinal: number): Promise<void> {
    await this.exclusive(async () => {
      const records = await readPodRecords(this.paths, cluster.metadata.name);
      const record = records.get(ordinal);
      if (record === undefined || record.killAtMs !== null) return;
      if (await isAlive(record)) await this.beginStop(record);
      else await removePodRecord(this.paths, record.name);
    });
  }

  /** Deletes ordinal `ordinal`'s data directory; {@link LocalClaimInUseError} while it runs. */
  async deleteClaim(cluster: RaftCluster, ordinal: number): Promise<void> {
    await this.exclusive(async () => {
      const name = memberName(cluster.metadata.name, ordinal);
      if (await this.isClaimInUse(cluster.metadata.name, ordinal)) {
        throw new LocalClaimInUseError(name, ordinal);
      }
      await rm(this.dataDirectory(name), { recursive: true, force: true });
      this.logger.info({ pod: name }, 'claim deleted');
    });
  }

  /**
   * Stops ordinal `ordinal`'s pod and deletes its data directory once the process is gone,
   * before the pod starts again (as a claim's protection finalizer would hold its deletion).
   * Returns at once, like {@link deletePod}; a pending deletion survives an operator restart
   * (a `NAME-K.deleting` marker beside the directory).
   */
  async resetOrdinal(cluster: RaftCluster, ordinal: number): Promise<void> {
    await this.exclusive(async () => {
      const name = memberName(cluster.metadata.name, ordinal);
      await mkdir(this.paths.data, { recursive: true });
      await writeFile(this.claimDeletionMarker(name), '');
      const record = (await readPodRecords(this.paths, cluster.metadata.name)).get(ordinal);
      if (record !== undefined && record.killAtMs === null && !this.stops.has(name)) {
        // A dead pod is deleted outright: it comes back as a new pod, not as a restart.
        if (await isAlive(record)) await this.beginStop(record);
        else await removePodRecord(this.paths, name);
      }
      await this.collectClaim(cluster.metadata.name, ordinal);
      this.logger.info({ pod: name }, 'ordinal reset');
    });
  }

  async writeStatus(_cluster: RaftCluster, status: RaftClusterStatus): Promise<void> {
    await writeLocalClusterStatus(this.paths.root, status);
  }

  async recordEvent(cluster: RaftCluster, event: PlatformEvent): Promise<void> {
    await appendLocalEvent(this.paths.root, {
      time: rfc3339Seconds(new Date()),
      cluster: clusterKey(cluster),
      type: event.type,
      reason: event.reason,
      message: event.message,
    });
    try {
      this.options.onEvent?.(cluster, event);
    } catch (error) {
      this.logger.warn({ error: String(error) }, 'event callback failed');
    }
  }

  clientEndpoint(_cluster: RaftCluster, ordinal: number): string {
    return `${LOCAL_HOST}:${this.ports(ordinal).client}`;
  }

  peerUrl(_cluster: RaftCluster, ordinal: number): string {
    return `http://${LOCAL_HOST}:${this.ports(ordinal).peer}`;
  }

  /** The ports of `ordinal`; {@link LocalPortRangeError} if the scheme overflows. */
  ports(ordinal: number): LocalPodPorts {
    const { clientPortBase, peerPortBase, httpPortBase, stride } = this.options.ports;
    const ports = {
      client: clientPortBase + stride * ordinal,
      peer: peerPortBase + stride * ordinal,
      http: httpPortBase + stride * ordinal,
    };
    if (Math.max(ports.client, ports.peer, ports.http) > PORT_MAX) {
      throw new LocalPortRangeError(ordinal);
    }
    return ports;
  }

  /**
   * Stops every pod of the directory (the Ctrl-C path) and resolves once they are gone; from
   * then on this platform starts no pod. statefulset.json stays: the next operator starts them
   * again, on the same data.
   */
  async stopAll(): Promise<void> {
    this.isShuttingDown = true;
    await this.exclusive(async () => {
      for (const record of await readAllPodRecords(this.paths)) {
        if (this.stops.has(record.name)) continue;
        if (!(await isAlive(record))) await removePodRecord(this.paths, record.name);
        else if (record.killAtMs === null) await this.beginStop(record);
        else this.trackStop(record, true);
      }
    });
    await Promise.all(this.stops.values());
  }

  /** Runs `work` after every earlier sync: two never interleave their reads and writes. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** What the StatefulSet controller and the kubelet do, once. Call inside {@link exclusive}. */
  private async syncPods(cluster: RaftCluster, statefulSet: LocalStatefulSet): Promise<void> {
    if (this.isShuttingDown) return;
    const records = await readPodRecords(this.paths, cluster.metadata.name);
    for (const record of records.values()) await this.syncPod(cluster, statefulSet, record);
    for (const ordinal of await this.pendingClaimDeletions(cluster.metadata.name)) {
      if (!records.has(ordinal)) await this.collectClaim(cluster.metadata.name, ordinal);
    }
    for (let ordinal = 0; ordinal < statefulSet.replicas; ordinal++) {
      if (!records.has(ordinal)) await this.startPod(cluster, statefulSet, ordinal, undefined);
    }
  }

  private async syncPod(
    cluster: RaftCluster,
    statefulSet: LocalStatefulSet,
    record: PodRecord,
  ): Promise<void> {
    if (this.stops.has(record.name)) return;
    const isRunning = await isAlive(record);
    if (record.killAtMs !== null) {
      // Stopped by an operator that died before the stop ended: finish it.
      if (isRunning) this.trackStop(record, true);
      else await removePodRecord(this.paths, record.name);
    } else if (record.ordinal >= statefulSet.replicas) {
      if (isRunning) await this.beginStop(record);
      else await removePodRecord(this.paths, record.name);
    } else if (!isRunning) {
      await this.restartCrashed(cluster, statefulSet, record);
    }
  }

  /** Records a crash once, then restarts the pod when its back-off has passed. */
  private async restartCrashed(
    cluster: RaftCluster,
    statefulSet: LocalStatefulSet,
    record: PodRecord,
  ): Promise<void> {
    const nowMs = Date.now();
    let crashed = record;
    if (record.exitedAtMs === null) {
      const ranMs = nowMs - record.startedAtMs;
      const crashStreak = ranMs >= this.stableRunMs ? 1 : record.crashStreak + 1;
      const backoffMs = this.backoffMs(crashStreak);
      crashed = {
        ...record,
        crashStreak,
        exitedAtMs: nowMs,
        restartNotBeforeMs: nowMs + backoffMs,
      };
      await writePodRecord(this.paths, crashed);
      this.logger.warn({ pod: record.name, ranMs, crashStreak, backoffMs }, 'pod exited');
      await this.recordEvent(cluster, {
        type: 'Warning',
        reason: backoffMs === 0 ? 'PodExited' : 'BackOff',
        message:
          `${record.name} exited after ${Math.round(ranMs / 1000)} s; ` +
          (backoffMs === 0 ? 'restarting it' : `restarting it in ${backoffMs / 1000} s`),
      });
    }
    if (nowMs < (crashed.restartNotBeforeMs ?? 0)) return;
    await this.startPod(cluster, statefulSet, record.ordinal, crashed);
  }

  /** No wait before the first restart of a streak, then base, 2 × base, ... up to the max. */
  private backoffMs(crashStreak: number): number {
    if (crashStreak <= 1) return 0;
    return Math.min(this.crashBackoffBaseMs * 2 ** (crashStreak - 2), this.crashBackoffMaxMs);
  }

  /** Starts ordinal `ordinal`'s process (a restart of `previous` if given) and records it. */
  private async startPod(
    cluster: RaftCluster,
    statefulSet: LocalStatefulSet,
    ordinal: number,
    previous: PodRecord | undefined,
  ): Promise<void> {
    const name = memberName(cluster.metadata.name, ordinal);
    const dataDirectory = this.dataDirectory(name);
    // An operator killed between spawning a pod and writing its state file left it running
    // untracked: adopt it rather than start a second process on the same data.
    const [orphan] = await findProcessesWithArgument(dataArgument(dataDirectory));
    let identity = orphan;
    if (identity === undefined) {
      await this.collectClaim(cluster.metadata.name, ordinal);
      // The claim comes with the pod, as the StatefulSet controller creates it.
      await mkdir(dataDirectory, { recursive: true });
      identity = await spawnDetached(name, {
        file: this.options.nodeCommand.file,
        args: [...this.options.nodeCommand.args, ...this.serveArgs(cluster, statefulSet, ordinal)],
        cwd: this.paths.root,
        env: podEnvironment(),
        logFile: path.join(this.paths.logs, `${name}.log`),
      });
    }
    const record: PodRecord = {
      name,
      ordinal,
      pid: identity.pid,
      startTime: identity.startTime,
      startedAtMs: Date.now(),
      restartCount: previous === undefined ? 0 : previous.restartCount + 1,
      crashStreak: previous?.crashStreak ?? 0,
      exitedAtMs: null,
      restartNotBeforeMs: null,
      killAtMs: null,
    };
    await writePodRecord(this.paths, record);
    const how = orphan === undefined ? 'pod started' : 'untracked pod process adopted';
    this.logger.info({ pod: name, pid: record.pid, restartCount: record.restartCount }, how);
  }

  /** The `serve` flags of ordinal `ordinal`. */
  private serveArgs(
    cluster: RaftCluster,
    statefulSet: LocalStatefulSet,
    ordinal: number,
  ): string[] {
    const spec = resolveSpec(cluster.spec);
    const { name, namespace, uid } = cluster.metadata;
    const pod = memberName(name, ordinal);
    const ports = this.ports(ordinal);
    const { clientPortBase, peerPortBase, stride } = this.options.ports;
    return [
      'serve',
      `--hostname=${pod}`,
      `--name=${pod}`,
      dataArgument(this.dataDirectory(pod)),
      `--listen-host=${LOCAL_HOST}`,
      `--client-port=${ports.client}`,
      `--peer-port=${ports.peer}`,
      `--http-port=${ports.http}`,
      `--peer-address-template=${LOCAL_HOST}:{${peerPortBase}+${stride}*ordinal}`,
      `--client-address-template=${LOCAL_HOST}:{${clientPortBase}+${stride}*ordinal}`,
      `--initial-cluster-size=${statefulSet.initialReplicas}`,
      `--initial-cluster-token=${namespace}/${name}/${uid}`,
      `--initial-cluster-state=${statefulSet.initialClusterState}`,
      `--tick-interval-ms=${spec.tickIntervalMs}`,
      `--election-timeout-ticks=${spec.electionTimeoutTicks}`,
      `--heartbeat-interval-ticks=${spec.heartbeatIntervalTicks}`,
      `--request-timeout-ms=${spec.requestTimeoutMs}`,
      `--snapshot-entries-threshold=${spec.snapshotEntriesThreshold}`,
      `--log-level=${spec.logLevel}`,
      '--log-format=json',
      ...(this.options.extraArgs ?? []),
    ];
  }

  /** Marks `record` terminating (so a successor finishes the stop), then stops it. */
  private async beginStop(record: PodRecord): Promise<void> {
    const terminating: PodRecord = { ...record, killAtMs: Date.now() + this.gracePeriodMs };
    await writePodRecord(this.paths, terminating);
    this.logger.info({ pod: record.name, pid: record.pid }, 'stopping pod');
    this.trackStop(terminating, false);
  }

  /** Runs the stop of `record` in the background; its state file goes when the process has. */
  private trackStop(record: PodRecord, isTermSent: boolean): void {
    const clusterName = clusterNameOf(record);
    const stop = (async () => {
      const outcome = await terminate(record, record.killAtMs ?? Date.now(), isTermSent);
      if (outcome === 'stuck') {
        // The state file stays (terminating): the next sync tries SIGKILL again.
        this.logger.error({ pod: record.name, pid: record.pid }, 'pod survived SIGKILL');
        return;
      }
      await this.exclusive(async () => {
        await removePodRecord(this.paths, record.name);
        if (clusterName !== undefined) await this.collectClaim(clusterName, record.ordinal);
      });
      this.logger.info({ pod: record.name, pid: record.pid, outcome }, 'pod stopped');
    })()
      .catch((error: unknown) => {
        this.logger.error({ pod: record.name, error: String(error) }, 'stopping pod failed');
      })
      .finally(() => this.stops.delete(record.name));
    this.stops.set(record.name, stop);
  }

  private dataDirectory(podName: string): string {
    return path.join(this.paths.data, podName);
  }

  /** The file that says ordinal's data directory is to be deleted once nothing runs on it. */
  private claimDeletionMarker(podName: string): string {
    return path.join(this.paths.data, `${podName}${CLAIM_DELETION_SUFFIX}`);
  }

  /** Ordinals whose data directory awaits deletion ({@link resetOrdinal}). */
  private async pendingClaimDeletions(clusterName: string): Promise<number[]> {
    const entries = await readdir(this.paths.data).catch(() => [] as string[]);
    return entries
      .filter((entry) => entry.endsWith(CLAIM_DELETION_SUFFIX))
      .map((entry) => ordinalOf(clusterName, entry.slice(0, -CLAIM_DELETION_SUFFIX.length)))
      .filter((ordinal) => ordinal !== null);
  }

  /** A process of ordinal `ordinal` runs on its data directory (tracked or not). */
  private async isClaimInUse(clusterName: string, ordinal: number): Promise<boolean> {
    const record = (await readPodRecords(this.paths, clusterName)).get(ordinal);
    if (record !== undefined && (await isAlive(record))) return true;
    // Untracked processes count too: deleting the data under a running node is fatal to it.
    const dataDirectory = this.dataDirectory(memberName(clusterName, ordinal));
    return (await findProcessesWithArgument(dataArgument(dataDirectory))).length > 0;
  }

  /** Carries out a pending deletion of ordinal's data directory if nothing runs on it. */
  private async collectClaim(clusterName: string, ordinal: number): Promise<void> {
    const name = memberName(clusterName, ordinal);
    const marker = this.claimDeletionMarker(name);
    if (!(await pathExists(marker))) return; // no deletion pending
    if (await this.isClaimInUse(clusterName, ordinal)) return;
    // Directory first, marker last: a crash in between leaves the deletion pending, not undone.
    await rm(this.dataDirectory(name), { recursive: true, force: true });
    await unlink(marker).catch(() => undefined);
    this.logger.info({ pod: name }, 'claim deleted');
  }

  private async podObservation(record: PodRecord): Promise<PodObservation> {
    const isRunning = await isAlive(record);
    const isReady = isRunning && (await this.isReady(this.ports(record.ordinal).http));
    return {
      name: record.name,
      ordinal: record.ordinal,
      isRunning,
      isReady,
      isTerminating: record.killAtMs !== null || this.stops.has(record.name),
      restartCount: record.restartCount,
    };
  }

  /** The readiness probe: GET /readyz answers 200 in time. */
  private isReady(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = request(
        // No keep-alive agent: a pooled socket would outlive the probe.
        { host: LOCAL_HOST, port, path: '/readyz', agent: false, timeout: this.readinessTimeoutMs },
        (response) => {
          response.resume();
          resolve(response.statusCode === 200);
        },
      );
      probe.on('timeout', () => probe.destroy());
      probe.on('error', () => resolve(false));
      probe.end();
    });
  }

  /** Ordinals of cluster `clusterName` that have a data directory. */
  private async claimOrdinals(clusterName: string): Promise<number[]> {
    const entries = await readdir(this.paths.data, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => ordinalOf(clusterName, entry.name))
      .filter((ordinal) => ordinal !== null)
      .sort((left, right) => left - right);
  }
}

/** True if `file` exists. */
async function pathExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return false;
    throw error;
  }
}

/** The cluster name of a pod record (`NAME-K`). */
function clusterNameOf(record: PodRecord): string | undefined {
  const suffix = `-${record.ordinal}`;
  return record.name.endsWith(suffix) ? record.name.slice(0, -suffix.length) : undefined;
}

/** The `--data-dir` flag of a pod, also how a process on that directory is recognised. */
function dataArgument(dataDirectory: string): string {
  return `--data-dir=${dataDirectory}`;
}

/** This process's environment without the node's own variables (flags say it all). */
function podEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith(NODE_ENV_PREFIX)),
  );
}
