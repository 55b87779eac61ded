/** Tests for RaftLog over MemoryStorage: examples, properties and a replication model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError, type LogIndex, type Term } from '../common/index.js';
import { EMPTY_CONFIGURATION } from './configuration.js';
import { type Entry, entrySizeBytes, type Snapshot } from './entry.js';
import { MemoryStorage } from './memory-storage.js';
import { RaftLog } from './raft-log.js';

/** A normal entry whose data starts with `payload`; `dataBytes` sets its size. */
function makeEntry(index: LogIndex, term: Term, payload = 0, dataBytes = 2): Entry {
  const data = new Uint8Array(Math.max(dataBytes, 1));
  data[0] = payload & 0xff;
  return { kind: 'normal', index, term, data };
}

function makeEntries(firstIndex: LogIndex, terms: readonly Term[], payload = 0): Entry[] {
  return terms.map((term, position) => makeEntry(firstIndex + position, term, payload));
}

function makeSnapshot(index: LogIndex, term: Term): Snapshot {
  return {
    metadata: { index, term, configuration: EMPTY_CONFIGURATION },
    data: new Uint8Array(0),
  };
}

function indexTermPairs(entries: readonly Entry[] | 'compacted'): [LogIndex, Term][] | 'compacted' {
  return entries === 'compacted' ? entries : entries.map((entry) => [entry.index, entry.term]);
}

/** Size of the entries made by makeEntry with the default data size. */
const ENTRY_BYTES = entrySizeBytes(makeEntry(1, 1));

interface LogLayout {
  /** The whole log: entries[k] has index k + 1. */
  readonly entries: readonly Entry[];
  /** Entries up to here are compacted into a storage snapshot (0: none). */
  readonly snapshotIndex: LogIndex;
  /** Index of the first unstable entry; entries before it are in storage. */
  readonly unstableFirstIndex: LogIndex;
  /** Extra stale entries left in storage at and after unstableFirstIndex, hidden by the tail. */
  readonly staleStoredCount?: number;
}

/**
 * Builds a RaftLog holding `layout.entries`: compacted up to snapshotIndex, stored up to
 * unstableFirstIndex - 1, unstable after. The commit index starts at the snapshot.
 */
function buildLog(layout: LogLayout): { log: RaftLog; storage: MemoryStorage } {
  const { entries, snapshotIndex, unstableFirstIndex } = layout;
  const storage = new MemoryStorage();
  const stored = entries.slice(0, unstableFirstIndex - 1);
  const hasUnstableEntries = unstableFirstIndex <= entries.length;
  const staleStoredCount = hasUnstableEntries ? (layout.staleStoredCount ?? 0) : 0;
  const stale = Array.from({ length: staleStoredCount }, (_, position) =>
    makeEntry(unstableFirstIndex + position, 100 + position, 0xee),
  );
  storage.append([...stored, ...stale]);
  if (snapshotIndex > 0) {
    storage.createSnapshot(snapshotIndex, EMPTY_CONFIGURATION, new Uint8Array(0));
  }
  const log = new RaftLog(storage, snapshotIndex, null);
  log.append(entries.slice(unstableFirstIndex - 1));
  return { log, storage };
}

/** Terms 1,1,2,2,3,3,4 at 1..7: snapshot at 3, stored 4..5, unstable 6..7. */
function buildExampleLog(): { log: RaftLog; storage: MemoryStorage } {
  return buildLog({
    entries: makeEntries(1, [1, 1, 2, 2, 3, 3, 4]),
    snapshotIndex: 3,
    unstableFirstIndex: 6,
  });
}

describe('RaftLog construction', () => {
  it('starts at the storage snapshot with the stored entries', () => {
    const storage = new MemoryStorage();
    storage.append(makeEntries(1, [1, 1, 2]));
    storage.createSnapshot(1, EMPTY_CONFIGURATION, new Uint8Array(0));
    const log = new RaftLog(storage, 0, null);
    expect(log.firstIndex()).toBe(2);
    expect(log.lastIndex()).toBe(3);
    expect(log.lastTerm()).toBe(2);
    expect(log.committed).toBe(1);
    expect(log.applied).toBe(1);
    expect(log.applying).toBe(1);
    expect(log.unstable.offset).toBe(4);
  });

  it('keeps a stored commit index and an applied index at or after the snapshot', () => {
    const storage = new MemoryStorage();
    storage.append(makeEntries(1, [1, 1, 2]));
    const log = new RaftLog(storage, 3, 2);
    expect(log.committed).toBe(3);
    expect(log.applied).toBe(2);
    expect(log.applying).toBe(2);
  });

  it('starts a bootstrapped node at the bootstrap snapshot', () => {
    const storage = new MemoryStorage();
    storage.bootstrap({ ...EMPTY_CONFIGURATION, voters: [1] });
    const log = new RaftLog(storage, storage.initialState().hardState.commitIndex, null);
    expect(log.firstIndex()).toBe(2);
    expect(log.lastIndex()).toBe(1);
    expect(log.lastTerm()).toBe(1);
    expect(log.committed).toBe(1);
  });

  it('asserts on a commit beyond the stored log or an applied index below the snapshot', () => {
    const storage = new MemoryStorage();
    storage.append(makeEntries(1, [1, 1, 2]));
    expect(() => new RaftLog(storage, 4, null)).toThrow(AssertionError);
    storage.createSnapshot(2, EMPTY_CONFIGURATION, new Uint8Array(0));
    expect(() => new RaftLog(storage, 2, 1)).toThrow(AssertionError);
  });
});

