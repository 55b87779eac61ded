/**
 * The storage of one member, as the node uses it: opens and verifies the data directory
 * (identity stamp, snapshots, write-ahead log), hands back what the core needs to start, and
 * persists each Ready: a received snapshot first, then hard state and entries with group commit.
 * It also makes local snapshots and compacts the log behind them.
 *
 * Layout of a data directory:
 *
 *     identity.json        cluster id, node id, incarnation, removed flag
 *     wal/<seq>.wal        write-ahead log segments (wal-format.ts)
 *     snap/<i>-<t>.snap    snapshot files (snapshot-files.ts)
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { AssertionError, type Logger, type NodeId, SILENT_LOGGER } from '../common/index.js';
import type { Entry, HardState, MemoryStorage, Snapshot } from '../raft/index.js';
import { type FileSystem, NODE_FILE_SYSTEM } from './file-system.js';
import {
  checkIdentityStamp,
  checkUnstampedDirectoryIsEmpty,
  IDENTITY_STAMP_NAME,
  readIdentityStamp,
  writeIdentityStamp,
} from './identity-stamp.js';
import { SnapshotFiles } from './snapshot-files.js';
import { selectSnapshot } from './snapshot-selection.js';
import { StorageError, StorageFatalError } from './storage-errors.js';
import type { StorageIdentity } from './storage-identity.js';
import { SILENT_STORAGE_OBSERVER, type StorageObserver } from './storage-observer.js';
import { readWal, type TornTailFound } from './wal-recovery.js';
import { WalWriter } from './wal-writer.js';

/** Options of {@link DurableStorage.open}. Sizes and thresholds are the node's flags. */
export interface DurableStorageOptions {
  /** The member's data directory; created if missing. */
  readonly directory: string;
  readonly clusterId: bigint;
  readonly nodeId: NodeId;
  /** The incarnation to stamp if the directory is new (the node draws a random 64-bit value). */
  readonly incarnationForNewDirectory: bigint;
  readonly fileSystem?: FileSystem;
  readonly logger?: Logger;
  readonly observer?: StorageObserver;
  /** Called once with the first fatal disk error; the node must exit. */
  readonly onFatal?: (error: StorageFatalError) => void;
  /** Target WAL segment size. Default 64 MiB. */
  readonly segmentBytesTarget?: number;
  /** Zero-fill new segments ahead of use. Default true. */
  readonly isPreallocationEnabled?: boolean;
  /** Appends wait while this many bytes are queued. Default 64 MiB. */
  readonly pendingBytesMax?: number;
  /** Largest single WAL write. Default 16 MiB. */
  readonly writeBytesMax?: number;
  /** Take a snapshot once this many entries were applied since the last one. Default 10,000. */
  readonly snapshotEntriesThreshold?: number;
  /** ... or once this many WAL bytes were written since the last one. Default 256 MiB. */
  readonly snapshotBytesThreshold?: number;
  /** Snapshot files kept on disk. Default 2. */
  readonly snapshotsRetained?: number;
}

/** Everything recovered from the data directory. */
export interface RecoveredState {
  readonly identity: StorageIdentity;
  /** True if the directory was created by this open: the member has never run. */
  readonly isNew: boolean;
  readonly hardState: HardState;
  /** The snapshot the log continues from, if any. */
  readonly snapshot: Snapshot | undefined;
  /** Entries after the snapshot, consecutive. */
  readonly entries: readonly Entry[];
  readonly report: RecoveryReport;
}

/** What recovery found and did, for logs and `wal inspect`. */
export interface RecoveryReport {
  readonly segmentCount: number;
  readonly tornTail: TornTailFound | undefined;
  readonly tornSegmentFile: string | undefined;
  readonly damagedSnapshots: readonly { readonly file: string; readonly detail: string }[];
  readonly durationSeconds: number;
}

/** What a Ready asks the storage to persist. */
export interface PersistRequest {
  /** A snapshot received from the leader: it replaces the log. Persisted first. */
  readonly snapshot?: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState | undefined;
  readonly mustSync: boolean;
}

