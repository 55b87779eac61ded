/**
 * Chooses the snapshot the node restarts from and joins it with the recovered log.
 *
 * The newest snapshot that passes its checksum is used. A damaged newer snapshot is reported;
 * an older valid one stands in for it only if the log still holds every entry from the older
 * snapshot up to the damaged one's index (otherwise the state between them is lost and startup
 * stops). The same holds when the log records a snapshot whose file is missing.
 */

import type { Logger } from '../common/index.js';
import type { Entry, HardState, Snapshot } from '../raft/index.js';
import type { SnapshotFiles } from './snapshot-files.js';
import { SnapshotCorruptError, WalLogGapError } from './storage-errors.js';
import type { RecoveredWal } from './wal-recovery.js';

const EMPTY_HARD_STATE: HardState = { term: 0, votedFor: 0, commitIndex: 0 };

export interface SnapshotSelection {
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly hardState: HardState;
  readonly damagedSnapshots: readonly { readonly file: string; readonly detail: string }[];
}

/** Whether `entries` hold every index in [from, to]. */
function covers(entries: readonly Entry[], from: number, to: number): boolean {
  if (to < from) return true;
  const first = entries[0];
  const last = entries.at(-1);
  return first !== undefined && last !== undefined && first.index <= from && last.index >= to;
}

export async function selectSnapshot(
  snapshots: SnapshotFiles,
  wal: RecoveredWal,
  logger: Logger,
): Promise<SnapshotSelection> {
  const damagedSnapshots: { file: string; detail: string }[] = [];
  /** The newest damaged snapshot's index, which the fallback must reach. */
  let damagedIndex = 0;
  let snapshot: Snapshot | undefined;
  for (const file of await snapshots.list()) {
    const read = await snapshots.read(file);
    if (read.kind === 'valid') {
      snapshot = read.snapshot;
      break;
    }
    damagedSnapshots.push({ file: file.file, detail: read.detail });
    damagedIndex = Math.max(damagedIndex, file.index);
    logger.warn(
      { file: file.file, detail: read.detail },
      'snapshot file is damaged; trying an older one',
    );
  }
  const baseIndex = snapshot?.metadata.index ?? 0;
  const newestDamaged = damagedSnapshots[0];
  if (newestDamaged !== undefined) {
    if (!covers(wal.entries, baseIndex + 1, damagedIndex)) {
      throw new SnapshotCorruptError(
        `${newestDamaged.detail}; no older valid snapshot plus the log reaches its index ${damagedIndex}`,
        newestDamaged.file,
      );
    }
    logger.warn(
      { file: newestDamaged.file, fallbackIndex: baseIndex },
      'using an older snapshot and the log in place of the damaged snapshot',
    );
  }
  const lastMarker = wal.snapshotMarkers.at(-1);
  if (
    lastMarker !== undefined &&
    lastMarker.index > baseIndex &&
    !covers(wal.entries, baseIndex + 1, lastMarker.index)
  ) {
    throw new WalLogGapError(
      `the log records a snapshot at index ${lastMarker.index} but no such snapshot file exists`,
      snapshots.directory,
    );
  }
  const entries = entriesAfter(wal.entries, snapshot, logger);
  const firstFile = wal.segments[0]?.file ?? 'wal';
  const firstEntry = entries[0];
  if (firstEntry !== undefined && firstEntry.index !== baseIndex + 1) {
    throw new WalLogGapError(
      `the log starts at index ${firstEntry.index} but the snapshot ends at ${baseIndex}`,
      firstFile,
    );
  }
  const lastIndex = entries.at(-1)?.index ?? baseIndex;
  let hardState = joinHardState(wal.hardState ?? EMPTY_HARD_STATE, snapshot);
  if (hardState.commitIndex > lastIndex && wal.tornTail !== undefined) {
    // A batch's hard state precedes its entries, and a follower's hard state may commit entries
    // of its own batch. The torn batch was never acknowledged, so nothing above the surviving log
    // was applied; the commit index is volatile state (Raft, Figure 2) and the leader resends it.
    logger.warn(
      { commitIndex: hardState.commitIndex, lastIndex, file: wal.tornTail.file },
      'commit index of the torn batch is beyond the surviving log; lowering it',
    );
    hardState = { ...hardState, commitIndex: lastIndex };
  }
  if (hardState.commitIndex > lastIndex) {
    throw new WalLogGapError(
      `the hard state says index ${hardState.commitIndex} is committed but the log ends at ${lastIndex}`,
      wal.segments.at(-1)?.file ?? firstFile,
    );
  }
  return { snapshot, entries, hardState, damagedSnapshots };
}

/**
 * The entries that continue `snapshot`. If the log holds the snapshot's own index with another
 * term, the snapshot replaced a divergent log (a crash came between saving it and recording it)
 * and nothing after it in the log is kept.
 */
function entriesAfter(
  entries: readonly Entry[],
  snapshot: Snapshot | undefined,
  logger: Logger,
): readonly Entry[] {
  const first = entries[0];
  if (snapshot === undefined || first === undefined) return entries;
  const { index, term } = snapshot.metadata;
  if (first.index > index) return entries;
  const atSnapshot = entries[index - first.index];
  if (atSnapshot === undefined) return [];
  if (atSnapshot.term !== term) {
    logger.warn(
      { snapshotIndex: index, snapshotTerm: term, logTerm: atSnapshot.term },
      'log disagrees with the snapshot at its index; discarding the log after it',
    );
    return [];
  }
  return entries.slice(index - first.index + 1);
}

/** The hard state, never behind the snapshot: its index is committed and its term was seen. */
function joinHardState(hardState: HardState, snapshot: Snapshot | undefined): HardState {
  if (snapshot === undefined) return hardState;
  const { index, term } = snapshot.metadata;
  if (hardState.commitIndex >= index && hardState.term >= term) return hardState;
  return {
    term: Math.max(hardState.term, term),
    votedFor: hardState.term >= term ? hardState.votedFor : 0,
    commitIndex: Math.max(hardState.commitIndex, index),
  };
}