describe('RaftLog.term', () => {
  it('reads the snapshot, storage and unstable terms and nothing outside the log', () => {
    const { log } = buildExampleLog();
    expect(log.firstIndex()).toBe(4);
    expect(log.lastIndex()).toBe(7);
    expect(log.term(0)).toBeNull();
    expect(log.term(2)).toBeNull();
    expect(log.term(3)).toBe(2);
    expect(log.term(4)).toBe(2);
    expect(log.term(5)).toBe(3);
    expect(log.term(6)).toBe(3);
    expect(log.term(7)).toBe(4);
    expect(log.term(8)).toBeNull();
    expect(log.lastTerm()).toBe(4);
    expect(log.matchTerm(5, 3)).toBe(true);
    expect(log.matchTerm(5, 2)).toBe(false);
    expect(log.matchTerm(8, 4)).toBe(false);
  });

  it('prefers an unstable tail that replaced stored entries', () => {
    const { log } = buildExampleLog();
    log.append([makeEntry(5, 9)]);
    expect(log.unstable.offset).toBe(5);
    expect(log.lastIndex()).toBe(5);
    expect(log.term(4)).toBe(2);
    expect(log.term(5)).toBe(9);
    expect(log.term(6)).toBeNull();
    expect(log.lastTerm()).toBe(9);
  });

  it('knows only the term of a pending snapshot once one is restored', () => {
    const { log } = buildExampleLog();
    log.restore(makeSnapshot(10, 6));
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(10);
    expect(log.term(10)).toBe(6);
    expect(log.term(9)).toBeNull();
    expect(log.term(5)).toBeNull();
    expect(log.term(3)).toBeNull();
    expect(log.term(11)).toBeNull();
    expect(log.lastTerm()).toBe(6);
  });
});

describe('RaftLog.isUpToDate', () => {
  // The log ends at index 3, term 3 (§5.4.1: compare last terms, then last indexes).
  const cases: [LogIndex, Term, boolean][] = [
    [2, 4, true],
    [3, 4, true],
    [4, 4, true],
    [2, 2, false],
    [3, 2, false],
    [4, 2, false],
    [2, 3, false],
    [3, 3, true],
    [4, 3, true],
  ];
  it.each(cases)('candidate last entry %i at term %i is up to date: %s', (index, term, want) => {
    const { log } = buildLog({
      entries: makeEntries(1, [1, 2, 3]),
      snapshotIndex: 0,
      unstableFirstIndex: 3,
    });
    expect(log.isUpToDate(index, term)).toBe(want);
  });
});

interface MaybeAppendCase {
  readonly name: string;
  readonly prevLogTerm: Term;
  readonly prevLogIndex: LogIndex;
  readonly leaderCommit: LogIndex;
  readonly entries: readonly Entry[];
  /** The returned lastNewIndex, or null for a mismatch, or 'assertion'. */
  readonly want: LogIndex | null | 'assertion';
  readonly wantCommitted: LogIndex;
}

