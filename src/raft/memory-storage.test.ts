/** Tests for MemoryStorage: bootstrap, appends, byte-capped reads, terms, snapshots, clones. */
import { describe, expect, it } from 'vitest';
import { AssertionError, type LogIndex, type Term } from '../common/index.js';
import { type ConfigurationState, EMPTY_CONFIGURATION } from './configuration.js';
import { EMPTY_HARD_STATE, type Entry, entrySizeBytes, type Snapshot } from './entry.js';
import { MemoryStorage } from './memory-storage.js';

const THREE_VOTERS: ConfigurationState = { ...EMPTY_CONFIGURATION, voters: [1, 2, 3] };

/** A normal entry with `dataBytes` bytes of data recording `payload`. */
function makeEntry(index: LogIndex, term: Term, payload = 0, dataBytes = 2): Entry {
  const data = new Uint8Array(dataBytes);
  data.fill(payload & 0xff);
  return { kind: 'normal', index, term, data };
}

function makeEntries(firstIndex: LogIndex, terms: readonly Term[], payload = 0): Entry[] {
  return terms.map((term, position) => makeEntry(firstIndex + position, term, payload));
}

function makeSnapshot(index: LogIndex, term: Term, configuration = EMPTY_CONFIGURATION): Snapshot {
  return { metadata: { index, term, configuration }, data: new Uint8Array([index & 0xff]) };
}

function indexTermPairs(entries: readonly Entry[] | 'compacted'): [LogIndex, Term][] | 'compacted' {
  return entries === 'compacted' ? entries : entries.map((entry) => [entry.index, entry.term]);
}

/** Storage holding entries 1..terms.length with the given terms. */
function storageWith(terms: readonly Term[]): MemoryStorage {
  const storage = new MemoryStorage();
  storage.append(makeEntries(1, terms));
  return storage;
}

describe('MemoryStorage when empty', () => {
  it('holds the empty snapshot at index 0, term 0, and the empty hard state', () => {
    const storage = new MemoryStorage();
    expect(storage.firstIndex()).toBe(1);
    expect(storage.lastIndex()).toBe(0);
    expect(storage.term(0)).toBe(0);
    expect(storage.term(1)).toBe('unavailable');
    expect(storage.entries(1, 1, 100)).toEqual([]);
    expect(storage.snapshot().metadata.index).toBe(0);
    expect(storage.initialState()).toEqual({
      hardState: EMPTY_HARD_STATE,
      configuration: EMPTY_CONFIGURATION,
    });
  });

  it('records the hard state it is given', () => {
    const storage = new MemoryStorage();
    const hardState = { term: 3, votedFor: 2, commitIndex: 0 };
    storage.setHardState(hardState);
    expect(storage.initialState().hardState).toEqual(hardState);
  });
});

describe('MemoryStorage.bootstrap', () => {
  it('starts the log with a snapshot at index 1, term 1, holding the membership', () => {
    const storage = new MemoryStorage();
    storage.bootstrap(THREE_VOTERS);
    expect(storage.firstIndex()).toBe(2);
    expect(storage.lastIndex()).toBe(1);
    expect(storage.term(1)).toBe(1);
    expect(storage.term(0)).toBe('compacted');
    expect(storage.term(2)).toBe('unavailable');
    expect(storage.entries(1, 2, 100)).toBe('compacted');
    const snapshot = storage.snapshot();
    expect(snapshot.metadata).toEqual({ index: 1, term: 1, configuration: THREE_VOTERS });
    expect(snapshot.data.byteLength).toBe(0);
    expect(storage.initialState()).toEqual({
      hardState: { term: 1, votedFor: 0, commitIndex: 1 },
      configuration: THREE_VOTERS,
    });
  });

  it('accepts entries right after the bootstrap snapshot', () => {
    const storage = new MemoryStorage();
    storage.bootstrap(THREE_VOTERS);
    storage.append(makeEntries(2, [2, 2]));
    expect(storage.lastIndex()).toBe(3);
    expect(indexTermPairs(storage.entries(2, 4, 100))).toEqual([
      [2, 2],
      [3, 2],
    ]);
  });

  it('asserts on storage that is not empty', () => {
    const storage = storageWith([1]);
    expect(() => storage.bootstrap(THREE_VOTERS)).toThrow(AssertionError);
    const bootstrapped = new MemoryStorage();
    bootstrapped.bootstrap(THREE_VOTERS);
    expect(() => bootstrapped.bootstrap(THREE_VOTERS)).toThrow(AssertionError);
  });
});

