/**
 * State Machine Safety at the apply level (Raft §5.4.3; TigerBeetle's StateChecker): every
 * node applies the same entry at each index, every node's membership as of an applied index is
 * the same, and snapshots taken or received at the same index hold the same state-machine image
 * and membership. The first entry (or image, or membership) ever seen at an index is the
 * reference.
 */
import type { NodeId } from '../../../src/common/index.js';
import type { Entry, Snapshot } from '../../../src/raft/index.js';
import type { NodeView } from '../cluster-observer.js';
import { describeEntry } from '../message-format.js';
import type { Checker } from './checker.js';
import { check } from './violation.js';
import { hashBytes, hashEntry, hashString } from './entry-hash.js';

/** Checks applied entries and snapshot images across nodes. */
export class AppliedPrefixChecker implements Checker {
  readonly name = 'appliedPrefix';
  /** Entry hash and rendering of the first entry applied at each index. */
  private readonly appliedByIndex = new Map<
    number,
    { hash: number; text: string; nodeId: number }
  >();
  /** Hash of the first snapshot image (data and membership) seen at each index. */
  private readonly imageByIndex = new Map<number, { hash: number; nodeId: number }>();

  /** Membership (rendered) as of each applied index, as first seen. */
  private readonly configurationByIndex = new Map<number, { text: string; nodeId: number }>();
  /** Applied index at which each node's membership was last compared. */
  private readonly comparedIndexes = new Map<NodeId, number>();

  onReadyHandled(node: NodeView): void {
    if (this.comparedIndexes.get(node.id) === node.appliedIndex) return;
    this.comparedIndexes.set(node.id, node.appliedIndex);
    const text = JSON.stringify(node.status().configuration);
    const reference = this.configurationByIndex.get(node.appliedIndex);
    if (reference === undefined) {
      this.configurationByIndex.set(node.appliedIndex, { text, nodeId: node.id });
      return;
    }
    check(
      reference.text === text,
      'appliedPrefix',
      () =>
        `node ${node.id} has membership ${text} as of applied index ${node.appliedIndex}, but ` +
        `node ${reference.nodeId} had ${reference.text} there`,
    );
  }

  onRestart(node: NodeView): void {
    this.comparedIndexes.delete(node.id);
  }

  onEntryApplied(node: NodeView, entry: Entry): void {
    const hash = hashEntry(entry);
    const reference = this.appliedByIndex.get(entry.index);
    if (reference === undefined) {
      this.appliedByIndex.set(entry.index, { hash, text: describeEntry(entry), nodeId: node.id });
      return;
    }
    check(
      reference.hash === hash,
      'appliedPrefix',
      () =>
        `node ${node.id} applied ${describeEntry(entry)} at index ${entry.index}, but node ` +
        `${reference.nodeId} applied ${reference.text} there first`,
    );
  }

  onSnapshotPersisted(node: NodeView, snapshot: Snapshot): void {
    const { index, configuration } = snapshot.metadata;
    const hash = hashBytes(snapshot.data) + hashString(JSON.stringify(configuration));
    const reference = this.imageByIndex.get(index);
    if (reference === undefined) {
      this.imageByIndex.set(index, { hash, nodeId: node.id });
      return;
    }
    check(
      reference.hash === hash,
      'appliedPrefix',
      () =>
        `node ${node.id} persisted a snapshot at ${index} whose state or membership differs from ` +
        `the one node ${reference.nodeId} had at ${index}`,
    );
  }
}
