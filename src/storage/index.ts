/**
 * The public surface of the storage module: durable storage of one member (write-ahead log,
 * snapshots, identity stamp) and the inspection used by `raftkv wal inspect`.
 */
export * from './data-directory-inspection.js';
export {
  DurableStorage,
  type DurableStorageOptions,
  type LoadTarget,
  type PersistRequest,
  type RecoveredState,
  type RecoveryReport,
} from './durable-storage.js';
export {
  type FileDescriptor,
  type FileSystem,
  NODE_FILE_SYSTEM,
  type OpenMode,
} from './file-system.js';
export {
  ForeignIdentityError,
  IdentityStampCorruptError,
  NodeRemovedError,
  SnapshotCorruptError,
  StorageError,
  StorageFatalError,
  UnknownFormatVersionError,
  WalCorruptError,
  WalLogGapError,
} from './storage-errors.js';
export { describeIdentity, formatId, type StorageIdentity } from './storage-identity.js';
export { SILENT_STORAGE_OBSERVER, type StorageObserver } from './storage-observer.js';
export { type IdentityStamp } from './identity-stamp.js';
export { readDataDirectoryIdentity } from './data-directory-identity.js';
