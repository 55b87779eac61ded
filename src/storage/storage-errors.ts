/**
 * Typed errors of the storage module. Each names the file (and byte offset where one applies)
 * and says what the operator can do. Startup errors stop the node before it serves anything;
 * {@link StorageFatalError} stops a running node (fail-stop: no retry, no acknowledgement).
 */
import { RaftkvError } from '../common/index.js';

/** Base of every storage error: where the problem is. */
export abstract class StorageError extends RaftkvError {
  /** The file (or directory) concerned. */
  readonly file: string;
  /** Byte offset inside `file`, where one applies. */
  readonly offset: number | undefined;

  constructor(
    message: string,
    file: string,
    offset: number | undefined,
    remedy: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${message} (${file}${offset === undefined ? '' : ` at offset ${offset}`})`,
      remedy,
      options,
    );
    this.file = file;
    this.offset = offset;
  }
}

const RESTORE_FROM_PEERS =
  'Do not edit the file. Keep a copy for diagnosis (raftkv wal inspect), then either restore the ' +
  'data directory from a backup or remove this member and add it back empty so it is rebuilt from its peers.';

/** A record failed its checksum or is malformed somewhere other than a torn tail. */
export class WalCorruptError extends StorageError {
  readonly code = 'WAL_CORRUPT';
  constructor(detail: string, file: string, offset: number) {
    super(`write-ahead log is damaged: ${detail}`, file, offset, RESTORE_FROM_PEERS);
  }
}

/** A segment is missing from the sequence, or the log does not reach what it must hold. */
export class WalLogGapError extends StorageError {
  readonly code = 'WAL_LOG_GAP';
  constructor(detail: string, file: string) {
    super(`write-ahead log is incomplete: ${detail}`, file, undefined, RESTORE_FROM_PEERS);
  }
}

/** A file carries a format version this build does not know. */
export class UnknownFormatVersionError extends StorageError {
  readonly code = 'UNKNOWN_FORMAT_VERSION';
  readonly foundVersion: number;
  constructor(foundVersion: number, supportedVersion: number, file: string) {
    super(
      `format version ${foundVersion} is not supported (this build reads version ${supportedVersion})`,
      file,
      0,
      'Run a raftkv version that wrote this data directory, or a newer one; never downgrade over it.',
    );
    this.foundVersion = foundVersion;
  }
}

/** The data directory (or one of its files) belongs to another cluster, node or incarnation. */
export class ForeignIdentityError extends StorageError {
  readonly code = 'FOREIGN_IDENTITY';
  constructor(detail: string, file: string) {
    super(
      `data belongs to another member: ${detail}`,
      file,
      undefined,
      'Check --data-dir and the cluster and node flags. If this directory is left over from an ' +
        'old cluster or a replaced member, move it away; a new member starts from an empty directory.',
    );
  }
}

/** The identity stamp says this member was removed from the cluster. */
export class NodeRemovedError extends StorageError {
  readonly code = 'NODE_REMOVED';
  constructor(detail: string, file: string) {
    super(
      `this member was removed from the cluster: ${detail}`,
      file,
      undefined,
      'A removed member never rejoins with its old data. Add it back as a new member with an empty data directory.',
    );
  }
}

/** A snapshot file is damaged and no older snapshot plus the log can stand in for it. */
export class SnapshotCorruptError extends StorageError {
  readonly code = 'SNAPSHOT_CORRUPT';
  constructor(detail: string, file: string, offset?: number) {
    super(`snapshot is damaged: ${detail}`, file, offset, RESTORE_FROM_PEERS);
  }
}

/**
 * A write, sync, rename or other disk operation failed while the node was running. Fatal: the
 * storage acknowledges nothing after it and refuses further work; the process must exit and let
 * recovery (and its peers) restore a consistent state. Retrying a failed fsync is unsafe: Linux
 * may have dropped the dirty pages and would report success next time.
 */
export class StorageFatalError extends StorageError {
  readonly code = 'STORAGE_IO_FAILED';
  /** The operation that failed, e.g. `fdatasync`. */
  readonly operation: string;
  /** The system error code, e.g. `EIO` or `ENOSPC`, when there is one. */
  readonly systemCode: string | undefined;
  constructor(operation: string, file: string, cause: unknown) {
    const systemCode = (cause as { code?: unknown } | undefined)?.code;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `${operation} failed: ${reason}`,
      file,
      undefined,
      'The node stops to protect acknowledged data. Check the disk (space, dmesg for I/O errors), then restart it.',
      { cause },
    );
    this.operation = operation;
    this.systemCode = typeof systemCode === 'string' ? systemCode : undefined;
  }
}

/** The identity stamp exists but cannot be read back intact. */
export class IdentityStampCorruptError extends StorageError {
  readonly code = 'IDENTITY_STAMP_CORRUPT';
  constructor(detail: string, file: string) {
    super(`identity stamp is damaged: ${detail}`, file, undefined, RESTORE_FROM_PEERS);
  }
}

/** An entry is larger than one WAL record may be. Nothing was written; the storage still works. */
export class EntryTooLargeError extends StorageError {
  readonly code = 'ENTRY_TOO_LARGE';
  constructor(index: number, payloadBytes: number, payloadBytesMax: number) {
    super(
      `entry ${index} takes ${payloadBytes} bytes, more than the ${payloadBytesMax} a WAL record may hold`,
      'wal',
      undefined,
      'Refuse such proposals before they reach the log (the node limits request sizes).',
    );
  }
}

/** Runs one disk operation; any failure becomes a {@link StorageFatalError} naming it and `file`. */
export async function runFatally<T>(
  operation: string,
  file: string,
  run: () => Promise<T> | T,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StorageFatalError) throw error;
    throw new StorageFatalError(operation, file, error);
  }
}