/** The parts of the core's MemoryStorage that loading fills. */
export type LoadTarget = Pick<MemoryStorage, 'applySnapshot' | 'append' | 'setHardState'>;

const MEBIBYTE = 1024 * 1024;

/** The durable storage of one member. */
export class DurableStorage {
  readonly recovered: RecoveredState;
  private readonly wal: WalWriter;
  private readonly snapshots: SnapshotFiles;
  private readonly options: Required<Omit<DurableStorageOptions, 'onFatal'>>;
  private lastSnapshotIndex: number;
  private walBytesAtLastSnapshot = 0;
  /** Settles once the newest persist carrying a snapshot has queued its marker (or failed). */
  private snapshotQueued: Promise<void> | undefined;
  /** The tail of the snapshot work queue (see oneAtATime). */
  private snapshotWork: Promise<void> = Promise.resolve();

  private constructor(
    options: DurableStorage['options'],
    recovered: RecoveredState,
    wal: WalWriter,
    snapshots: SnapshotFiles,
  ) {
    this.options = options;
    this.recovered = recovered;
    this.wal = wal;
    this.snapshots = snapshots;
    this.lastSnapshotIndex = recovered.snapshot?.metadata.index ?? 0;
  }

  /**
   * Opens (or creates) the data directory, verifies and loads it. Throws a typed
   * {@link StorageError} naming the file, offset and remedy when the directory must not be served.
   */
  static async open(options: DurableStorageOptions): Promise<DurableStorage> {
    try {
      return await DurableStorage.openVerified(options);
    } catch (error) {
      if (error instanceof StorageError || error instanceof AssertionError) throw error;
      // A system error (permissions, a failing disk) while reading: name the directory.
      throw new StorageFatalError('open data directory', options.directory, error);
    }
  }

  private static async openVerified(options: DurableStorageOptions): Promise<DurableStorage> {
    const started = performance.now();
    const settings = withDefaults(options);
    const { fileSystem, directory, logger } = settings;
    const walDirectory = path.join(directory, 'wal');
    const snapDirectory = path.join(directory, 'snap');
    await fileSystem.makeDirectory(walDirectory);
    await fileSystem.makeDirectory(snapDirectory);
    const { identity, isNew } = await openIdentity(settings);
    const wal = await readWal(fileSystem, walDirectory, identity, 'repair', logger);
    const snapshots = new SnapshotFiles(
      fileSystem,
      snapDirectory,
      identity,
      logger,
      settings.observer,
    );
    const selection = await selectSnapshot(snapshots, wal, logger);
    const durationSeconds = (performance.now() - started) / 1000;
    const recovered: RecoveredState = {
      identity,
      isNew,
      hardState: selection.hardState,
      snapshot: selection.snapshot,
      entries: selection.entries,
      report: {
        segmentCount: wal.segments.length,
        tornTail: wal.tornTail,
        tornSegmentFile: wal.tornSegmentFile,
        damagedSnapshots: selection.damagedSnapshots,
        durationSeconds,
      },
    };
    const writer = await WalWriter.open(
      {
        fileSystem,
        directory: walDirectory,
        identity,
        logger,
        observer: settings.observer,
        segmentBytesTarget: settings.segmentBytesTarget,
        isPreallocationEnabled: settings.isPreallocationEnabled,
        pendingBytesMax: settings.pendingBytesMax,
        writeBytesMax: settings.writeBytesMax,
        // The writer holds the storage's one fatal error and reports it, whichever part failed.
        onFatal: options.onFatal ?? (() => undefined),
      },
      wal,
    );
    const storage = new DurableStorage(settings, recovered, writer, snapshots);
    const written = wal.hardState;
    if (written !== undefined && selection.hardState.commitIndex < written.commitIndex) {
      // Recovery lowered the commit index past a torn batch; record that now, because the next
      // start no longer sees the torn tail that justified it.
      await writer.append({ entries: [], hardState: selection.hardState, mustSync: true });
    }
    logger.info(
      {
        directory,
        isNew,
        snapshotIndex: storage.lastSnapshotIndex,
        entryCount: recovered.entries.length,
        lastIndex: recovered.entries.at(-1)?.index ?? storage.lastSnapshotIndex,
        term: recovered.hardState.term,
        commitIndex: recovered.hardState.commitIndex,
        segmentCount: wal.segments.length,
        durationSeconds,
      },
      'storage recovered',
    );
    return storage;
  }

