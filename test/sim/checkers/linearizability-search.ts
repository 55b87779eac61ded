/**
 * The search behind the linearizability checker: Wing & Gong's depth-first search over an event
 * list with Lowe's memoization, specialized to one register. It owns the search and its data
 * structures; it must not know about keys, clients or output formats, which stay in
 * `linearizability.ts`.
 */

import { assert } from '../../../src/common/index.js';

/** Register state index of "absent"; present values get indexes from 1. */
export const STATE_ABSENT = 0;

/**
 * One operation on the register, reduced to what the search needs. Invariant: `stateIndex` is
 * the state a write leaves behind, or the state a get requires; incomplete gets are not searched.
 */
export interface RegisterOperation {
  /** Breaks ties between equal times so the search is deterministic. */
  readonly id: number;
  readonly invokedAt: number;
  /** null: the outcome is unknown, so the operation returns at +infinity. */
  readonly completedAt: number | null;
  readonly isWrite: boolean;
  readonly stateIndex: number;
}

/** The deepest dead end of a failed search, for the explanation. */
export interface DeadEnd {
  /** Indexes (into the searched operations) linearized before the dead end, in order. */
  readonly prefix: readonly number[];
  /** The completed operation that had to be linearized next but could not be. */
  readonly stuckOperation: number;
  readonly state: number;
}

/** How a search ended. */
export type SearchOutcome =
  | { readonly kind: 'found' }
  | { readonly kind: 'exhausted'; readonly deepest: DeadEnd | null }
  | { readonly kind: 'budgetExhausted' };

/** What one attempt to extend the current configuration did. */
type StepOutcome = 'lifted' | 'deadEnd' | 'budgetExhausted';

/** One linearized operation on the search stack, with what lifting it overwrote. */
interface SearchFrame {
  readonly operation: number;
  readonly stateBefore: number;
  readonly mustReadNextBefore: boolean;
  /** Forced frames were the only choice in their configuration: backtracking passes them. */
  readonly isForced: boolean;
}

/**
 * The WGL search for one register; `run` it once. A call entry is a candidate to linearize next
 * while no return entry precedes it; reaching a return entry means that operation's deadline
 * passed without a legal placement, so the search backtracks. A configuration (linearized set,
 * register state, `mustReadNext`) already seen is a known failure (Lowe's memoization).
 *
 * Three reductions, all sound for a register, keep overlapping histories cheap:
 * - A candidate get that is legal now is linearized at once with no alternatives: a get does not
 *   change the state, and nothing pending must precede it, so moving it to the front of any
 *   valid completion keeps that completion valid.
 * - An incomplete write must be followed at once by a get of its value (`mustReadNext`): in any
 *   linearization where it is not, the next operation overwrites it or there is none, so
 *   dropping it ("never took effect") leaves every output intact.
 * - Incomplete writes of one value are used in invocation order (`earlierTwins`): an unused
 *   earlier twin can stand in for a later one anywhere, since neither has a deadline.
 *
 * Success is every completed operation linearized; remaining incomplete ones never took effect.
 */
export class RegisterSearch {
  private readonly events: EventList;
  private readonly linearized: Bitset;
  private readonly earlierTwins: ReadonlyArray<number | null>;
  private readonly configurationsSeen: ConfigurationSet;
  private readonly frames: SearchFrame[] = [];
  private state = STATE_ABSENT;
  private mustReadNext = false;
  private completedRemainingCount: number;
  private deepest: DeadEnd | null = null;

  constructor(
    private readonly operations: readonly RegisterOperation[],
    private readonly statesVisitedMax: number,
  ) {
    this.events = new EventList(operations);
    this.linearized = new Bitset(operations.length);
    this.configurationsSeen = new ConfigurationSet(this.linearized.words.length);
    this.earlierTwins = findEarlierTwins(operations);
    this.completedRemainingCount = operations.filter((op) => op.completedAt !== null).length;
  }

