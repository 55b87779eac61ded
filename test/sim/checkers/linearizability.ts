/**
 * Linearizability checker for the simulator's client history against a key-value model: Wing &
 * Gong's search with Lowe's memoization ("WGL", as in Porcupine and Knossos). It owns the
 * history types the workload records and the check itself. It must not know about Raft, the
 * network or the simulator's clock: it sees only invocations, completions and outputs.
 *
 * The map is a product of independent registers, so the history is split by key
 * (P-compositionality, Herlihy & Wing §3.4) and each key is searched on its own.
 *
 * Semantics chosen here:
 * - Times are logical and compared with `<`. An invocation and a completion at the same time
 *   are treated as concurrent (calls sort before returns), which never rejects a history that
 *   some stricter ordering would accept.
 * - An operation with `completedAt === null` may take effect at any point after its
 *   invocation, or never. A get that never completed carries no information and is dropped.
 */

import { assert, assertNever } from '../../../src/common/index.js';
import {
  type DeadEnd,
  type RegisterOperation,
  RegisterSearch,
  STATE_ABSENT,
} from './linearizability-search.js';

/** A client operation on the key-value model. Values are strings; null means "absent". */
export type KvOperation =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'delete'; readonly key: string };

/** The result a client observed. For put/delete: 'ok'. For get: the value or null. */
export type KvOutput =
  { readonly kind: 'ok' } | { readonly kind: 'value'; readonly value: string | null };

/** One operation of a client history: its invocation, and its completion if the client saw it. */
export interface HistoryOperation {
  /** Unique in the history. */
  readonly id: number;
  readonly clientId: number;
  readonly operation: KvOperation;
  /** Logical time (simulator step) of the invocation. */
  readonly invokedAt: number;
  /**
   * Logical time of the completion, at or after `invokedAt`. null: the client never learned the
   * outcome (timed out, crashed), so the operation may or may not have taken effect, at any
   * time after `invokedAt`.
   */
  readonly completedAt: number | null;
  /** What the client observed; null iff `completedAt` is null. */
  readonly output: KvOutput | null;
}

/** The verdict for a whole history. */
export type LinearizabilityResult =
  | { readonly kind: 'linearizable'; readonly operationCount: number }
  | {
      readonly kind: 'notLinearizable';
      readonly key: string;
      readonly explanation: string;
      /** The failing key's sub-history, ordered by invocation. */
      readonly operations: readonly HistoryOperation[];
    }
  | { readonly kind: 'unknown'; readonly key: string; readonly reason: string };

/** Options for {@link checkLinearizability}. */
export interface LinearizabilityOptions {
  /** Search budget per key, in distinct (linearized set, register value) states. */
  readonly statesVisitedMax?: number;
}

/** Default search budget per key. */
export const STATES_VISITED_MAX_DEFAULT = 1_000_000;

/** How many operations of the linearized prefix a failure explanation lists. */
const EXPLANATION_PREFIX_OPERATIONS_MAX = 12;

/**
 * Decides whether `history` is linearizable with respect to a map of string registers that all
 * start absent.
 *
 * Each key is searched separately; the first key (in order of first appearance in `history`)
 * that is proven not linearizable is reported, with its sub-history and an explanation. If no
 * key fails but one exhausts its budget, the result is 'unknown' for the first such key.
 * `operationCount` counts every operation of `history`. Malformed histories (duplicate ids,
 * completion before invocation, output missing or of the wrong kind) are programmer errors
 * and throw an `AssertionError`.
 */
