/**
 * Log Matching (Raft §5.3): if two logs hold an entry with the same index and term, the logs
 * are identical up to it. Every entry a node persists gets the chain hash of its log prefix;
 * the first hash ever seen for an (index, term) is the reference, and every later node that
 * persists that position must produce the same one. It mirrors each node's live log (appends
 * with truncation, snapshots, compaction, recovery after a crash) so other checkers can ask for
 * a node's prefix hash at an index.
 */
import type { NodeId } from '../../../src/common/index.js';
import type { Entry, Snapshot } from '../../../src/raft/index.js';
import type { NodeView, SnapshotOrigin } from '../cluster-observer.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';
import { chainHash, EMPTY_PREFIX_HASH } from './entry-hash.js';

/** The chain hash of the bootstrap snapshot every founding member starts from (index 1, term 1). */
const BOOTSTRAP_PREFIX_HASH = 1;

/** One node's log as the checker mirrors it. */
interface MirroredLog {
  snapshotIndex: number;
  /** Chain hash per index, for snapshotIndex..lastIndex. */
  readonly hashes: Map<number, number>;
  lastIndex: number;
}

/** Checks Log Matching and answers prefix-hash queries for other checkers. */
export class LogMatchingChecker implements Checker {
  readonly name = 'logMatching';
  /** `${index}/${term}` -> chain hash of the prefix ending there, as first persisted. */
  private readonly prefixHashes = new Map<string, number>([['1/1', BOOTSTRAP_PREFIX_HASH]]);
  private readonly logs = new Map<NodeId, MirroredLog>();

  /** The chain hash of a node's log prefix ending at `index`, or null if it does not hold it. */
  prefixHash(nodeId: NodeId, index: number): number | null {
    return this.logs.get(nodeId)?.hashes.get(index) ?? null;
  }

  /** The index of a node's latest snapshot (its log holds nothing before it). */
  snapshotIndex(nodeId: NodeId): number {
    return this.logs.get(nodeId)?.snapshotIndex ?? 0;
  }

  /** The chain hash first seen for (index, term), if any node ever persisted it. */
  referenceHash(index: number, term: number): number | null {
    return this.prefixHashes.get(`${index}/${term}`) ?? null;
  }

  onStart(node: NodeView): void {
    this.rebuild(node);
  }

  onRestart(node: NodeView): void {
    this.rebuild(node);
  }

  onSnapshotPersisted(node: NodeView, snapshot: Snapshot, origin: SnapshotOrigin): void {
    const log = this.logOf(node.id);
    const { index, term } = snapshot.metadata;
    if (index <= log.snapshotIndex) return;
    const hash = this.snapshotHash(index, term);
    if (origin === 'received') {
      log.hashes.clear();
      log.lastIndex = index;
    } else {
      check(
        log.hashes.get(index) === hash,
        'logMatching',
        () => `node ${node.id} compacted at ${index}/${term}, which is not the entry its log holds`,
      );
      for (const heldIndex of log.hashes.keys())
        if (heldIndex < index) log.hashes.delete(heldIndex);
    }
    log.hashes.set(index, hash);
    log.snapshotIndex = index;
  }

  onEntriesPersisted(node: NodeView, entries: readonly Entry[]): void {
    const log = this.logOf(node.id);
    const kept = entries.filter((entry) => entry.index > log.snapshotIndex);
    const first = kept[0];
    if (first === undefined) return;
    check(
      first.index <= log.lastIndex + 1,
      'logMatching',
      () => `node ${node.id} persisted entry ${first.index} after a gap (last ${log.lastIndex})`,
    );
    for (let index = first.index; index <= log.lastIndex; index++) log.hashes.delete(index);
    for (const entry of kept) this.record(node.id, log, entry);
    check(
      log.lastIndex === node.disk.storage.lastIndex(),
      'exception',
      () =>
        `log mirror of node ${node.id} ends at ${log.lastIndex}, storage at ` +
        `${node.disk.storage.lastIndex()}`,
    );
  }

  private record(nodeId: NodeId, log: MirroredLog, entry: Entry): void {
    const previous = log.hashes.get(entry.index - 1);
    check(
      previous !== undefined,
      'exception',
      () => `log mirror of node ${nodeId} lacks index ${entry.index - 1}`,
    );
    const hash = chainHash(previous, entry);
    const key = `${entry.index}/${entry.term}`;
    const reference = this.prefixHashes.get(key);
    check(
      reference === undefined || reference === hash,
      'logMatching',
      () =>
        `node ${nodeId} persisted entry ${key} but its log up to there differs from the log ` +
        `another node persisted with an entry ${key} (different content or different prefix)`,
    );
    if (reference === undefined) this.prefixHashes.set(key, hash);
    log.hashes.set(entry.index, hash);
    log.lastIndex = entry.index;
  }

  /** Rebuilds a node's mirror from its storage (start, recovery after a crash). */
  private rebuild(node: NodeView): void {
    const storage = node.disk.storage;
    const { index, term } = storage.snapshot().metadata;
    const log: MirroredLog = { snapshotIndex: index, hashes: new Map(), lastIndex: index };
    log.hashes.set(index, index === 0 ? EMPTY_PREFIX_HASH : this.snapshotHash(index, term));
    this.logs.set(node.id, log);
    if (storage.lastIndex() <= index) return;
    const entries = storage.entries(index + 1, storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
    check(entries !== 'compacted', 'exception', () => `storage of node ${node.id} inconsistent`);
    for (const entry of entries) this.record(node.id, log, entry);
  }

  private snapshotHash(index: number, term: number): number {
    const hash = this.prefixHashes.get(`${index}/${term}`);
    check(
      hash !== undefined,
      'logMatching',
      () =>
        `a snapshot at ${index}/${term} exists but no node ever persisted an entry ` +
        `${index}/${term}`,
    );
    return hash;
  }

  private logOf(nodeId: NodeId): MirroredLog {
    const log = this.logs.get(nodeId);
    check(log !== undefined, 'exception', () => `no log mirror for node ${nodeId}`);
    return log;
  }
}
