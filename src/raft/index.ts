/**
 * The public surface of the consensus core. Other modules import only from here.
 */
export {
  type ConfigurationChange,
  type ConfigurationState,
  EMPTY_CONFIGURATION,
  isJoint,
  isVoter,
  type MembershipChange,
  memberIds,
} from './configuration.js';
export {
  type ConfigurationChangeEntry,
  EMPTY_HARD_STATE,
  type Entry,
  entrySizeBytes,
  type HardState,
  type NormalEntry,
  type Snapshot,
  type SnapshotMetadata,
} from './entry.js';
export type { InitialState, LogStorage, StorageUnavailable } from './log-storage.js';
export { MemoryStorage } from './memory-storage.js';
export type * from './message.js';
export { createPrng, type Prng } from './prng.js';
export * from './raft-options.js';
export { RawNode } from './raw-node.js';
export type { ReadState, Ready, Role, SoftState } from './ready.js';
export type { DropReason, ProposeResult, ReadIndexResult, TransferResult } from './results.js';
export type { ProgressStatus, Status } from './status.js';
export { describeConfiguration } from './confchange/index.js';
