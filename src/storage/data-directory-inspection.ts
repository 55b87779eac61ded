/**
 * The report behind `raftkv wal inspect`: what a data directory holds (identity stamp, every WAL
 * segment, every snapshot file) and whether a node would start from it, for the operator whose
 * node will not start. It must work precisely then, so damage never makes it throw: each file is
 * examined on its own and its problem reported next to it. It never repairs: the disk is reached
 * through a read-only view, and the verdict comes from the recovery code itself (readWal in
 * read-only mode, selectSnapshot), so it names the same error, file and offset the node would.
 */
import * as path from 'node:path';

import { AssertionError, type Logger, type LogFields } from '../common/index.js';
import type { HardState } from '../raft/index.js';
import { type FileSystem, NODE_FILE_SYSTEM } from './file-system.js';
import {
  checkIdentityStamp,
  checkUnstampedDirectoryIsEmpty,
  IDENTITY_STAMP_NAME,
  type IdentityStamp,
  readIdentityStamp,
} from './identity-stamp.js';
import { readOnlyFileSystem } from './read-only-file-system.js';
import { type ReportedError, reportError } from './reported-error.js';
import {
  inspectSnapshotDirectory,
  type SnapshotDirectoryInspection,
} from './snapshot-file-inspection.js';
import { SnapshotFiles } from './snapshot-files.js';
import { selectSnapshot } from './snapshot-selection.js';
import { StorageError } from './storage-errors.js';
import { formatId, type StorageIdentity } from './storage-identity.js';
import { SILENT_STORAGE_OBSERVER } from './storage-observer.js';
import { readWal } from './wal-recovery.js';
import { inspectWalDirectory, type WalInspection } from './wal-segment-inspection.js';

export type { ReportedError } from './reported-error.js';
export type {
  SnapshotDirectoryInspection,
  SnapshotFileInspection,
} from './snapshot-file-inspection.js';
export type {
  FoundSnapshotMarker,
  SegmentCounts,
  SegmentGap,
  SegmentInspection,
  SegmentStatus,
  WalInspection,
} from './wal-segment-inspection.js';

/** The identity stamp (`identity.json`); ids as lowercase hex, the way the node prints them. */
export type IdentityInspection =
  | {
      readonly kind: 'stamped';
      readonly clusterId: string;
      readonly nodeId: number;
      readonly incarnation: string;
      readonly isRemoved: boolean;
    }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly error: ReportedError };

/** A warning the node would log while starting (a repair it would make, a fallback it would take). */
export interface StartupWarning {
  readonly message: string;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/**
 * What `DurableStorage.open` would do with the directory, judged against the directory's own
 * stamp (the node also refuses a stamp for another cluster or node id than its flags name):
 * - `empty`: no stamp and no data; the node would stamp it and start as a new member;
 * - `startable`: the node would start, after the repairs and fallbacks its warnings name;
 * - `refused`: the node would stop with `error`.
 */
export type InspectionVerdict =
  | { readonly kind: 'empty' }
  | {
      readonly kind: 'startable';
      readonly snapshotIndex: number;
      readonly snapshotTerm: number;
      /** Entries after the snapshot, and the last index (the snapshot's if there are none). */
      readonly entryCount: number;
      readonly lastIndex: number;
      readonly hardState: HardState;
      readonly warnings: readonly StartupWarning[];
    }
  | {
      readonly kind: 'refused';
      readonly error: ReportedError;
      readonly warnings: readonly StartupWarning[];
    };

/** The whole report. Plain data: `JSON.stringify` renders it as is. */
export interface DataDirectoryInspection {
  readonly directory: string;
  readonly identityFile: string;
  readonly identity: IdentityInspection;
  readonly wal: WalInspection;
  readonly snapshots: SnapshotDirectoryInspection;
  readonly verdict: InspectionVerdict;
}

/** The directory itself cannot be listed (missing, not a directory, no permission). */
export class DataDirectoryUnreadableError extends StorageError {
  readonly code = 'DATA_DIRECTORY_UNREADABLE';
  /** The system error code, e.g. `ENOENT` or `EACCES`, when there is one. */
  readonly systemCode: string | undefined;
  constructor(directory: string, cause: unknown) {
    const { code, message } = reportError(cause);
    super(
      `data directory cannot be read: ${message}`,
      directory,
      undefined,
      "Check the path (it is the node's --data-dir) and that this user may read it.",
      { cause },
    );
    this.systemCode = code === 'UNEXPECTED_ERROR' ? undefined : code;
  }
}

type StampRead =
  | { readonly kind: 'stamped'; readonly stamp: IdentityStamp }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly error: unknown };

/**
 * Reports on the data directory `directory` without changing anything in it. Throws only
 * {@link DataDirectoryUnreadableError}, when the directory itself cannot be listed.
 */
