/** Tests for UnstableLog: examples, then a model-based property against a plain Map. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError, type LogIndex, type Term } from '../common/index.js';
import { EMPTY_CONFIGURATION } from './configuration.js';
import type { Entry, Snapshot } from './entry.js';
import { UnstableLog } from './unstable-log.js';

/** A normal entry whose data records `payload`, so replaced entries differ from the originals. */
function makeEntry(index: LogIndex, term: Term, payload = 0): Entry {
  return { kind: 'normal', index, term, data: new Uint8Array([payload & 0xff, payload >> 8]) };
}

/** Entries at consecutive indexes from `firstIndex`, one per term given. */
function makeEntries(firstIndex: LogIndex, terms: readonly Term[], payload = 0): Entry[] {
  return terms.map((term, position) => makeEntry(firstIndex + position, term, payload));
}

function makeSnapshot(index: LogIndex, term: Term): Snapshot {
  return {
    metadata: { index, term, configuration: EMPTY_CONFIGURATION },
    data: new Uint8Array(0),
  };
}

/** (index, term) pairs of the entries, for compact comparisons. */
function indexTermPairs(entries: readonly Entry[]): [LogIndex, Term][] {
  return entries.map((entry) => [entry.index, entry.term]);
}

describe('UnstableLog construction and lookups', () => {
  it('starts empty right after the last stored index', () => {
    const unstable = new UnstableLog(5);
    expect(unstable.offset).toBe(6);
    expect(unstable.entries).toEqual([]);
    expect(unstable.snapshot).toBeNull();
    expect(unstable.maybeFirstIndex()).toBeNull();
    expect(unstable.maybeLastIndex()).toBeNull();
    expect(unstable.maybeTerm(5)).toBeNull();
    expect(unstable.maybeTerm(6)).toBeNull();
  });

  it('knows the terms of its entries and nothing outside them', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [2, 2, 3]));
    expect(unstable.maybeFirstIndex()).toBeNull();
    expect(unstable.maybeLastIndex()).toBe(8);
    expect(unstable.maybeTerm(5)).toBeNull();
    expect(unstable.maybeTerm(6)).toBe(2);
    expect(unstable.maybeTerm(7)).toBe(2);
    expect(unstable.maybeTerm(8)).toBe(3);
    expect(unstable.maybeTerm(9)).toBeNull();
  });

  it('knows the term at a pending snapshot index but not below it', () => {
    const unstable = new UnstableLog(5);
    unstable.restore(makeSnapshot(10, 4));
    expect(unstable.maybeFirstIndex()).toBe(11);
    expect(unstable.maybeLastIndex()).toBe(10);
    expect(unstable.maybeTerm(10)).toBe(4);
    expect(unstable.maybeTerm(9)).toBeNull();
    expect(unstable.maybeTerm(11)).toBeNull();
    unstable.truncateAndAppend(makeEntries(11, [5, 5]));
    expect(unstable.maybeFirstIndex()).toBe(11);
    expect(unstable.maybeLastIndex()).toBe(12);
    expect(unstable.maybeTerm(10)).toBe(4);
    expect(unstable.maybeTerm(12)).toBe(5);
  });
});