// The log holds 1/1, 2/2, 3/3 with commit 1 (after etcd's TestLogMaybeAppend).
const MAYBE_APPEND_CASES: readonly MaybeAppendCase[] = [
  {
    name: 'rejects a previous term that differs',
    prevLogTerm: 2,
    prevLogIndex: 3,
    leaderCommit: 3,
    entries: [makeEntry(4, 4)],
    want: null,
    wantCommitted: 1,
  },
  {
    name: 'rejects a previous index beyond the log',
    prevLogTerm: 3,
    prevLogIndex: 4,
    leaderCommit: 3,
    entries: [makeEntry(5, 4)],
    want: null,
    wantCommitted: 1,
  },
  {
    name: 'matches the last entry with no new entries',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 3,
    entries: [],
    want: 3,
    wantCommitted: 3,
  },
  {
    name: 'does not commit beyond the last new index',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 4,
    entries: [],
    want: 3,
    wantCommitted: 3,
  },
  {
    name: 'commits up to the leader commit',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 2,
    entries: [],
    want: 3,
    wantCommitted: 2,
  },
  {
    name: 'never decreases the commit index',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 0,
    entries: [],
    want: 3,
    wantCommitted: 1,
  },
  {
    name: 'matches the empty prefix without decreasing the commit index',
    prevLogTerm: 0,
    prevLogIndex: 0,
    leaderCommit: 3,
    entries: [],
    want: 0,
    wantCommitted: 1,
  },
  {
    name: 'appends after the last entry and commits below the new entry',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 3,
    entries: [makeEntry(4, 4)],
    want: 4,
    wantCommitted: 3,
  },
  {
    name: 'appends and commits the new entry',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 4,
    entries: [makeEntry(4, 4)],
    want: 4,
    wantCommitted: 4,
  },
  {
    name: 'appends and commits no further than the new entry',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 5,
    entries: [makeEntry(4, 4)],
    want: 4,
    wantCommitted: 4,
  },
  {
    name: 'appends two entries and commits both',
    prevLogTerm: 3,
    prevLogIndex: 3,
    leaderCommit: 5,
    entries: [makeEntry(4, 4), makeEntry(5, 4)],
    want: 5,
    wantCommitted: 5,
  },
  {
    name: 'replaces a conflicting last entry',
    prevLogTerm: 2,
    prevLogIndex: 2,
    leaderCommit: 3,
    entries: [makeEntry(3, 4)],
    want: 3,
    wantCommitted: 3,
  },
  {
    name: 'truncates from a conflicting middle entry',
    prevLogTerm: 1,
    prevLogIndex: 1,
    leaderCommit: 3,
    entries: [makeEntry(2, 4)],
    want: 2,
    wantCommitted: 2,
  },
  {
    name: 'asserts on a conflict with a committed entry',
    prevLogTerm: 0,
    prevLogIndex: 0,
    leaderCommit: 3,
    entries: [makeEntry(1, 4)],
    want: 'assertion',
    wantCommitted: 1,
  },
  {
    name: 'replaces a conflicting suffix with a run of the same length',
    prevLogTerm: 1,
    prevLogIndex: 1,
    leaderCommit: 3,
    entries: [makeEntry(2, 4), makeEntry(3, 4)],
    want: 3,
    wantCommitted: 3,
  },
];

/** Where the three entries of the maybeAppend examples live. */
const MAYBE_APPEND_LAYOUTS: readonly [string, LogIndex][] = [
  ['all stored', 4],
  ['stored and unstable', 3],
  ['all unstable', 1],
];

describe.each(MAYBE_APPEND_LAYOUTS)('RaftLog.maybeAppend with entries %s', (_, unstableFirst) => {
  it.each(MAYBE_APPEND_CASES)('$name', (testCase) => {
    const { log } = buildLog({
      entries: makeEntries(1, [1, 2, 3]),
      snapshotIndex: 0,
      unstableFirstIndex: unstableFirst,
    });
    log.commitTo(1);
    const { prevLogIndex, prevLogTerm, leaderCommit, entries } = testCase;
    if (testCase.want === 'assertion') {
      expect(() => log.maybeAppend(prevLogIndex, prevLogTerm, leaderCommit, entries)).toThrow(
        AssertionError,
      );
    } else {
      const lastNewIndex = log.maybeAppend(prevLogIndex, prevLogTerm, leaderCommit, entries);
      expect(lastNewIndex).toBe(testCase.want);
      if (lastNewIndex !== null && entries.length > 0) {
        expect(log.slice(prevLogIndex + 1, lastNewIndex + 1, Infinity)).toEqual(entries);
      }
    }
    expect(log.committed).toBe(testCase.wantCommitted);
  });
});

describe('RaftLog.maybeAppend', () => {
  it('keeps entries after a matching run: a delayed shorter request truncates nothing', () => {
    const { log } = buildLog({
      entries: makeEntries(1, [1, 2, 3, 3]),
      snapshotIndex: 0,
      unstableFirstIndex: 3,
    });
    expect(log.maybeAppend(1, 1, 0, [makeEntry(2, 2)])).toBe(2);
    expect(log.lastIndex()).toBe(4);
    expect(log.unstable.offset).toBe(3);
    expect(log.term(4)).toBe(3);
  });

  it('appends only the entries after the last matching one', () => {
    const { log } = buildLog({
      entries: makeEntries(1, [1, 2, 3]),
      snapshotIndex: 0,
      unstableFirstIndex: 2,
    });
    const originalThird = log.slice(3, 4, Infinity);
    expect(log.maybeAppend(1, 1, 0, makeEntries(2, [2, 3, 4, 4], 5))).toBe(5);
    expect(log.slice(3, 4, Infinity)).toEqual(originalThird);
    expect(indexTermPairs(log.slice(2, 6, Infinity))).toEqual([
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 4],
    ]);
  });

  it('rejects a previous entry below the snapshot and accepts one at it', () => {
    const { log } = buildExampleLog();
    expect(log.maybeAppend(2, 1, 0, [])).toBeNull();
    expect(log.maybeAppend(3, 2, 0, [])).toBe(3);
  });

  it('truncates stored entries through the unstable tail', () => {
    const { log } = buildExampleLog();
    expect(log.maybeAppend(4, 2, 5, makeEntries(5, [5, 5]))).toBe(6);
    expect(log.unstable.offset).toBe(5);
    expect(log.lastIndex()).toBe(6);
    expect(indexTermPairs(log.slice(4, 7, Infinity))).toEqual([
      [4, 2],
      [5, 5],
      [6, 5],
    ]);
    expect(log.committed).toBe(5);
  });
});

