/**
 * The {@link ClusterSource} of one local cluster directory: the RaftCluster in
 * `raftcluster.json` with its `status.json`, polled (fs.watch misses atomic renames on some
 * file systems). Wakes the operator when the resource changes (spec, generation, a cluster
 * created, replaced or deleted) and when a pod process appears, exits, or its crash-loop
 * back-off ends: the events an informer on the resource and its pods would deliver. Its own
 * status writes wake nobody. It reads files and /proc only; it writes and signals nothing.
 */
import { type Logger, SILENT_LOGGER } from '../common/index.js';
import {
  type LocalClusterPaths,
  localClusterPaths,
  parseClusterResource,
  readLocalClusterStatus,
  readTextIfExists,
} from './local-cluster-files.js';
import { isAlive, readPodRecords } from './local-pod-process.js';
import type { ClusterSource } from './platform.js';
import { clusterKey, type RaftCluster } from './raft-cluster.js';

/** Default time between two looks at the files. */
export const POLL_INTERVAL_MS_DEFAULT = 200;

/** Options of a {@link LocalClusterSource}. */
export interface LocalClusterSourceOptions {
  /** The cluster directory. */
  readonly root: string;
  /** Time between two looks; default {@link POLL_INTERVAL_MS_DEFAULT}. */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

/** The one cluster of a local directory, as an informer would serve it. */
export class LocalClusterSource implements ClusterSource {
  private readonly paths: LocalClusterPaths;
  private readonly pollIntervalMs: number;
  private readonly logger: Logger;
  /** The resource as last read, status merged in; undefined while there is none. */
  private cluster: RaftCluster | undefined;
  /** The text of raftcluster.json as last read: a change is any change of it. */
  private resourceText: string | undefined;
  /** What the pods looked like at the last look (see {@link podFingerprint}). */
  private pods = '';
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private isStopped = false;

  constructor(options: LocalClusterSourceOptions) {
    this.paths = localClusterPaths(options.root);
    this.pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS_DEFAULT;
    this.logger = options.logger ?? SILENT_LOGGER;
  }

  list(): readonly RaftCluster[] {
    return this.cluster === undefined ? [] : [this.cluster];
  }

  get(key: string): RaftCluster | undefined {
    return this.cluster !== undefined && clusterKey(this.cluster) === key
      ? this.cluster
      : undefined;
  }

  /**
   * Reads the directory once, calls `onChange` for the cluster found (an informer's initial
   * add), then looks again every poll interval.
   */
  async start(onChange: (key: string) => void): Promise<void> {
    this.isStopped = false;
    await this.look(onChange);
    this.schedule(onChange);
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  private schedule(onChange: (key: string) => void): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.look(onChange)
        .catch((error: unknown) => {
          this.logger.warn({ root: this.paths.root, error: String(error) }, 'cluster poll failed');
        })
        .finally(() => {
          this.polling = undefined;
          this.schedule(onChange);
        });
    }, this.pollIntervalMs);
  }

  /** One look at the files; calls `onChange` for every key whose objects changed. */
  private async look(onChange: (key: string) => void): Promise<void> {
    const changed = new Set<string>();
    const text = await readTextIfExists(this.paths.cluster);
    const previous = this.cluster;
    if (text !== this.resourceText) {
      // Remembered before parsing: a damaged file is reported once, not on every look.
      this.resourceText = text;
      const resource =
        text === undefined ? undefined : parseClusterResource(this.paths.cluster, text);
      if (previous !== undefined) changed.add(clusterKey(previous));
      if (resource !== undefined) changed.add(clusterKey(resource));
      this.cluster = resource;
    }
    if (this.cluster !== undefined) {
      const status = await readLocalClusterStatus(this.paths.root);
      const { status: _previousStatus, ...resource } = this.cluster;
      if (JSON.stringify(status) !== JSON.stringify(this.cluster.status)) {
        this.cluster = status === undefined ? resource : { ...resource, status };
      }
      const pods = await this.podFingerprint(this.cluster.metadata.name);
      if (pods !== this.pods) changed.add(clusterKey(this.cluster));
      this.pods = pods;
    } else {
      this.pods = '';
    }
    for (const key of changed) onChange(key);
  }

  /**
   * One string per look that changes when a pod process starts, exits or is replaced, starts or
   * stops terminating, or reaches the end of its crash-loop back-off (time to restart it).
   */
  private async podFingerprint(clusterName: string): Promise<string> {
    const records = [...(await readPodRecords(this.paths, clusterName)).values()];
    const nowMs = Date.now();
    const parts = await Promise.all(
      records.map(async (record) => {
        const isRunning = await isAlive(record);
        const isRestartDue =
          !isRunning && record.restartNotBeforeMs !== null && nowMs >= record.restartNotBeforeMs;
        return [
          record.ordinal,
          record.pid,
          isRunning,
          record.killAtMs !== null,
          record.exitedAtMs !== null,
          isRestartDue,
        ].join(':');
      }),
    );
    return parts.join(',');
  }
}
