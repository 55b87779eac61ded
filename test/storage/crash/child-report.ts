/**
 * The line protocol from the crash test's child to its parent: one JSON object per stdout line.
 * The child writes a report only after the storage call it describes has resolved, so a report
 * the parent reads is a promise the storage made.
 */

/** What the child found when it opened the directory (before writing anything). */
export interface RecoveredReport {
  readonly kind: 'recovered';
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  readonly term: number;
  readonly commitIndex: number;
}

/**
 * One persist call resolved: entries `firstIndex..lastIndex` of `term` were written, and are
 * durable if `isSynced` (then everything before them is durable too).
 */
export interface PersistedReport {
  readonly kind: 'persisted';
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly term: number;
  readonly isSynced: boolean;
  /** The hard state the call carried, if any. */
  readonly hardStateTerm?: number;
  readonly commitIndex?: number;
}

/** saveSnapshot resolved: the snapshot at (index, term) is durable. */
export interface SnapshotReport {
  readonly kind: 'snapshot';
  readonly index: number;
  readonly term: number;
}

/** The child hit an error it cannot go on from; it exits after writing this. */
export interface FailedReport {
  readonly kind: 'failed';
  readonly message: string;
}

export type ChildReport = RecoveredReport | PersistedReport | SnapshotReport | FailedReport;

const KINDS: ReadonlySet<string> = new Set(['recovered', 'persisted', 'snapshot', 'failed']);

export function formatReport(report: ChildReport): string {
  return `${JSON.stringify(report)}\n`;
}

/** Parses one line; throws on anything that is not a report (the child printed something odd). */
export function parseReport(line: string): ChildReport {
  const parsed = JSON.parse(line) as { kind?: unknown };
  if (typeof parsed.kind !== 'string' || !KINDS.has(parsed.kind)) {
    throw new Error(`not a child report: ${line}`);
  }
  return parsed as ChildReport;
}