describe('RaftLog.findConflictByTerm', () => {
  // entries 1..5 at terms 2,2,5,5,5 after an empty snapshot (etcd's TestFindConflictByTerm).
  const fromStart: [LogIndex, Term, LogIndex][] = [
    [100, 2, 100],
    [5, 6, 5],
    [5, 5, 5],
    [5, 4, 2],
    [5, 2, 2],
    [5, 1, 0],
    [1, 2, 1],
    [1, 1, 0],
    [0, 0, 0],
  ];
  it.each(fromStart)('from the start: index %i, term %i gives %i', (index, term, want) => {
    const { log } = buildLog({
      entries: makeEntries(1, [2, 2, 5, 5, 5]),
      snapshotIndex: 0,
      unstableFirstIndex: 4,
    });
    expect(log.findConflictByTerm(index, term)).toBe(want);
  });

  // A snapshot at 10, term 3, then entries 11..15 at terms 3,3,4,4,4.
  const afterSnapshot: [LogIndex, Term, LogIndex][] = [
    [30, 3, 30],
    [14, 9, 14],
    [14, 4, 14],
    [14, 3, 12],
    [14, 2, 9],
    [11, 5, 11],
    [10, 5, 10],
    [10, 3, 10],
    [10, 2, 9],
    [9, 2, 9],
    [4, 2, 4],
    [0, 0, 0],
  ];
  it.each(afterSnapshot)('after a snapshot: index %i, term %i gives %i', (index, term, want) => {
    const storage = new MemoryStorage();
    storage.applySnapshot(makeSnapshot(10, 3));
    storage.append(makeEntries(11, [3, 3]));
    const log = new RaftLog(storage, 10, null);
    log.append(makeEntries(13, [4, 4, 4]));
    expect(log.findConflictByTerm(index, term)).toBe(want);
  });
});

describe('RaftLog.slice', () => {
  it('reads storage, the unstable tail, or both, and reports compacted entries', () => {
    const { log } = buildExampleLog();
    expect(log.slice(3, 5, Infinity)).toBe('compacted');
    expect(log.slice(2, 8, Infinity)).toBe('compacted');
    expect(log.slice(4, 4, Infinity)).toEqual([]);
    expect(log.slice(3, 3, Infinity)).toEqual([]);
    expect(indexTermPairs(log.slice(4, 6, Infinity))).toEqual([
      [4, 2],
      [5, 3],
    ]);
    expect(indexTermPairs(log.slice(5, 7, Infinity))).toEqual([
      [5, 3],
      [6, 3],
    ]);
    expect(indexTermPairs(log.slice(6, 8, Infinity))).toEqual([
      [6, 3],
      [7, 4],
    ]);
    expect(indexTermPairs(log.slice(4, 8, Infinity))).toEqual([
      [4, 2],
      [5, 3],
      [6, 3],
      [7, 4],
    ]);
  });

  it('asserts on a range beyond the last entry', () => {
    const { log } = buildExampleLog();
    expect(() => log.slice(4, 9, Infinity)).toThrow(AssertionError);
    expect(() => log.slice(8, 9, Infinity)).toThrow(AssertionError);
  });

  it('caps bytes across the storage/unstable boundary and returns at least one entry', () => {
    const { log } = buildExampleLog();
    expect(indexTermPairs(log.slice(4, 8, 0))).toEqual([[4, 2]]);
    expect(indexTermPairs(log.slice(4, 8, ENTRY_BYTES))).toEqual([[4, 2]]);
    expect(log.slice(4, 8, ENTRY_BYTES * 2)).toHaveLength(2);
    expect(log.slice(4, 8, ENTRY_BYTES * 3 - 1)).toHaveLength(2);
    expect(indexTermPairs(log.slice(4, 8, ENTRY_BYTES * 3))).toEqual([
      [4, 2],
      [5, 3],
      [6, 3],
    ]);
    expect(log.slice(4, 8, ENTRY_BYTES * 4)).toHaveLength(4);
    expect(log.slice(5, 8, ENTRY_BYTES)).toHaveLength(1);
    expect(log.slice(5, 8, ENTRY_BYTES * 2)).toHaveLength(2);
    expect(log.slice(6, 8, 0)).toHaveLength(1);
    expect(log.slice(6, 8, ENTRY_BYTES * 2)).toHaveLength(2);
  });

  it('returns the unstable entries that replaced stored ones, not the stored ones', () => {
    const { log } = buildExampleLog();
    log.append([makeEntry(5, 9, 7)]);
    expect(log.slice(4, 6, Infinity)).toEqual([makeEntry(4, 2), makeEntry(5, 9, 7)]);
  });
});