describe('UnstableLog.truncateAndAppend', () => {
  it('appends directly after the last entry', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1]));
    unstable.truncateAndAppend(makeEntries(8, [2, 2]));
    expect(unstable.offset).toBe(6);
    expect(indexTermPairs(unstable.entries)).toEqual([
      [6, 1],
      [7, 1],
      [8, 2],
      [9, 2],
    ]);
  });

  it('ignores an empty batch', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1]));
    unstable.truncateAndAppend([]);
    expect(unstable.offset).toBe(6);
    expect(indexTermPairs(unstable.entries)).toEqual([[6, 1]]);
  });

  it('replaces the whole tail when the batch starts at the offset', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1, 1]));
    unstable.truncateAndAppend(makeEntries(6, [2]));
    expect(unstable.offset).toBe(6);
    expect(indexTermPairs(unstable.entries)).toEqual([[6, 2]]);
  });

  it('replaces the whole tail and moves the offset down when the batch starts below it', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1, 1]));
    unstable.truncateAndAppend(makeEntries(4, [2, 2]));
    expect(unstable.offset).toBe(4);
    expect(indexTermPairs(unstable.entries)).toEqual([
      [4, 2],
      [5, 2],
    ]);
    expect(unstable.maybeTerm(6)).toBeNull();
    expect(unstable.maybeLastIndex()).toBe(5);
  });

  it('truncates in the middle and appends after the kept prefix', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1, 1, 1]));
    unstable.truncateAndAppend(makeEntries(8, [3, 3, 3]));
    expect(unstable.offset).toBe(6);
    expect(indexTermPairs(unstable.entries)).toEqual([
      [6, 1],
      [7, 1],
      [8, 3],
      [9, 3],
      [10, 3],
    ]);
  });

  it('does not alias the caller array when it replaces the tail', () => {
    const unstable = new UnstableLog(5);
    const batch = makeEntries(6, [1, 1]);
    unstable.truncateAndAppend(batch);
    unstable.truncateAndAppend(makeEntries(8, [1]));
    expect(batch).toHaveLength(2);
    expect(unstable.entries).toHaveLength(3);
  });

  it('asserts on a gap after the last entry', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1]));
    expect(() => unstable.truncateAndAppend(makeEntries(8, [1]))).toThrow(AssertionError);
    expect(indexTermPairs(unstable.entries)).toEqual([[6, 1]]);
  });
});

describe('UnstableLog.stableTo', () => {
  it('drops the entries up to a matching (index, term)', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1, 2]));
    unstable.stableTo(7, 1);
    expect(unstable.offset).toBe(8);
    expect(indexTermPairs(unstable.entries)).toEqual([[8, 2]]);
    unstable.stableTo(8, 2);
    expect(unstable.offset).toBe(9);
    expect(unstable.entries).toEqual([]);
    expect(unstable.maybeLastIndex()).toBeNull();
  });

  it('ignores a term that does not match', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1]));
    unstable.stableTo(7, 2);
    expect(unstable.offset).toBe(6);
    expect(unstable.entries).toHaveLength(2);
  });

  it('ignores an index below the offset or beyond the last entry', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1]));
    unstable.stableTo(5, 1);
    unstable.stableTo(8, 1);
    expect(unstable.offset).toBe(6);
    expect(unstable.entries).toHaveLength(2);
  });

  it('ignores a stale (index, term) after the tail was replaced', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1, 1]));
    // A Ready carried 6..8 at term 1; before it is acknowledged, a new leader replaces 7..
    unstable.truncateAndAppend(makeEntries(7, [2]));
    unstable.stableTo(8, 1);
    expect(unstable.offset).toBe(6);
    expect(indexTermPairs(unstable.entries)).toEqual([
      [6, 1],
      [7, 2],
    ]);
    unstable.stableTo(7, 1);
    expect(unstable.offset).toBe(6);
    expect(unstable.entries).toHaveLength(2);
  });

  it('ignores the index of a pending snapshot', () => {
    const unstable = new UnstableLog(5);
    unstable.restore(makeSnapshot(10, 4));
    unstable.stableTo(10, 4);
    expect(unstable.offset).toBe(11);
    expect(unstable.snapshot).not.toBeNull();
  });
});

describe('UnstableLog snapshots', () => {
  it('restore replaces every entry with the snapshot', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1, 1]));
    const snapshot = makeSnapshot(20, 3);
    unstable.restore(snapshot);
    expect(unstable.snapshot).toBe(snapshot);
    expect(unstable.entries).toEqual([]);
    expect(unstable.offset).toBe(21);
    expect(unstable.maybeTerm(7)).toBeNull();
  });

  it('restore to an index below the tail also drops the tail', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1, 1]));
    unstable.restore(makeSnapshot(7, 1));
    expect(unstable.offset).toBe(8);
    expect(unstable.entries).toEqual([]);
    expect(unstable.maybeLastIndex()).toBe(7);
  });

  it('stableSnapshotTo clears only the snapshot at that index', () => {
    const unstable = new UnstableLog(5);
    unstable.restore(makeSnapshot(10, 4));
    unstable.truncateAndAppend(makeEntries(11, [4]));
    unstable.stableSnapshotTo(9);
    expect(unstable.snapshot).not.toBeNull();
    unstable.stableSnapshotTo(10);
    expect(unstable.snapshot).toBeNull();
    expect(unstable.offset).toBe(11);
    expect(indexTermPairs(unstable.entries)).toEqual([[11, 4]]);
    expect(unstable.maybeFirstIndex()).toBeNull();
    expect(unstable.maybeTerm(10)).toBeNull();
  });

  it('stableSnapshotTo without a pending snapshot does nothing', () => {
    const unstable = new UnstableLog(5);
    unstable.stableSnapshotTo(5);
    expect(unstable.snapshot).toBeNull();
    expect(unstable.offset).toBe(6);
  });
});