  /**
   * Searches for a linearization: 'found', 'exhausted' (none exists, with the deepest dead end)
   * or 'budgetExhausted' once more than `statesVisitedMax` configurations were seen.
   */
  run(): SearchOutcome {
    let resumeEntry: number | null = null;
    for (;;) {
      if (resumeEntry === null && this.completedRemainingCount === 0) return { kind: 'found' };
      const step = resumeEntry === null ? this.expandConfiguration() : this.scanWrites(resumeEntry);
      if (step === 'budgetExhausted') return { kind: 'budgetExhausted' };
      if (step === 'lifted') {
        resumeEntry = null;
        continue;
      }
      resumeEntry = this.backtrack();
      if (resumeEntry === null) return { kind: 'exhausted', deepest: this.deepest };
    }
  }

  /** Extends a configuration seen for the first time. */
  private expandConfiguration(): StepOutcome {
    const get = this.findLegalCandidateGet();
    if (get !== null) {
      const outcome = this.tryLift(get, true);
      return outcome === 'seen' ? 'deadEnd' : outcome;
    }
    if (this.mustReadNext) return 'deadEnd';
    return this.scanWrites(this.events.first());
  }

  /** The first candidate get whose output matches the current state, if any. */
  private findLegalCandidateGet(): number | null {
    for (let entry = this.events.first(); entry !== this.events.tail;) {
      if (!this.events.isCall(entry)) return null;
      const index = this.events.operationOf(entry);
      const operation = this.operationAt(index);
      if (!operation.isWrite && operation.stateIndex === this.state) return index;
      entry = this.events.next(entry);
    }
    return null;
  }

  /** Tries candidate writes from `entry` on, until one lifts or a deadline is reached. */
  private scanWrites(entry: number): StepOutcome {
    for (let current = entry; ; current = this.events.next(current)) {
      assert(current !== this.events.tail, 'a completed operation must have a return entry');
      const index = this.events.operationOf(current);
      if (!this.events.isCall(current)) {
        this.recordDeadEnd(index);
        return 'deadEnd';
      }
      const operation = this.operationAt(index);
      if (!operation.isWrite) continue;
      const earlierTwin = this.earlierTwins[index] ?? null;
      if (earlierTwin !== null && !this.linearized.has(earlierTwin)) continue;
      const outcome = this.tryLift(index, false);
      if (outcome !== 'seen') return outcome;
    }
  }

  /** Linearizes operation `index` next unless that configuration was already seen. */
  private tryLift(index: number, isForced: boolean): StepOutcome | 'seen' {
    const operation = this.operationAt(index);
    const stateNext = operation.isWrite ? operation.stateIndex : this.state;
    const isComplete = operation.completedAt !== null;
    const mustReadNext = operation.isWrite && !isComplete;
    this.linearized.set(index);
    // The tag packs the rest of the configuration: the register state and the flag.
    const tag = stateNext * 2 + (mustReadNext ? 1 : 0);
    if (!this.configurationsSeen.add(this.linearized.words, tag)) {
      this.linearized.clear(index);
      return 'seen';
    }
    if (this.configurationsSeen.size > this.statesVisitedMax) return 'budgetExhausted';
    this.frames.push({
      operation: index,
      stateBefore: this.state,
      mustReadNextBefore: this.mustReadNext,
      isForced,
    });
    this.state = stateNext;
    this.mustReadNext = mustReadNext;
    if (isComplete) this.completedRemainingCount -= 1;
    this.events.lift(index);
    return 'lifted';
  }

  /**
   * Undoes frames up to and including the latest unforced one and returns the entry after its
   * call, where its configuration's scan of writes resumes; null when nothing is left to undo.
   */
  private backtrack(): number | null {
    for (;;) {
      const frame = this.frames.pop();
      if (frame === undefined) return null;
      this.linearized.clear(frame.operation);
      this.state = frame.stateBefore;
      this.mustReadNext = frame.mustReadNextBefore;
      if (this.operationAt(frame.operation).completedAt !== null) {
        this.completedRemainingCount += 1;
      }
      this.events.unlift(frame.operation);
      if (!frame.isForced) return this.events.next(this.events.callEntryOf(frame.operation));
    }
  }

