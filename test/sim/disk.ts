/**
 * A simulated disk per node: the durable image (what survives a crash) and the live
 * MemoryStorage the core reads. Writes land in the live storage at once; they reach the durable
 * image only when synced. A crash throws away the unsynced writes (or, as an OS that flushed
 * some dirty pages would, keeps a prefix of them) and the live storage becomes a copy of the
 * durable image. Snapshots and compaction always count as synced. It does not decide when to
 * crash: the cluster does, with its own PRNG stream.
 */
import { assert } from '../../src/common/index.js';
import {
  type ConfigurationState,
  type Entry,
  type HardState,
  MemoryStorage,
  type Prng,
  type Snapshot,
} from '../../src/raft/index.js';
import { chance } from './seed-streams.js';

/**
 * How many unsynced writes the disk buffers before it flushes them by itself, as a page cache
 * would. Consecutive hard-state writes coalesce, so this is rarely reached.
 */
export const PENDING_WRITES_MAX = 1024;

/** A write that reached the live storage but not yet the durable image. */
type PendingWrite =
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'hardState'; readonly hardState: HardState };

/** The disk of one node. */
export class SimulatedDisk {
  private durable: MemoryStorage;
  private liveStorage: MemoryStorage;
  private pendingWrites: PendingWrite[] = [];

  private constructor(durable: MemoryStorage) {
    this.durable = durable;
    this.liveStorage = durable.clone();
  }

  /** The disk of a founding member: bootstrapped with the initial membership, all durable. */
  static bootstrapped(configuration: ConfigurationState): SimulatedDisk {
    const durable = new MemoryStorage();
    durable.bootstrap(configuration);
    return new SimulatedDisk(durable);
  }

  /** An empty disk, for a member added later (it receives the leader's snapshot). */
  static empty(): SimulatedDisk {
    return new SimulatedDisk(new MemoryStorage());
  }

  /** The storage the core reads. Replaced by a fresh copy of the durable image on recovery. */
  get storage(): MemoryStorage {
    return this.liveStorage;
  }

  /** The hard state that would survive a crash now. */
  durableHardState(): HardState {
    return this.durable.initialState().hardState;
  }

  /** The last index that would survive a crash now. */
  durableLastIndex(): number {
    return this.durable.lastIndex();
  }

  /** Appends entries to the live log; durable after the next sync. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    this.liveStorage.append(entries);
    this.queue({ kind: 'append', entries });
  }

  /** Records a hard state in the live storage; durable after the next sync. */
  setHardState(hardState: HardState): void {
    this.liveStorage.setHardState(hardState);
    const last = this.pendingWrites[this.pendingWrites.length - 1];
    if (last?.kind === 'hardState') {
      this.pendingWrites[this.pendingWrites.length - 1] = { kind: 'hardState', hardState };
      return;
    }
    this.queue({ kind: 'hardState', hardState });
  }

  /** Makes every write so far durable (fsync). */
  sync(): void {
    for (const write of this.pendingWrites) applyWrite(this.durable, write);
    this.pendingWrites = [];
  }

  /** Installs a received snapshot, durably (it is written and fsynced before use). */
  applySnapshot(snapshot: Snapshot): void {
    this.sync();
    this.liveStorage.applySnapshot(snapshot);
    this.durable.applySnapshot(snapshot);
  }

  /** Compacts the log into a snapshot at `index`, durably; returns the new snapshot. */
  createSnapshot(index: number, configuration: ConfigurationState, data: Uint8Array): Snapshot {
    this.sync();
    const snapshot = this.liveStorage.createSnapshot(index, configuration, data);
    this.durable.createSnapshot(index, configuration, data);
    return snapshot;
  }

  /**
   * Loses power: each unsynced write survives with `survivalProbability`, in order, until the
   * first one that does not (writes reach the platter in order). Then the live storage becomes
   * a copy of what is durable. Returns how many unsynced writes were lost.
   */
  crash(prng: Prng, survivalProbability: number): number {
    let survivedCount = 0;
    while (survivedCount < this.pendingWrites.length && chance(prng, survivalProbability)) {
      survivedCount++;
    }
    const survivors = this.pendingWrites.slice(0, survivedCount);
    const lostCount = this.pendingWrites.length - survivedCount;
    for (const write of survivors) applyWrite(this.durable, write);
    this.pendingWrites = [];
    this.liveStorage = this.durable.clone();
    return lostCount;
  }

  private queue(write: PendingWrite): void {
    this.pendingWrites.push(write);
    if (this.pendingWrites.length >= PENDING_WRITES_MAX) this.sync();
    assert(this.pendingWrites.length < PENDING_WRITES_MAX, 'pending writes are bounded');
  }
}

function applyWrite(storage: MemoryStorage, write: PendingWrite): void {
  if (write.kind === 'append') storage.append(write.entries);
  else storage.setHardState(write.hardState);
}