  /** Fills the core's in-memory storage with what was recovered. */
  loadInto(target: LoadTarget): void {
    const { snapshot, entries, hardState } = this.recovered;
    if (snapshot !== undefined) target.applySnapshot(snapshot);
    target.append(entries);
    target.setHardState(hardState);
  }

  /**
   * Persists one Ready: the received snapshot (file, then an "installed" marker that discards
   * the log before it), then hard state and entries. Resolves when durable (if `mustSync`).
   * Calls may overlap; their records reach the log in call order, also when an earlier call
   * carries a snapshot whose file is still being written.
   */
  persist(request: PersistRequest): Promise<void> {
    const snapshot = request.snapshot;
    if (snapshot === undefined) {
      const earlier = this.snapshotQueued;
      if (earlier === undefined) return this.appendToLog(request);
      return earlier.then(() => this.appendToLog(request));
    }
    let markQueued = (): void => undefined;
    const queued = new Promise<void>((resolve) => (markQueued = resolve));
    this.snapshotQueued = queued;
    return this.oneAtATime(async () => {
      try {
        const { index, term } = snapshot.metadata;
        await this.guard(() => this.snapshots.save(snapshot));
        const appended = this.wal.append({
          entries: request.entries,
          hardState: request.hardState,
          snapshotMarker: { index, term, isInstalled: true },
          mustSync: true,
        });
        markQueued(); // Later calls may now queue their records, behind the marker.
        await this.afterSnapshot(index, true, await appended);
      } finally {
        markQueued();
        if (this.snapshotQueued === queued) this.snapshotQueued = undefined;
      }
    });
  }

  /**
   * Persists a snapshot of the applied state made by this member, then deletes the WAL segments
   * and snapshot files it makes unnecessary. The caller compacts its in-memory log too. Calls
   * may overlap each other and persist calls; snapshot work runs one at a time.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.oneAtATime(async () => {
      const { index, term } = snapshot.metadata;
      await this.guard(() => this.snapshots.save(snapshot));
      const markerSequence = await this.wal.append({
        entries: [],
        snapshotMarker: { index, term, isInstalled: false },
        mustSync: true,
      });
      await this.afterSnapshot(index, false, markerSequence);
    });
  }

  /** Whether enough entries or WAL bytes accumulated since the last snapshot to take one. */
  shouldSnapshot(appliedIndex: number): boolean {
    return (
      appliedIndex - this.lastSnapshotIndex >= this.options.snapshotEntriesThreshold ||
      (appliedIndex > this.lastSnapshotIndex &&
        this.wal.writtenBytes() - this.walBytesAtLastSnapshot >=
          this.options.snapshotBytesThreshold)
    );
  }

  /** Index of the newest durable snapshot (0 if none). */
  snapshotIndex(): number {
    return this.lastSnapshotIndex;
  }

  /** Number of WAL segment files on disk. */
  segmentCount(): number {
    return this.wal.segmentCount();
  }

  /** Stamps the directory as removed: the member will refuse to start from it again. */
  async markRemoved(): Promise<void> {
    await this.guard(() =>
      writeIdentityStamp(this.options.fileSystem, this.options.directory, {
        ...this.recovered.identity,
        isRemoved: true,
      }),
    );
  }

  /** The fatal error, if the storage has failed. */
  fatalError(): StorageFatalError | undefined {
    return this.wal.fatalError();
  }

