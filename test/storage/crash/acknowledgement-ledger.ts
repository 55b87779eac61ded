/**
 * The parent's record of what the killed children were promised, and the check of a recovered
 * directory against it: every entry acknowledged as durable is there, in order, with its term
 * and its bytes (or covered by the snapshot), nothing recovered is damaged or foreign, and the
 * hard state and snapshot are no older than the ones acknowledged.
 */
import type { RecoveredState } from '../../../src/storage/index.js';
import type { ChildReport } from './child-report.js';
import { entryData, isSameBytes, snapshotData } from './entry-content.js';

/** Entries `firstIndex..lastIndex`, all written in `term`. */
interface WrittenRange {
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly term: number;
}

/** What one recovered directory held, for the summary and the next child's cross-check. */
export interface RecoveredView {
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  readonly term: number;
  readonly commitIndex: number;
}

export class AcknowledgementLedger {
  /** Every range a child reported written, in index order; pruned behind the snapshot. */
  private ranges: WrittenRange[] = [];
  /** The index the next reported range must start at (after a restart: the recovered end + 1). */
  private nextIndexExpected: number | undefined;
  /** Everything at or below this index was acknowledged durable. */
  private durableIndex = 0;
  private durableHardStateTerm = 0;
  private durableCommitIndex = 0;
  private writtenHardStateTerm = 0;
  private writtenCommitIndex = 0;
  private durableSnapshotIndex = 0;
  /** Synced persist calls reported, over all children. */
  acknowledgementCount = 0;
  /** Entries in those calls. */
  acknowledgedEntryCount = 0;

  /** Takes in one child's reports, in the order it wrote them. */
  record(reports: readonly ChildReport[]): void {
    for (const report of reports) {
      if (report.kind === 'snapshot') {
        this.durableSnapshotIndex = Math.max(this.durableSnapshotIndex, report.index);
        this.durableIndex = Math.max(this.durableIndex, report.index);
        if (report.index === 1) this.addRange({ firstIndex: 1, lastIndex: 1, term: report.term });
      }
      if (report.kind !== 'persisted') continue;
      this.addRange(report);
      if (report.hardStateTerm !== undefined && report.commitIndex !== undefined) {
        this.writtenHardStateTerm = report.hardStateTerm;
        this.writtenCommitIndex = report.commitIndex;
      }
      if (!report.isSynced) continue;
      // A synced call also made every call before it durable (one log, synced in order).
      this.durableIndex = Math.max(this.durableIndex, report.lastIndex);
      this.durableHardStateTerm = this.writtenHardStateTerm;
      this.durableCommitIndex = this.writtenCommitIndex;
      this.acknowledgementCount++;
      this.acknowledgedEntryCount += report.lastIndex - report.firstIndex + 1;
    }
  }

  /**
   * Checks a recovered directory; returns the problems found (none if it keeps every promise).
   * Then forgets what the snapshot covers and what was written but never made durable and is
   * gone (the next child overwrites those indexes).
   */
  verify(recovered: RecoveredState): { problems: string[]; view: RecoveredView } {
    const problems: string[] = [];
    const { snapshot, entries, hardState } = recovered;
    const snapshotIndex = snapshot?.metadata.index ?? 0;
    if (snapshot === undefined) {
      problems.push('no snapshot recovered, yet the bootstrap snapshot was acknowledged');
    } else {
      const { index, term } = snapshot.metadata;
      if (index < this.durableSnapshotIndex) {
        problems.push(
          `snapshot ${index} recovered, older than acknowledged ${this.durableSnapshotIndex}`,
        );
      }
      const writtenTerm = this.termAt(index);
      if (writtenTerm !== undefined && writtenTerm !== term) {
        problems.push(
          `snapshot at ${index} has term ${term}, the entry there was written in ${writtenTerm}`,
        );
      }
      if (!isSameBytes(snapshot.data, snapshotData(index))) {
        problems.push(`snapshot at ${index} holds the wrong data`);
      }
    }
    let previousTerm = snapshot?.metadata.term ?? 0;
    for (const [position, entry] of entries.entries()) {
      const expectedIndex = snapshotIndex + 1 + position;
      const where = `entry at position ${position} (index ${entry.index}, term ${entry.term})`;
      if (entry.index !== expectedIndex) problems.push(`${where}: expected index ${expectedIndex}`);
      if (entry.term < previousTerm) problems.push(`${where}: term below ${previousTerm}`);
      previousTerm = entry.term;
      const writtenTerm = this.termAt(entry.index);
      if (writtenTerm !== undefined && writtenTerm !== entry.term) {
        problems.push(`${where}: was written in term ${writtenTerm}`);
      }
      if (entry.kind !== 'normal' || !isSameBytes(entry.data, entryData(entry.index, entry.term))) {
        problems.push(`${where}: data differs from what was written`);
      }
      if (problems.length > 20) break;
    }
    const lastIndex = entries.at(-1)?.index ?? snapshotIndex;
    if (lastIndex < this.durableIndex) {
      problems.push(`log ends at ${lastIndex}, but ${this.durableIndex} was acknowledged durable`);
    }
    if (hardState.term < this.durableHardStateTerm) {
      problems.push(
        `hard state term ${hardState.term} < acknowledged ${this.durableHardStateTerm}`,
      );
    }
    if (hardState.commitIndex < this.durableCommitIndex) {
      problems.push(
        `hard state commit ${hardState.commitIndex} < acknowledged ${this.durableCommitIndex}`,
      );
    }
    if (hardState.commitIndex > lastIndex) {
      problems.push(`hard state commit ${hardState.commitIndex} beyond the log's end ${lastIndex}`);
    }
    this.forget(snapshotIndex, lastIndex);
    const view = {
      snapshotIndex,
      lastIndex,
      term: hardState.term,
      commitIndex: hardState.commitIndex,
    };
    return { problems, view };
  }

  private addRange(range: WrittenRange): void {
    const expected = this.nextIndexExpected;
    if (expected !== undefined && range.firstIndex !== expected) {
      throw new Error(
        `child wrote ${range.firstIndex}..${range.lastIndex}, expected to continue at ${expected}`,
      );
    }
    this.ranges.push({
      firstIndex: range.firstIndex,
      lastIndex: range.lastIndex,
      term: range.term,
    });
    this.nextIndexExpected = range.lastIndex + 1;
  }

  /** The term the entry at `index` was written in, if a child reported writing it. */
  private termAt(index: number): number | undefined {
    let low = 0;
    let high = this.ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const range = this.ranges[middle] as WrittenRange;
      if (index < range.firstIndex) high = middle - 1;
      else if (index > range.lastIndex) low = middle + 1;
      else return range.term;
    }
    return undefined;
  }

  /** Drops ranges the snapshot covers and (parts of) ranges beyond the recovered log's end. */
  private forget(snapshotIndex: number, lastIndex: number): void {
    const kept: WrittenRange[] = [];
    for (const range of this.ranges) {
      if (range.lastIndex <= snapshotIndex || range.firstIndex > lastIndex) continue;
      kept.push({ ...range, lastIndex: Math.min(range.lastIndex, lastIndex) });
    }
    this.ranges = kept;
    // Entries written but never reported (killed between the write and the report) stay in the
    // log: the next child continues after them.
    this.nextIndexExpected = lastIndex + 1;
  }
}