describe('MemoryStorage.append', () => {
  it('appends after the last entry', () => {
    const storage = storageWith([1, 1]);
    storage.append(makeEntries(3, [2]));
    expect(storage.lastIndex()).toBe(3);
    expect(indexTermPairs(storage.entries(1, 4, Infinity))).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
  });

  it('replaces the stored entries at the same and higher indexes', () => {
    const storage = storageWith([1, 1, 1, 1]);
    storage.append(makeEntries(2, [3], 7));
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(2)).toBe(3);
    expect(storage.term(3)).toBe('unavailable');
    expect(storage.entries(2, 3, Infinity)).toEqual([makeEntry(2, 3, 7)]);
  });

  it('overwrites a suffix with a longer run', () => {
    const storage = storageWith([1, 1, 1]);
    storage.append(makeEntries(3, [2, 2, 2]));
    expect(indexTermPairs(storage.entries(1, 6, Infinity))).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 2],
    ]);
  });

  it('ignores entries at or below the snapshot and keeps the rest', () => {
    const storage = storageWith([1, 1, 2, 2]);
    storage.createSnapshot(3, EMPTY_CONFIGURATION, new Uint8Array(0));
    storage.append(makeEntries(1, [1, 1]));
    expect(storage.firstIndex()).toBe(4);
    expect(storage.lastIndex()).toBe(4);
    storage.append(makeEntries(2, [1, 2, 3, 3]));
    expect(storage.firstIndex()).toBe(4);
    expect(indexTermPairs(storage.entries(4, 6, Infinity))).toEqual([
      [4, 3],
      [5, 3],
    ]);
  });

  it('ignores an empty batch', () => {
    const storage = storageWith([1, 1]);
    storage.append([]);
    expect(storage.lastIndex()).toBe(2);
  });

  it('asserts on a gap after the last entry and leaves the log unchanged', () => {
    const storage = storageWith([1, 1]);
    expect(() => storage.append(makeEntries(4, [1]))).toThrow(AssertionError);
    expect(storage.lastIndex()).toBe(2);
  });
});