describe('RaftLog commits', () => {
  it('commitTo never decreases and asserts beyond the last entry', () => {
    const { log } = buildExampleLog();
    log.commitTo(6);
    expect(log.committed).toBe(6);
    log.commitTo(4);
    expect(log.committed).toBe(6);
    expect(() => log.commitTo(8)).toThrow(AssertionError);
    expect(log.committed).toBe(6);
  });

  it('maybeCommit commits only an entry of the given term beyond the commit index', () => {
    const { log } = buildExampleLog();
    expect(log.maybeCommit(6, 4)).toBe(false);
    expect(log.committed).toBe(3);
    expect(log.maybeCommit(6, 3)).toBe(true);
    expect(log.committed).toBe(6);
    expect(log.maybeCommit(5, 3)).toBe(false);
    expect(log.maybeCommit(8, 4)).toBe(false);
    expect(log.committed).toBe(6);
  });

  it('append asserts at or below the commit index', () => {
    const { log } = buildExampleLog();
    log.commitTo(5);
    expect(() => log.append([makeEntry(5, 9)])).toThrow(AssertionError);
    expect(log.append([makeEntry(6, 9)])).toBe(6);
    expect(log.append([])).toBe(6);
  });
});

describe('RaftLog.nextCommittedEntries', () => {
  it('hands out committed entries after the applying index, capped by bytes', () => {
    const { log } = buildExampleLog();
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries(Infinity)).toEqual([]);
    log.commitTo(7);
    expect(log.hasNextCommittedEntries()).toBe(true);
    expect(indexTermPairs(log.nextCommittedEntries(Infinity))).toEqual([
      [4, 2],
      [5, 3],
      [6, 3],
      [7, 4],
    ]);
    expect(indexTermPairs(log.nextCommittedEntries(0))).toEqual([[4, 2]]);
    expect(log.nextCommittedEntries(ENTRY_BYTES * 3)).toHaveLength(3);
    log.applying = 5;
    expect(indexTermPairs(log.nextCommittedEntries(Infinity))).toEqual([
      [6, 3],
      [7, 4],
    ]);
    log.applying = 7;
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries(Infinity)).toEqual([]);
  });

  it('hands out only up to the commit index', () => {
    const { log } = buildExampleLog();
    log.commitTo(5);
    expect(indexTermPairs(log.nextCommittedEntries(Infinity))).toEqual([
      [4, 2],
      [5, 3],
    ]);
  });

  it('hands out nothing while an unstable snapshot is pending', () => {
    const { log, storage } = buildExampleLog();
    log.restore(makeSnapshot(10, 6));
    expect(log.committed).toBe(10);
    expect(log.applying).toBe(3);
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries(Infinity)).toEqual([]);
    log.append(makeEntries(11, [6, 6]));
    log.commitTo(12);
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries(Infinity)).toEqual([]);
    // The shell persists the snapshot and RawNode moves applying past it.
    const pending = log.unstable.snapshot;
    expect(pending).not.toBeNull();
    if (pending !== null) storage.applySnapshot(pending);
    log.unstable.stableSnapshotTo(10);
    log.applying = 10;
    log.applied = 10;
    expect(log.hasNextCommittedEntries()).toBe(true);
    expect(indexTermPairs(log.nextCommittedEntries(Infinity))).toEqual([
      [11, 6],
      [12, 6],
    ]);
  });
});