describe('UnstableLog.slice', () => {
  it('returns the entries of a range inside the tail', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 2, 3, 4]));
    expect(indexTermPairs(unstable.slice(6, 10))).toEqual([
      [6, 1],
      [7, 2],
      [8, 3],
      [9, 4],
    ]);
    expect(indexTermPairs(unstable.slice(7, 9))).toEqual([
      [7, 2],
      [8, 3],
    ]);
    expect(unstable.slice(8, 8)).toEqual([]);
    expect(unstable.slice(10, 10)).toEqual([]);
  });

  it('returns a copy the caller may keep', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1]));
    const sliced = unstable.slice(6, 8);
    unstable.truncateAndAppend(makeEntries(6, [2]));
    expect(indexTermPairs(sliced)).toEqual([
      [6, 1],
      [7, 1],
    ]);
  });

  it('asserts on a range outside the tail', () => {
    const unstable = new UnstableLog(5);
    unstable.truncateAndAppend(makeEntries(6, [1, 1]));
    expect(() => unstable.slice(5, 7)).toThrow(AssertionError);
    expect(() => unstable.slice(6, 9)).toThrow(AssertionError);
    expect(() => unstable.slice(9, 9)).toThrow(AssertionError);
    expect(() => new UnstableLog(5).slice(6, 7)).toThrow(AssertionError);
  });
});

/** The obviously correct tail: a Map from index to entry, a snapshot marker and an offset. */
class MapModel {
  entries = new Map<LogIndex, Entry>();
  snapshot: { readonly index: LogIndex; readonly term: Term } | null = null;
  /** Where the next entry goes when the map is empty. */
  offsetWhenEmpty: LogIndex;

  constructor(lastStoredIndex: LogIndex) {
    this.offsetWhenEmpty = lastStoredIndex + 1;
  }

  offset(): LogIndex {
    return this.entries.size === 0 ? this.offsetWhenEmpty : Math.min(...this.entries.keys());
  }

  afterLast(): LogIndex {
    return this.entries.size === 0 ? this.offsetWhenEmpty : Math.max(...this.entries.keys()) + 1;
  }

  sortedEntries(): Entry[] {
    return [...this.entries.values()].sort((left, right) => left.index - right.index);
  }

  term(index: LogIndex): Term | null {
    const entry = this.entries.get(index);
    if (entry !== undefined) return entry.term;
    return this.snapshot !== null && this.snapshot.index === index ? this.snapshot.term : null;
  }
}

type UnstableStep =
  | { readonly kind: 'append'; readonly back: number; readonly terms: readonly Term[] }
  | { readonly kind: 'stableTo'; readonly isStale: boolean; readonly choice: number }
  | { readonly kind: 'restore'; readonly back: number; readonly term: Term }
  | { readonly kind: 'stableSnapshotTo'; readonly isCurrent: boolean; readonly index: LogIndex };

const unstableStepArbitrary: fc.Arbitrary<UnstableStep> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      back: fc.integer({ min: 0, max: 6 }),
      terms: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('stableTo' as const),
      isStale: fc.boolean(),
      choice: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('restore' as const),
      back: fc.integer({ min: -3, max: 6 }),
      term: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('stableSnapshotTo' as const),
      isCurrent: fc.boolean(),
      index: fc.integer({ min: 0, max: 30 }),
    }),
  },
);