describe('MemoryStorage.entries', () => {
  it('returns the range [low, high)', () => {
    const storage = storageWith([1, 1, 2, 3, 3]);
    expect(indexTermPairs(storage.entries(2, 5, Infinity))).toEqual([
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
    expect(storage.entries(3, 3, Infinity)).toEqual([]);
  });

  it('stops before the byte cap is exceeded', () => {
    const storage = storageWith([1, 1, 1, 1]);
    const entrySize = entrySizeBytes(makeEntry(1, 1));
    expect(storage.entries(1, 5, entrySize * 2)).toHaveLength(2);
    expect(storage.entries(1, 5, entrySize * 2 + 1)).toHaveLength(2);
    expect(storage.entries(1, 5, entrySize * 3 - 1)).toHaveLength(2);
    expect(storage.entries(1, 5, entrySize * 4)).toHaveLength(4);
  });

  it('always returns at least one entry, even above the byte cap', () => {
    const storage = new MemoryStorage();
    storage.append([makeEntry(1, 1, 0, 500), makeEntry(2, 1, 0, 1)]);
    expect(indexTermPairs(storage.entries(1, 3, 0))).toEqual([[1, 1]]);
    expect(indexTermPairs(storage.entries(1, 3, 10))).toEqual([[1, 1]]);
    expect(indexTermPairs(storage.entries(2, 3, 0))).toEqual([[2, 1]]);
  });

  it('counts sizes cumulatively from the first returned entry', () => {
    const storage = new MemoryStorage();
    storage.append([makeEntry(1, 1, 0, 10), makeEntry(2, 1, 0, 10), makeEntry(3, 1, 0, 100)]);
    const firstTwoBytes = entrySizeBytes(makeEntry(1, 1, 0, 10)) * 2;
    expect(storage.entries(1, 4, firstTwoBytes)).toHaveLength(2);
    expect(storage.entries(2, 4, firstTwoBytes)).toHaveLength(1);
  });

  it('reports compacted below the first index and asserts beyond the last', () => {
    const storage = storageWith([1, 1, 1, 1]);
    storage.createSnapshot(2, EMPTY_CONFIGURATION, new Uint8Array(0));
    expect(storage.entries(2, 4, Infinity)).toBe('compacted');
    expect(storage.entries(1, 3, Infinity)).toBe('compacted');
    expect(indexTermPairs(storage.entries(3, 5, Infinity))).toEqual([
      [3, 1],
      [4, 1],
    ]);
    expect(() => storage.entries(3, 6, Infinity)).toThrow(AssertionError);
  });
});

describe('MemoryStorage.term', () => {
  it('knows the snapshot term, reports compacted below it and unavailable beyond the last', () => {
    const storage = storageWith([1, 2, 2, 3, 4]);
    storage.createSnapshot(3, EMPTY_CONFIGURATION, new Uint8Array(0));
    expect(storage.term(1)).toBe('compacted');
    expect(storage.term(2)).toBe('compacted');
    expect(storage.term(3)).toBe(2);
    expect(storage.term(4)).toBe(3);
    expect(storage.term(5)).toBe(4);
    expect(storage.term(6)).toBe('unavailable');
  });
});

describe('MemoryStorage.createSnapshot', () => {
  it('takes the term of the entry at the index and compacts the log up to it', () => {
    const storage = storageWith([1, 1, 2, 2, 3]);
    const data = new Uint8Array([9]);
    const snapshot = storage.createSnapshot(4, THREE_VOTERS, data);
    expect(snapshot.metadata).toEqual({ index: 4, term: 2, configuration: THREE_VOTERS });
    expect(snapshot.data).toBe(data);
    expect(storage.snapshot()).toBe(snapshot);
    expect(storage.firstIndex()).toBe(5);
    expect(storage.lastIndex()).toBe(5);
    expect(indexTermPairs(storage.entries(5, 6, Infinity))).toEqual([[5, 3]]);
    expect(storage.initialState().configuration).toEqual(THREE_VOTERS);
  });

  it('can compact every entry', () => {
    const storage = storageWith([1, 1, 2]);
    storage.createSnapshot(3, EMPTY_CONFIGURATION, new Uint8Array(0));
    expect(storage.firstIndex()).toBe(4);
    expect(storage.lastIndex()).toBe(3);
    expect(storage.term(3)).toBe(2);
    storage.append(makeEntries(4, [3]));
    expect(storage.lastIndex()).toBe(4);
  });

  it('compacts twice, keeping the entries after the later snapshot', () => {
    const storage = storageWith([1, 1, 2, 2, 3, 3]);
    storage.createSnapshot(2, EMPTY_CONFIGURATION, new Uint8Array(0));
    storage.createSnapshot(4, EMPTY_CONFIGURATION, new Uint8Array(0));
    expect(storage.firstIndex()).toBe(5);
    expect(storage.term(4)).toBe(2);
    expect(indexTermPairs(storage.entries(5, 7, Infinity))).toEqual([
      [5, 3],
      [6, 3],
    ]);
  });

  it('asserts on an index at or below the snapshot or beyond the last entry', () => {
    const storage = storageWith([1, 1, 2]);
    storage.createSnapshot(2, EMPTY_CONFIGURATION, new Uint8Array(0));
    expect(() => storage.createSnapshot(2, EMPTY_CONFIGURATION, new Uint8Array(0))).toThrow(
      AssertionError,
    );
    expect(() => storage.createSnapshot(1, EMPTY_CONFIGURATION, new Uint8Array(0))).toThrow(
      AssertionError,
    );
    expect(() => storage.createSnapshot(4, EMPTY_CONFIGURATION, new Uint8Array(0))).toThrow(
      AssertionError,
    );
    expect(storage.firstIndex()).toBe(3);
  });
});

describe('MemoryStorage.applySnapshot', () => {
  it('replaces the whole log with a newer snapshot', () => {
    const storage = storageWith([1, 1, 2]);
    const snapshot = makeSnapshot(10, 4, THREE_VOTERS);
    storage.applySnapshot(snapshot);
    expect(storage.snapshot()).toBe(snapshot);
    expect(storage.firstIndex()).toBe(11);
    expect(storage.lastIndex()).toBe(10);
    expect(storage.term(10)).toBe(4);
    expect(storage.term(3)).toBe('compacted');
    expect(storage.initialState().configuration).toEqual(THREE_VOTERS);
    storage.append(makeEntries(11, [4]));
    expect(storage.lastIndex()).toBe(11);
  });

  it('drops stored entries beyond a newer snapshot inside the log', () => {
    const storage = storageWith([1, 1, 2, 2, 2]);
    storage.applySnapshot(makeSnapshot(3, 2));
    expect(storage.firstIndex()).toBe(4);
    expect(storage.lastIndex()).toBe(3);
    expect(storage.term(4)).toBe('unavailable');
  });

  it('ignores a snapshot at or below the current one', () => {
    const storage = storageWith([1, 1, 2, 2]);
    const current = storage.createSnapshot(3, EMPTY_CONFIGURATION, new Uint8Array(0));
    storage.applySnapshot(makeSnapshot(3, 9));
    storage.applySnapshot(makeSnapshot(2, 1));
    expect(storage.snapshot()).toBe(current);
    expect(storage.firstIndex()).toBe(4);
    expect(storage.lastIndex()).toBe(4);
    expect(storage.term(4)).toBe(2);
  });
});

describe('MemoryStorage.clone', () => {
  it('is unaffected by later appends, truncations and compactions of the original', () => {
    const original = storageWith([1, 1, 2, 2]);
    original.setHardState({ term: 2, votedFor: 1, commitIndex: 3 });
    const copy = original.clone();
    original.append(makeEntries(3, [5, 5, 5]));
    original.createSnapshot(4, THREE_VOTERS, new Uint8Array(0));
    original.setHardState({ term: 5, votedFor: 2, commitIndex: 4 });
    expect(copy.firstIndex()).toBe(1);
    expect(copy.lastIndex()).toBe(4);
    expect(indexTermPairs(copy.entries(1, 5, Infinity))).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
    ]);
    expect(copy.initialState()).toEqual({
      hardState: { term: 2, votedFor: 1, commitIndex: 3 },
      configuration: EMPTY_CONFIGURATION,
    });
  });

  it('does not affect the original when the copy changes', () => {
    const original = storageWith([1, 1, 2]);
    const copy = original.clone();
    copy.append(makeEntries(2, [3]));
    copy.applySnapshot(makeSnapshot(20, 6));
    copy.setHardState({ term: 6, votedFor: 3, commitIndex: 20 });
    expect(original.lastIndex()).toBe(3);
    expect(original.term(2)).toBe(1);
    expect(original.firstIndex()).toBe(1);
    expect(original.initialState().hardState).toEqual(EMPTY_HARD_STATE);
  });
});