describe('RaftLog.restore', () => {
  it('makes the log exactly the snapshot and accepts entries after it', () => {
    const { log } = buildExampleLog();
    log.commitTo(5);
    const snapshot = makeSnapshot(20, 7);
    log.restore(snapshot);
    expect(log.unstable.snapshot).toBe(snapshot);
    expect(log.unstable.entries).toEqual([]);
    expect(log.firstIndex()).toBe(21);
    expect(log.lastIndex()).toBe(20);
    expect(log.lastTerm()).toBe(7);
    expect(log.committed).toBe(20);
    expect(log.slice(6, 8, Infinity)).toBe('compacted');
    expect(log.slice(21, 21, Infinity)).toEqual([]);
    expect(log.maybeAppend(7, 4, 20, [])).toBeNull();
    expect(log.maybeAppend(20, 7, 21, [makeEntry(21, 7)])).toBe(21);
    expect(log.committed).toBe(21);
    expect(indexTermPairs(log.slice(21, 22, Infinity))).toEqual([[21, 7]]);
  });

  it('restores a snapshot inside the current log, dropping the entries after it', () => {
    const { log } = buildExampleLog();
    log.restore(makeSnapshot(6, 3));
    expect(log.firstIndex()).toBe(7);
    expect(log.lastIndex()).toBe(6);
    expect(log.term(6)).toBe(3);
    expect(log.term(7)).toBeNull();
    expect(log.committed).toBe(6);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random layouts: compacted prefix, stored part, unstable tail.

interface RandomLayout extends LogLayout {
  readonly termsMax: Term;
}

const layoutArbitrary: fc.Arbitrary<RandomLayout> = fc
  .record({
    termIncrements: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 14, size: 'max' }),
    dataSizes: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 14, maxLength: 14 }),
    unstableSeed: fc.nat(),
    snapshotSeed: fc.nat(),
    staleStoredCount: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ termIncrements, dataSizes, unstableSeed, snapshotSeed, staleStoredCount }) => {
    let term = 1;
    const entries = termIncrements.map((increment, position) => {
      term += increment;
      return makeEntry(position + 1, term, position + 1, dataSizes[position] ?? 1);
    });
    const unstableFirstIndex = 1 + (unstableSeed % (entries.length + 1));
    const snapshotIndex = snapshotSeed % unstableFirstIndex;
    return { entries, unstableFirstIndex, snapshotIndex, staleStoredCount, termsMax: term };
  });

/** The term a correct log reports at index: known from the snapshot index to the last entry. */
function layoutTerm(layout: LogLayout, index: LogIndex): Term | null {
  if (index < layout.snapshotIndex || index > layout.entries.length) return null;
  if (index === 0) return 0;
  return layout.entries[index - 1]?.term ?? null;
}

/** The last (index, term) of the layout. */
function layoutLast(layout: LogLayout): [LogIndex, Term] {
  const lastIndex = Math.max(layout.entries.length, layout.snapshotIndex);
  return [lastIndex, layoutTerm(layout, lastIndex) ?? 0];
}

/** A string that sorts (term, index) pairs lexicographically, terms first. */
function orderKey(term: Term, index: LogIndex): string {
  return `${String(term).padStart(6, '0')}:${String(index).padStart(6, '0')}`;
}