interface UnstableRun {
  readonly unstable: UnstableLog;
  readonly model: MapModel;
  /** Every (index, term) ever appended, to produce stale stableTo calls. */
  readonly appended: { readonly index: LogIndex; readonly term: Term }[];
  payload: number;
}

function runUnstableStep(run: UnstableRun, step: UnstableStep): void {
  const { unstable, model } = run;
  switch (step.kind) {
    case 'append': {
      // Never at or below a pending snapshot (RaftLog appends only above the commit index).
      const lowest = model.snapshot === null ? 1 : model.snapshot.index + 1;
      const firstIndex = Math.max(lowest, model.afterLast() - step.back);
      run.payload++;
      const batch = makeEntries(firstIndex, step.terms, run.payload);
      unstable.truncateAndAppend(batch);
      for (const index of [...model.entries.keys()]) {
        if (index >= firstIndex) model.entries.delete(index);
      }
      for (const entry of batch) {
        model.entries.set(entry.index, entry);
        run.appended.push({ index: entry.index, term: entry.term });
      }
      return;
    }
    case 'stableTo': {
      const current = model.sortedEntries();
      const target =
        step.isStale || current.length === 0
          ? run.appended[step.choice % Math.max(1, run.appended.length)]
          : current[step.choice % current.length];
      if (target === undefined) return;
      unstable.stableTo(target.index, target.term);
      if (model.entries.get(target.index)?.term !== target.term) return;
      for (const index of [...model.entries.keys()]) {
        if (index <= target.index) model.entries.delete(index);
      }
      if (model.entries.size === 0) model.offsetWhenEmpty = target.index + 1;
      return;
    }
    case 'restore': {
      const index = Math.max(0, model.afterLast() - step.back);
      unstable.restore(makeSnapshot(index, step.term));
      model.entries.clear();
      model.snapshot = { index, term: step.term };
      model.offsetWhenEmpty = index + 1;
      return;
    }
    case 'stableSnapshotTo': {
      const index = step.isCurrent && model.snapshot !== null ? model.snapshot.index : step.index;
      unstable.stableSnapshotTo(index);
      if (model.snapshot?.index === index) model.snapshot = null;
      return;
    }
  }
}

function expectAgreesWithModel(unstable: UnstableLog, model: MapModel): void {
  const expectedEntries = model.sortedEntries();
  expect(unstable.entries).toEqual(expectedEntries);
  expect(unstable.offset).toBe(model.offset());
  expect(unstable.entries.map((entry) => entry.index)).toEqual(
    unstable.entries.map((_, position) => unstable.offset + position),
  );
  const expectedSnapshot = model.snapshot;
  expect(unstable.snapshot?.metadata.index ?? null).toBe(expectedSnapshot?.index ?? null);
  expect(unstable.snapshot?.metadata.term ?? null).toBe(expectedSnapshot?.term ?? null);
  if (expectedSnapshot !== null) expect(expectedSnapshot.index).toBeLessThan(unstable.offset);
  expect(unstable.maybeFirstIndex()).toBe(
    expectedSnapshot === null ? null : expectedSnapshot.index + 1,
  );
  const lastEntry = expectedEntries[expectedEntries.length - 1];
  expect(unstable.maybeLastIndex()).toBe(lastEntry?.index ?? expectedSnapshot?.index ?? null);
  const indexes = Array.from({ length: model.afterLast() + 3 }, (_, index) => index);
  expect(indexes.map((index) => unstable.maybeTerm(index))).toEqual(
    indexes.map((index) => model.term(index)),
  );
  expect(unstable.slice(unstable.offset, model.afterLast())).toEqual(expectedEntries);
}

describe('UnstableLog model', () => {
  it('agrees with a Map of entries and a snapshot marker after every step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.array(unstableStepArbitrary, { maxLength: 60, size: 'max' }),
        (lastStoredIndex, steps) => {
          const run: UnstableRun = {
            unstable: new UnstableLog(lastStoredIndex),
            model: new MapModel(lastStoredIndex),
            appended: [],
            payload: 0,
          };
          for (const step of steps) {
            runUnstableStep(run, step);
            expectAgreesWithModel(run.unstable, run.model);
          }
        },
      ),
      { numRuns: 500, seed: 0x5eed_0001 },
    );
  });
});