export function checkLinearizability(
  history: readonly HistoryOperation[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const statesVisitedMax = options.statesVisitedMax ?? STATES_VISITED_MAX_DEFAULT;
  assert(
    Number.isInteger(statesVisitedMax) && statesVisitedMax >= 1,
    `statesVisitedMax must be a positive integer, got ${statesVisitedMax}`,
  );
  validateHistory(history);
  let firstUnknown: LinearizabilityResult | null = null;
  for (const [key, operations] of partitionByKey(history)) {
    const result = checkKey(key, operations, statesVisitedMax);
    if (result.kind === 'notLinearizable') return result;
    if (result.kind === 'unknown' && firstUnknown === null) firstUnknown = result;
  }
  return firstUnknown ?? { kind: 'linearizable', operationCount: history.length };
}

/**
 * Renders operations as a timeline, one line per operation ordered by invocation:
 * `[invokedAt, completedAt] client N #id operation -> output`, with `?` for unknown outcomes.
 */
export function formatHistory(operations: readonly HistoryOperation[]): string {
  const ordered = sortByInvocation(operations);
  const timeWidth = Math.max(
    1,
    ...ordered.map((op) => String(op.completedAt ?? op.invokedAt).length),
  );
  const clientWidth = Math.max(1, ...ordered.map((op) => String(op.clientId).length));
  const idWidth = Math.max(1, ...ordered.map((op) => String(op.id).length));
  return ordered
    .map((op) => {
      const invoked = String(op.invokedAt).padStart(timeWidth);
      const completed = (op.completedAt === null ? '?' : String(op.completedAt)).padStart(
        timeWidth,
      );
      const client = String(op.clientId).padEnd(clientWidth);
      const id = `#${op.id}`.padEnd(idWidth + 1);
      return `[${invoked}, ${completed}] client ${client} ${id} ${describeOperation(op)}`;
    })
    .join('\n');
}

/** One operation and what it returned, e.g. `put "k"="v" -> ok` or `get "k" -> null`. */
function describeOperation(op: HistoryOperation): string {
  return `${describeCall(op.operation)} -> ${describeOutput(op.output)}`;
}

function describeCall(operation: KvOperation): string {
  const key = JSON.stringify(operation.key);
  switch (operation.kind) {
    case 'put':
      return `put ${key}=${JSON.stringify(operation.value)}`;
    case 'get':
      return `get ${key}`;
    case 'delete':
      return `delete ${key}`;
    default:
      return assertNever(operation, 'operation kind');
  }
}

function describeOutput(output: KvOutput | null): string {
  if (output === null) return '?';
  return output.kind === 'ok' ? 'ok' : JSON.stringify(output.value);
}

function sortByInvocation(operations: readonly HistoryOperation[]): HistoryOperation[] {
  return [...operations].sort(compareByInvocation);
}

function compareByInvocation(a: HistoryOperation, b: HistoryOperation): number {
  return a.invokedAt - b.invokedAt || a.id - b.id;
}

/** Asserts the shape obligations of {@link HistoryOperation} for every operation. */
function validateHistory(history: readonly HistoryOperation[]): void {
  const ids = new Set<number>();
  for (const op of history) {
    assert(!ids.has(op.id), () => `duplicate operation id ${op.id}`);
    ids.add(op.id);
    assert(Number.isFinite(op.invokedAt), () => `operation #${op.id} has no finite invokedAt`);
    assert(
      op.completedAt === null || op.completedAt >= op.invokedAt,
      () => `operation #${op.id} completed at ${op.completedAt} before its invocation`,
    );
    assert(
      (op.completedAt === null) === (op.output === null),
      () => `operation #${op.id} must have an output iff it completed`,
    );
    const outputKindExpected = op.operation.kind === 'get' ? 'value' : 'ok';
    assert(
      op.output === null || op.output.kind === outputKindExpected,
      () => `operation #${op.id} (${op.operation.kind}) has output kind ${op.output?.kind}`,
    );
  }
}

/** Groups operations by key, keys in order of first appearance. */
function partitionByKey(history: readonly HistoryOperation[]): Map<string, HistoryOperation[]> {
  const byKey = new Map<string, HistoryOperation[]>();
  for (const op of history) {
    const operations = byKey.get(op.operation.key);
    if (operations === undefined) byKey.set(op.operation.key, [op]);
    else operations.push(op);
  }
  return byKey;
}

/** A key's operations encoded for the search, plus the names of its register states. */
interface EncodedKey {
  readonly operations: readonly RegisterOperation[];
  /** `sources[i]` is the history operation behind `operations[i]`. */
  readonly sources: readonly HistoryOperation[];
  /** `stateNames[i]` renders state index i; index 0 is absent. */
  readonly stateNames: readonly string[];
}

/** Checks one key's sub-history and shapes the verdict. */
function checkKey(
  key: string,
  operations: readonly HistoryOperation[],
  statesVisitedMax: number,
): LinearizabilityResult {
  const encoded = encodeKey(operations);
  const outcome = new RegisterSearch(encoded.operations, statesVisitedMax).run();
  switch (outcome.kind) {
    case 'found':
      return { kind: 'linearizable', operationCount: operations.length };
    case 'budgetExhausted':
      return {
        kind: 'unknown',
        key,
        reason:
          `search budget of ${statesVisitedMax} states exhausted on key ${JSON.stringify(key)} ` +
          `(${encoded.operations.length} of ${operations.length} operations searched)`,
      };
    case 'exhausted':
      return {
        kind: 'notLinearizable',
        key,
        explanation: explainFailure(key, encoded, outcome.deepest),
        operations: sortByInvocation(operations),
      };
    default:
      return assertNever(outcome, 'search outcome');
  }
}

/**
 * Encodes a key's operations, dropping those that cannot matter: gets that never completed
 * (they observed nothing) and incomplete writes of a value no completed get returned. The
 * latter is sound for a register: in any linearization, nothing reads between such a write
 * and the next write, so removing it changes no output, and "never took effect" is allowed.
 */
function encodeKey(operations: readonly HistoryOperation[]): EncodedKey {
  const stateNames = ['absent'];
  const stateIndexes = new Map<string, number>();
  const stateIndexOf = (value: string | null): number => {
    if (value === null) return STATE_ABSENT;
    let index = stateIndexes.get(value);
    if (index === undefined) {
      index = stateNames.length;
      stateIndexes.set(value, index);
      stateNames.push(JSON.stringify(value));
    }
    return index;
  };
  const observedStates = new Set<number>();
  for (const op of operations) {
    if (op.output?.kind === 'value') observedStates.add(stateIndexOf(op.output.value));
  }
  const encoded: RegisterOperation[] = [];
  const sources: HistoryOperation[] = [];
  for (const op of operations) {
    const isComplete = op.completedAt !== null;
    const isWrite = op.operation.kind !== 'get';
    let stateIndex: number;
    if (op.operation.kind === 'put') stateIndex = stateIndexOf(op.operation.value);
    else if (op.operation.kind === 'delete') stateIndex = STATE_ABSENT;
    else if (op.output?.kind === 'value') stateIndex = stateIndexOf(op.output.value);
    else continue;
    if (isWrite && !isComplete && !observedStates.has(stateIndex)) continue;
    const { id, invokedAt, completedAt } = op;
    encoded.push({ id, invokedAt, completedAt, isWrite, stateIndex });
    sources.push(op);
  }
  return { operations: encoded, sources, stateNames };
}

/**
 * Describes a dead end: the longest linearizable prefix, the register value it leaves, and the
 * operation that could not be placed after it.
 */
function explainFailure(key: string, encoded: EncodedKey, deadEnd: DeadEnd | null): string {
  assert(deadEnd !== null, 'a failed search reaches at least one deadline');
  const describe = (index: number): string => {
    const op = encoded.sources[index];
    assert(op !== undefined, 'dead end refers to a missing operation');
    const completed = op.completedAt === null ? '?' : String(op.completedAt);
    const interval = `[${op.invokedAt}, ${completed}]`;
    return `#${op.id} (client ${op.clientId}, ${interval}) ${describeOperation(op)}`;
  };
  const shown = deadEnd.prefix.slice(-EXPLANATION_PREFIX_OPERATIONS_MAX);
  const hiddenCount = deadEnd.prefix.length - shown.length;
  const prefixText =
    deadEnd.prefix.length === 0
      ? 'no operation can be linearized first'
      : `the longest linearizable prefix has ${deadEnd.prefix.length} operations` +
        (hiddenCount > 0 ? ` (last ${shown.length} shown)` : '') +
        `: ${shown.map(describe).join('; ')}`;
  const stateName = encoded.stateNames[deadEnd.state] ?? `state ${deadEnd.state}`;
  return (
    `key ${JSON.stringify(key)} is not linearizable: ${prefixText}. ` +
    `The register then holds ${stateName}, and ${describe(deadEnd.stuckOperation)} must take ` +
    `effect before it completed, but neither it nor any other pending operation can be placed ` +
    `legally first.`
  );
}