describe('RaftLog properties over random layouts', () => {
  it('reports the indexes and terms of the layout', () => {
    fc.assert(
      fc.property(layoutArbitrary, (layout) => {
        const { log } = buildLog(layout);
        const [lastIndex, lastTerm] = layoutLast(layout);
        expect(log.firstIndex()).toBe(layout.snapshotIndex + 1);
        expect(log.lastIndex()).toBe(lastIndex);
        expect(log.lastTerm()).toBe(lastTerm);
        const indexes = Array.from({ length: lastIndex + 4 }, (_, index) => index);
        expect(indexes.map((index) => log.term(index))).toEqual(
          indexes.map((index) => layoutTerm(layout, index)),
        );
      }),
      { numRuns: 500, seed: 0x5eed_0101 },
    );
  });

  it('findConflictByTerm agrees with a brute-force scan', () => {
    fc.assert(
      fc.property(layoutArbitrary, fc.nat(), fc.nat(), (layout, indexSeed, termSeed) => {
        const { log } = buildLog(layout);
        const index = indexSeed % (layout.entries.length + 4);
        const term = termSeed % (layout.termsMax + 2);
        const candidates = Array.from({ length: index }, (_, position) => position + 1).filter(
          (candidate) => {
            const candidateTerm = layoutTerm(layout, candidate);
            return candidateTerm === null || candidateTerm <= term;
          },
        );
        const expected = candidates.length === 0 ? 0 : Math.max(...candidates);
        expect(log.findConflictByTerm(index, term)).toBe(expected);
      }),
      { numRuns: 1000, seed: 0x5eed_0102 },
    );
  });

  it('isUpToDate orders (lastTerm, lastIndex) pairs lexicographically', () => {
    fc.assert(
      fc.property(layoutArbitrary, fc.nat(), fc.nat(), (layout, indexSeed, termSeed) => {
        const { log } = buildLog(layout);
        const [ourLastIndex, ourLastTerm] = layoutLast(layout);
        const candidateIndex = indexSeed % (ourLastIndex + 4);
        const candidateTerm = termSeed % (layout.termsMax + 3);
        const candidateKey = orderKey(candidateTerm, candidateIndex);
        const ourKey = orderKey(ourLastTerm, ourLastIndex);
        expect(log.isUpToDate(candidateIndex, candidateTerm)).toBe(candidateKey >= ourKey);
      }),
      { numRuns: 1000, seed: 0x5eed_0103 },
    );
  });

  it('slice returns the layout entries of the range, cut by a cumulative byte cap', () => {
    fc.assert(
      fc.property(
        layoutArbitrary,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 400 }),
        (layout, lowSeed, lengthSeed, bytesMax) => {
          const { log } = buildLog(layout);
          const lastIndex = log.lastIndex();
          const low = 1 + (lowSeed % (lastIndex + 1));
          const high = low + (lengthSeed % (lastIndex + 2 - low));
          const actual = log.slice(low, high, bytesMax);
          if (low < high && low <= layout.snapshotIndex) {
            expect(actual).toBe('compacted');
            return;
          }
          const wanted = layout.entries.slice(low - 1, high - 1);
          const expected: Entry[] = [];
          let sizeBytes = 0;
          for (const entry of wanted) {
            sizeBytes += entrySizeBytes(entry);
            if (expected.length > 0 && sizeBytes > bytesMax) break;
            expected.push(entry);
          }
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 1000, seed: 0x5eed_0104 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Model-based replication: a follower receives appendRequests from a succession of leaders.

/** How one leader's log derives from the previous leader's. */
interface LeaderPlan {
  /** Entries of the previous leader's log this leader does not have. */
  readonly droppedCount: number;
  /** How far this leader's term is above every term used before. */
  readonly termJump: number;
  /** One new entry per element, which is the term increase before it (never negative). */
  readonly newTermIncrements: readonly number[];
}

const leaderPlanArbitrary: fc.Arbitrary<LeaderPlan> = fc.record({
  droppedCount: fc.integer({ min: 0, max: 8 }),
  termJump: fc.integer({ min: 1, max: 2 }),
  newTermIncrements: fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 8, size: 'max' }),
});

interface LeaderLogs {
  readonly logs: readonly (readonly Entry[])[];
  /**
   * For each leader, the highest index it may report as committed: the prefix of its log that
   * every later leader keeps (leader completeness, §5.4).
   */
  readonly commitMaxes: readonly LogIndex[];
}

/**
 * Leader logs where each keeps a prefix of the previous one and appends entries at fresh terms,
 * so an (index, term) pair names one entry (log matching, §5.3).
 */
function buildLeaderLogs(plans: readonly LeaderPlan[]): LeaderLogs {
  const logs: Entry[][] = [];
  const keptCounts: number[] = [];
  let log: Entry[] = [];
  let termsMax = 0;
  plans.forEach((plan, leaderPosition) => {
    if (leaderPosition > 0) {
      const keptCount = Math.max(0, log.length - plan.droppedCount);
      keptCounts.push(keptCount);
      log = log.slice(0, keptCount);
    }
    let term = termsMax + plan.termJump;
    for (const increment of plan.newTermIncrements) {
      term += increment;
      const index = log.length + 1;
      log.push(makeEntry(index, term, term * 16 + index, 2));
    }
    termsMax = term;
    logs.push(log);
  });
  const commitMaxes = logs.map((leaderLog, leaderPosition) =>
    Math.min(leaderLog.length, ...keptCounts.slice(leaderPosition)),
  );
  return { logs, commitMaxes };
}

type ReplicationStep =
  | {
      readonly kind: 'appendRequest';
      /** Whether prevLogIndex is near the follower's last index, as a probing leader picks. */
      readonly isNearFollowerEnd: boolean;
      readonly prevSeed: number;
      readonly countSeed: number;
      readonly commitSeed: number;
    }
  | { readonly kind: 'ready'; readonly countSeed: number }
  | { readonly kind: 'advance' }
  | { readonly kind: 'nextLeader' };

const replicationStepArbitrary: fc.Arbitrary<ReplicationStep> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('appendRequest' as const),
      isNearFollowerEnd: fc.boolean(),
      prevSeed: fc.nat(),
      countSeed: fc.nat(),
      commitSeed: fc.nat(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('ready' as const), countSeed: fc.nat() }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'advance' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'nextLeader' as const }) },
);

interface ReplicationRun {
  readonly leaders: LeaderLogs;
  readonly storage: MemoryStorage;
  readonly follower: RaftLog;
  leaderPosition: number;
  /** The naive follower log: apply each accepted appendRequest entry by entry. */
  modelLog: Entry[];
  modelCommitted: LogIndex;
  /** Unstable entries handed to the "shell" and not yet acknowledged. */
  captured: Entry[] | null;
}