export async function inspectDataDirectory(
  directory: string,
  fileSystem: FileSystem = NODE_FILE_SYSTEM,
): Promise<DataDirectoryInspection> {
  try {
    await fileSystem.readDirectory(directory);
  } catch (error) {
    throw new DataDirectoryUnreadableError(directory, error);
  }
  const reader = readOnlyFileSystem(fileSystem);
  const stampRead = await readStamp(reader, directory);
  const identity = stampRead.kind === 'stamped' ? identityOf(stampRead.stamp) : undefined;
  return {
    directory,
    identityFile: path.join(directory, IDENTITY_STAMP_NAME),
    identity: describeStamp(stampRead),
    wal: await inspectWalDirectory(reader, path.join(directory, 'wal'), identity),
    snapshots: await inspectSnapshotDirectory(reader, path.join(directory, 'snap'), identity),
    verdict: await predictStartup(reader, directory, stampRead),
  };
}

async function readStamp(fileSystem: FileSystem, directory: string): Promise<StampRead> {
  try {
    const stamp = await readIdentityStamp(fileSystem, directory);
    return stamp === undefined ? { kind: 'missing' } : { kind: 'stamped', stamp };
  } catch (error) {
    return { kind: 'unreadable', error };
  }
}

function identityOf({ clusterId, nodeId, incarnation }: IdentityStamp): StorageIdentity {
  return { clusterId, nodeId, incarnation };
}

function describeStamp(read: StampRead): IdentityInspection {
  switch (read.kind) {
    case 'stamped': {
      const { clusterId, nodeId, incarnation, isRemoved } = read.stamp;
      return {
        kind: 'stamped',
        clusterId: formatId(clusterId),
        nodeId,
        incarnation: formatId(incarnation),
        isRemoved,
      };
    }
    case 'missing':
      return read;
    case 'unreadable':
      return { kind: 'unreadable', error: reportError(read.error) };
  }
}

/** Runs the checks of `DurableStorage.open` in order, read-only, and reports the first failure. */
async function predictStartup(
  fileSystem: FileSystem,
  directory: string,
  stampRead: StampRead,
): Promise<InspectionVerdict> {
  const warnings: StartupWarning[] = [];
  const logger = warningCollector(warnings);
  try {
    const identity = await startupIdentity(fileSystem, directory, stampRead);
    if (identity === undefined) return { kind: 'empty' };
    const walDirectory = path.join(directory, 'wal');
    const wal = await readWal(fileSystem, walDirectory, identity, 'readOnly', logger);
    const snapDirectory = path.join(directory, 'snap');
    const observer = SILENT_STORAGE_OBSERVER;
    const files = new SnapshotFiles(fileSystem, snapDirectory, identity, logger, observer);
    const { snapshot, entries, hardState } = await selectSnapshot(files, wal, logger);
    const snapshotIndex = snapshot?.metadata.index ?? 0;
    return {
      kind: 'startable',
      snapshotIndex,
      snapshotTerm: snapshot?.metadata.term ?? 0,
      entryCount: entries.length,
      lastIndex: entries.at(-1)?.index ?? snapshotIndex,
      hardState,
      warnings,
    };
  } catch (error) {
    // A bug in the inspection (or a write attempted behind the read-only view) is not a verdict.
    if (error instanceof AssertionError) throw error;
    return { kind: 'refused', error: reportError(error), warnings };
  }
}

/**
 * The identity the node would recover with, as `openIdentity` in durable-storage.ts decides it;
 * `undefined` for a directory it would stamp as new. Compares the stamp with itself: the only
 * refusal left without the node's flags is a removed member.
 */
async function startupIdentity(
  fileSystem: FileSystem,
  directory: string,
  stampRead: StampRead,
): Promise<StorageIdentity | undefined> {
  const file = path.join(directory, IDENTITY_STAMP_NAME);
  if (stampRead.kind === 'unreadable') throw stampRead.error;
  if (stampRead.kind === 'stamped') {
    checkIdentityStamp(stampRead.stamp, stampRead.stamp, file);
    return identityOf(stampRead.stamp);
  }
  await checkUnstampedDirectoryIsEmpty(fileSystem, directory);
  return undefined;
}

/** A logger that keeps the warnings (and errors) recovery logs; they are part of the verdict. */
function warningCollector(warnings: StartupWarning[]): Logger {
  const keep = (fields: LogFields, message: string): void => {
    const kept: Record<string, string | number | boolean> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const isPlain = ['string', 'number', 'boolean'].includes(typeof value);
      kept[name] = isPlain ? (value as string | number | boolean) : String(value);
    }
    warnings.push({ message, fields: kept });
  };
  return { debug: () => undefined, info: () => undefined, warn: keep, error: keep };
}
