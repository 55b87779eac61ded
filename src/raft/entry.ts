/**
 * The records the core asks the shell to persist: log entries, the hard state and snapshots.
 * Plain data; the storage module owns their encoding on disk.
 */
import type { LogIndex, NodeId, Term } from '../common/index.js';
import type { ConfigurationChange, ConfigurationState } from './configuration.js';

/** Fields every log entry carries. */
interface EntryBase {
  readonly index: LogIndex;
  readonly term: Term;
}

/** An entry holding an opaque state-machine command. Empty `data` is the leader's no-op. */
export interface NormalEntry extends EntryBase {
  readonly kind: 'normal';
  readonly data: Uint8Array;
}

/** An entry holding a membership change; it takes effect when applied (see RawNode). */
export interface ConfigurationChangeEntry extends EntryBase {
  readonly kind: 'configurationChange';
  readonly change: ConfigurationChange;
}

/** One position of the replicated log. */
export type Entry = NormalEntry | ConfigurationChangeEntry;

/**
 * The state that must survive a crash before the node may act on it (Raft §5, Figure 2).
 * Invariant: `commitIndex` never decreases and never exceeds the persisted log.
 */
export interface HardState {
  readonly term: Term;
  readonly votedFor: NodeId;
  readonly commitIndex: LogIndex;
}

/** Describes the log prefix a snapshot replaces. */
export interface SnapshotMetadata {
  /** Index of the last entry the snapshot covers. */
  readonly index: LogIndex;
  /** Term of that entry. */
  readonly term: Term;
  /** Membership in force at `index`. */
  readonly configuration: ConfigurationState;
}

/** A state-machine image that replaces every entry up to `metadata.index`. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** The hard state of a node that has never run. */
export const EMPTY_HARD_STATE: HardState = { term: 0, votedFor: 0, commitIndex: 0 };

/** Approximate encoded size of an entry, used for byte caps on messages and proposals. */
export function entrySizeBytes(entry: Entry): number {
  const headerBytes = 24;
  if (entry.kind === 'normal') return headerBytes + entry.data.byteLength;
  return headerBytes + 16 * entry.change.changes.length;
}