  private recordDeadEnd(stuckOperation: number): void {
    if (this.deepest !== null && this.frames.length <= this.deepest.prefix.length) return;
    const prefix = this.frames.map((frame) => frame.operation);
    this.deepest = { prefix, stuckOperation, state: this.state };
  }

  private operationAt(index: number): RegisterOperation {
    const operation = this.operations[index];
    assert(operation !== undefined, () => `no operation at index ${index}`);
    return operation;
  }
}

/** A fixed-size set of operation indexes: the linearized part of a configuration. */
class Bitset {
  /** Bit i of the set is bit (i % 32) of words[i / 32]. */
  readonly words: Uint32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  has(index: number): boolean {
    return ((this.words[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
  }

  set(index: number): void {
    this.words[index >>> 5] = (this.words[index >>> 5] ?? 0) | (1 << (index & 31));
  }

  clear(index: number): void {
    this.words[index >>> 5] = (this.words[index >>> 5] ?? 0) & ~(1 << (index & 31));
  }
}

/** Initial number of rows of a {@link ConfigurationSet}; it doubles as needed. */
const CONFIGURATION_ROWS_INITIAL = 1024;

/**
 * The memo of configurations seen (Lowe's cache): an open-addressing hash set of rows, each a
 * bitset's words plus one tag word, stored back to back in one growing array so that recording
 * a configuration allocates nothing in the common case. Comparison is exact: no false hits.
 */
class ConfigurationSet {
  private readonly rowWords: number;
  private rows: Uint32Array;
  /** Open-addressing table of row index + 1; 0 is empty. Load stays at most one half. */
  private slots: Int32Array;
  private rowCount = 0;

  constructor(bitsetWords: number) {
    this.rowWords = bitsetWords + 1;
    this.rows = new Uint32Array(this.rowWords * CONFIGURATION_ROWS_INITIAL);
    this.slots = new Int32Array(CONFIGURATION_ROWS_INITIAL * 2);
  }

  get size(): number {
    return this.rowCount;
  }

  /** Adds the row (words, tag) and returns true, or returns false if it was present. */
  add(words: Uint32Array, tag: number): boolean {
    if ((this.rowCount + 1) * this.rowWords > this.rows.length) {
      const grown = new Uint32Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    // The candidate is written as the next row, so lookup compares rows in place.
    const candidate = this.rowCount;
    this.rows.set(words, candidate * this.rowWords);
    this.rows[(candidate + 1) * this.rowWords - 1] = tag;
    const mask = this.slots.length - 1;
    let slot = this.hashRow(candidate) & mask;
    for (let row = this.slots[slot] ?? 0; row !== 0; row = this.slots[slot] ?? 0) {
      if (this.rowsEqual(row - 1, candidate)) return false;
      slot = (slot + 1) & mask;
    }
    this.slots[slot] = candidate + 1;
    this.rowCount += 1;
    if (this.rowCount * 2 > this.slots.length) this.rehash();
    return true;
  }

  private hashRow(row: number): number {
    let hash = 0x811c9dc5;
    for (let offset = row * this.rowWords; offset < (row + 1) * this.rowWords; offset++) {
      hash = Math.imul(hash ^ (this.rows[offset] ?? 0), 0x9e3779b1);
      hash ^= hash >>> 15;
    }
    hash = Math.imul(hash ^ (hash >>> 13), 0x85ebca6b);
    return (hash ^ (hash >>> 16)) >>> 0;
  }

  private rowsEqual(first: number, second: number): boolean {
    for (let word = 0; word < this.rowWords; word++) {
      if (this.rows[first * this.rowWords + word] !== this.rows[second * this.rowWords + word]) {
        return false;
      }
    }
    return true;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let row = 0; row < this.rowCount; row++) {
      let slot = this.hashRow(row) & mask;
      while ((this.slots[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = row + 1;
    }
  }
}

/**
 * The doubly linked list of call and return entries, ordered by time with calls before returns
 * at equal times, supporting O(1) removal ("lift") and reinsertion ("unlift") of an operation's
 * pair of entries, dancing-links style. Entries 2i and 2i+1 are operation i's call and return;
 * `head` and `tail` are sentinels.
 */
class EventList {
  readonly head: number;
  readonly tail: number;
  private readonly nextEntries: Int32Array;
  private readonly previousEntries: Int32Array;

  constructor(operations: readonly RegisterOperation[]) {
    const entryCount = operations.length * 2;
    this.head = entryCount;
    this.tail = entryCount + 1;
    this.nextEntries = new Int32Array(entryCount + 2);
    this.previousEntries = new Int32Array(entryCount + 2);
    const ordered = orderEntries(operations);
    let previous = this.head;
    for (const entry of ordered) {
      this.link(previous, entry);
      previous = entry;
    }
    this.link(previous, this.tail);
  }

  first(): number {
    return this.next(this.head);
  }

  next(entry: number): number {
    return this.nextEntries[entry] ?? this.tail;
  }

  isCall(entry: number): boolean {
    return (entry & 1) === 0;
  }

  operationOf(entry: number): number {
    return entry >>> 1;
  }

  callEntryOf(operation: number): number {
    return operation * 2;
  }

  /** Removes operation's call and return entries. */
  lift(operation: number): void {
    this.unlink(operation * 2);
    this.unlink(operation * 2 + 1);
  }

  /** Reinserts the entries of the most recently lifted operation still lifted. */
  unlift(operation: number): void {
    this.relink(operation * 2 + 1);
    this.relink(operation * 2);
  }

  private link(from: number, to: number): void {
    this.nextEntries[from] = to;
    this.previousEntries[to] = from;
  }

  private unlink(entry: number): void {
    const previous = this.previousEntries[entry] ?? this.head;
    const next = this.nextEntries[entry] ?? this.tail;
    this.nextEntries[previous] = next;
    this.previousEntries[next] = previous;
  }

  private relink(entry: number): void {
    const previous = this.previousEntries[entry] ?? this.head;
    const next = this.nextEntries[entry] ?? this.tail;
    this.nextEntries[previous] = entry;
    this.previousEntries[next] = entry;
  }
}

/**
 * Entry numbers (2i call, 2i+1 return) sorted by time. Incomplete operations return at
 * +infinity. At equal times calls come first, so touching intervals count as concurrent;
 * remaining ties break by operation id to keep the search deterministic.
 */
function orderEntries(operations: readonly RegisterOperation[]): number[] {
  const timeOf = (entry: number): number => {
    const op = operations[entry >>> 1];
    assert(op !== undefined, 'entry refers to a missing operation');
    if ((entry & 1) === 0) return op.invokedAt;
    return op.completedAt ?? Number.POSITIVE_INFINITY;
  };
  const idOf = (entry: number): number => operations[entry >>> 1]?.id ?? 0;
  const entries = Array.from({ length: operations.length * 2 }, (_, entry) => entry);
  return entries.sort((a, b) => {
    const timeA = timeOf(a);
    const timeB = timeOf(b);
    if (timeA !== timeB) return timeA < timeB ? -1 : 1;
    return (a & 1) - (b & 1) || idOf(a) - idOf(b);
  });
}

/**
 * For each incomplete write, the latest incomplete write of the same value invoked before it
 * (ties by id); null for every other operation.
 */
function findEarlierTwins(operations: readonly RegisterOperation[]): Array<number | null> {
  const incompleteWrites = operations
    .map((operation, index) => ({ operation, index }))
    .filter(({ operation }) => operation.isWrite && operation.completedAt === null)
    .sort(
      (a, b) => a.operation.invokedAt - b.operation.invokedAt || a.operation.id - b.operation.id,
    );
  const earlierTwins = operations.map((): number | null => null);
  const latestByState = new Map<number, number>();
  for (const { operation, index } of incompleteWrites) {
    earlierTwins[index] = latestByState.get(operation.stateIndex) ?? null;
    latestByState.set(operation.stateIndex, index);
  }
  return earlierTwins;
}