function runAppendRequest(
  run: ReplicationRun,
  step: Extract<ReplicationStep, { kind: 'appendRequest' }>,
): void {
  const leaderLog = run.leaders.logs[run.leaderPosition] ?? [];
  const commitMax = run.leaders.commitMaxes[run.leaderPosition] ?? 0;
  const followerEnd = Math.min(run.follower.lastIndex(), leaderLog.length);
  const prevLogIndex = step.isNearFollowerEnd
    ? Math.max(0, followerEnd - (step.prevSeed % 3))
    : step.prevSeed % (leaderLog.length + 1);
  const count = step.countSeed % (leaderLog.length - prevLogIndex + 1);
  const entries = leaderLog.slice(prevLogIndex, prevLogIndex + count);
  const prevLogTerm = prevLogIndex === 0 ? 0 : (leaderLog[prevLogIndex - 1]?.term ?? 0);
  const leaderCommit = step.commitSeed % (commitMax + 1);
  const committedBefore = run.follower.committed;

  const lastNewIndex = run.follower.maybeAppend(prevLogIndex, prevLogTerm, leaderCommit, entries);

  const isModelMatch = prevLogIndex === 0 || run.modelLog[prevLogIndex - 1]?.term === prevLogTerm;
  if (!isModelMatch) {
    expect(lastNewIndex).toBeNull();
    expect(run.follower.committed).toBe(committedBefore);
    return;
  }
  expect(lastNewIndex).toBe(prevLogIndex + count);
  for (const entry of entries) {
    if (run.modelLog[entry.index - 1]?.term !== entry.term) {
      run.modelLog.length = entry.index - 1;
      run.modelLog.push(entry);
    }
  }
  const acceptedLastIndex = prevLogIndex + count;
  run.modelCommitted = Math.max(run.modelCommitted, Math.min(leaderCommit, acceptedLastIndex));
  expect(run.follower.slice(1, acceptedLastIndex + 1, Infinity)).toEqual(
    leaderLog.slice(0, acceptedLastIndex),
  );
  expect(run.follower.committed).toBeLessThanOrEqual(Math.max(committedBefore, acceptedLastIndex));
}

function runReplicationStep(run: ReplicationRun, step: ReplicationStep): void {
  switch (step.kind) {
    case 'appendRequest':
      runAppendRequest(run, step);
      return;
    case 'ready': {
      // Like RawNode.ready(): hand a prefix of the unstable entries to the shell.
      const unstableEntries = run.follower.unstable.entries;
      if (run.captured !== null || unstableEntries.length === 0) return;
      run.captured = unstableEntries.slice(0, 1 + (step.countSeed % unstableEntries.length));
      return;
    }
    case 'advance': {
      // The shell persisted the captured entries; acknowledge the last one (maybe stale now).
      const captured = run.captured;
      if (captured === null) return;
      run.captured = null;
      const last = captured[captured.length - 1];
      if (last === undefined) return;
      run.storage.append(captured);
      run.follower.unstable.stableTo(last.index, last.term);
      return;
    }
    case 'nextLeader':
      run.leaderPosition = Math.min(run.leaderPosition + 1, run.leaders.logs.length - 1);
      return;
  }
}

function expectFollowerAgrees(run: ReplicationRun, committedBefore: LogIndex): void {
  const { follower, modelLog } = run;
  expect(follower.firstIndex()).toBe(1);
  expect(follower.lastIndex()).toBe(modelLog.length);
  expect(follower.slice(1, follower.lastIndex() + 1, Infinity)).toEqual(modelLog);
  const indexes = Array.from({ length: modelLog.length + 2 }, (_, index) => index);
  expect(indexes.map((index) => follower.term(index))).toEqual(
    indexes.map((index) => (index === 0 ? 0 : (modelLog[index - 1]?.term ?? null))),
  );
  const { unstable } = follower;
  expect(unstable.offset).toBeLessThanOrEqual(run.storage.lastIndex() + 1);
  expect(unstable.entries.map((entry) => entry.index)).toEqual(
    unstable.entries.map((_, position) => unstable.offset + position),
  );
  expect(follower.committed).toBe(run.modelCommitted);
  expect(follower.committed).toBeGreaterThanOrEqual(committedBefore);
  expect(follower.committed).toBeLessThanOrEqual(follower.lastIndex());
  // Committed entries are the current leader's, hence every later leader's.
  const leaderLog = run.leaders.logs[run.leaderPosition] ?? [];
  expect(follower.slice(1, follower.committed + 1, Infinity)).toEqual(
    leaderLog.slice(0, follower.committed),
  );
}

describe('RaftLog replication model', () => {
  it('a follower fed appendRequests by successive leaders matches them and a naive log', () => {
    fc.assert(
      fc.property(
        fc.array(leaderPlanArbitrary, { minLength: 1, maxLength: 5, size: 'max' }),
        fc.array(replicationStepArbitrary, { maxLength: 80, size: 'max' }),
        (plans, steps) => {
          const storage = new MemoryStorage();
          const run: ReplicationRun = {
            leaders: buildLeaderLogs(plans),
            storage,
            follower: new RaftLog(storage, 0, null),
            leaderPosition: 0,
            modelLog: [],
            modelCommitted: 0,
            captured: null,
          };
          for (const step of steps) {
            const committedBefore = run.follower.committed;
            runReplicationStep(run, step);
            expectFollowerAgrees(run, committedBefore);
          }
        },
      ),
      { numRuns: 400, seed: 0x5eed_0105 },
    );
  });
});