  /** Waits for snapshot work and queued appends, syncs and closes. */
  async close(): Promise<void> {
    await this.snapshotWork;
    await this.wal.close();
  }

  /** Appends to the log; rejects if the storage failed, a snapshot file included. */
  private async appendToLog(request: PersistRequest): Promise<void> {
    await this.wal.append(request);
  }

  /**
   * Runs snapshot work after the work queued before it has settled: saving, pruning and
   * deleting segments list and remove files, and two at once would remove the same file twice.
   */
  private oneAtATime(run: () => Promise<void>): Promise<void> {
    const result = this.snapshotWork.then(run);
    this.snapshotWork = result.catch(() => undefined);
    return result;
  }

  /** Deletes what the snapshot whose marker went to segment `markerSequence` made unnecessary. */
  private async afterSnapshot(
    index: number,
    isInstalled: boolean,
    markerSequence: number,
  ): Promise<void> {
    this.lastSnapshotIndex = Math.max(this.lastSnapshotIndex, index);
    this.walBytesAtLastSnapshot = this.wal.writtenBytes();
    await this.wal.deleteSegmentsCoveredBy(index, isInstalled, markerSequence);
    await this.guard(() => this.snapshots.prune(this.options.snapshotsRetained));
  }

  private async guard<T>(run: () => Promise<T>): Promise<T> {
    const earlier = this.fatalError();
    if (earlier !== undefined) throw earlier;
    try {
      return await run();
    } catch (error) {
      if (error instanceof StorageFatalError) this.reportFatal(error);
      throw error;
    }
  }

  /** A snapshot or stamp write failed: fail the writer, which rejects and reports everything. */
  private reportFatal(error: StorageFatalError): void {
    this.wal.abort(error);
  }
}

function withDefaults(options: DurableStorageOptions): DurableStorage['options'] {
  return {
    directory: options.directory,
    clusterId: options.clusterId,
    nodeId: options.nodeId,
    incarnationForNewDirectory: options.incarnationForNewDirectory,
    fileSystem: options.fileSystem ?? NODE_FILE_SYSTEM,
    logger: options.logger ?? SILENT_LOGGER,
    observer: options.observer ?? SILENT_STORAGE_OBSERVER,
    segmentBytesTarget: options.segmentBytesTarget ?? 64 * MEBIBYTE,
    isPreallocationEnabled: options.isPreallocationEnabled ?? true,
    pendingBytesMax: options.pendingBytesMax ?? 64 * MEBIBYTE,
    writeBytesMax: options.writeBytesMax ?? 16 * MEBIBYTE,
    snapshotEntriesThreshold: options.snapshotEntriesThreshold ?? 10_000,
    snapshotBytesThreshold: options.snapshotBytesThreshold ?? 256 * MEBIBYTE,
    snapshotsRetained: options.snapshotsRetained ?? 2,
  };
}

/** Reads and checks the stamp, or writes a new one for an empty directory. */
async function openIdentity(
  settings: DurableStorage['options'],
): Promise<{ identity: StorageIdentity; isNew: boolean }> {
  const { fileSystem, directory, logger } = settings;
  const file = path.join(directory, IDENTITY_STAMP_NAME);
  const stamp = await readIdentityStamp(fileSystem, directory);
  if (stamp !== undefined) {
    checkIdentityStamp(stamp, settings, file);
    const { clusterId, nodeId, incarnation } = stamp;
    return { identity: { clusterId, nodeId, incarnation }, isNew: false };
  }
  await checkUnstampedDirectoryIsEmpty(fileSystem, directory);
  const identity: StorageIdentity = {
    clusterId: settings.clusterId,
    nodeId: settings.nodeId,
    incarnation: settings.incarnationForNewDirectory,
  };
  await writeIdentityStamp(fileSystem, directory, { ...identity, isRemoved: false });
  logger.info({ directory }, 'new data directory stamped');
  return { identity, isNew: true };
}
