/**
 * Tests for the WGL linearizability checker. Hand-written histories show that it rejects the
 * classic anomalies and accepts the legal subtleties of incomplete operations; property tests
 * build histories around a real sequential execution (always linearizable), corrupt them (never
 * linearizable), and compare small random histories with a deliberately naive brute-force
 * search over all orders.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AssertionError } from '../../../src/common/index.js';
import {
  checkLinearizability,
  formatHistory,
  type HistoryOperation,
  type KvOperation,
} from './linearizability.js';

/** An operation before `historyOf` numbers it. */
type OperationSpec = Omit<HistoryOperation, 'id'>;

/** A time interval; a null completion means the client never learned the outcome. */
type Interval = readonly [invokedAt: number, completedAt: number | null];

function put(key: string, value: string, interval: Interval, clientId = 1): OperationSpec {
  return spec({ kind: 'put', key, value }, interval, clientId, { kind: 'ok' });
}

function deleteKey(key: string, interval: Interval, clientId = 1): OperationSpec {
  return spec({ kind: 'delete', key }, interval, clientId, { kind: 'ok' });
}

function get(
  key: string,
  observed: string | null,
  interval: Interval,
  clientId = 1,
): OperationSpec {
  return spec({ kind: 'get', key }, interval, clientId, { kind: 'value', value: observed });
}

function spec(
  operation: KvOperation,
  [invokedAt, completedAt]: Interval,
  clientId: number,
  output: HistoryOperation['output'],
): OperationSpec {
  return {
    clientId,
    operation,
    invokedAt,
    completedAt,
    output: completedAt === null ? null : output,
  };
}

/** Numbers operations from 1 in the order given. */
function historyOf(...specs: OperationSpec[]): HistoryOperation[] {
  return specs.map((operationSpec, index) => ({ id: index + 1, ...operationSpec }));
}

describe('checkLinearizability on hand-written anomalies', () => {
  const cases: ReadonlyArray<readonly [string, HistoryOperation[]]> = [
    [
      // put b completes before the get starts, so the get must see b.
      'a stale read',
      historyOf(put('x', 'a', [0, 10]), put('x', 'b', [20, 30]), get('x', 'a', [40, 50], 2)),
    ],
    [
      'a lost write: a read of a value never written',
      historyOf(put('x', 'a', [0, 10]), get('x', 'z', [20, 30])),
    ],
    [
      // The put of b is invoked only after the get returned b.
      'a read from the future',
      historyOf(get('x', 'b', [0, 10], 2), put('x', 'b', [20, 30])),
    ],
    [
      // Two sequential gets of one client observe b then a, though a was overwritten by b.
      'reads going backwards in time',
      historyOf(
        put('x', 'a', [0, 10]),
        put('x', 'b', [20, 60], 3),
        get('x', 'b', [25, 35], 2),
        get('x', 'a', [40, 50], 2),
      ),
    ],
    [
      'a read that still sees a completed delete',
      historyOf(put('x', 'a', [0, 10]), deleteKey('x', [20, 30]), get('x', 'a', [40, 50], 2)),
    ],
    [
      // The incomplete put may take effect, but not before it was invoked.
      'an incomplete put observed before its invocation',
      historyOf(get('x', 'a', [0, 10]), put('x', 'a', [20, null], 2)),
    ],
  ];

  it.each(cases)('rejects %s', (_name, history) => {
    const result = checkLinearizability(history);

    expect(result.kind, formatHistory(history)).toBe('notLinearizable');
  });

  it('names the key, the longest prefix and the stuck operation', () => {
    const history = historyOf(
      put('y', 'a', [0, 10]),
      put('x', 'a', [0, 10]),
      put('x', 'b', [20, 30]),
      get('x', 'a', [40, 50], 2),
    );

    const result = checkLinearizability(history);

    expect(result.kind).toBe('notLinearizable');
    if (result.kind !== 'notLinearizable') return;
    expect(result.key).toBe('x');
    expect(result.operations.map((op) => op.id)).toEqual([2, 3, 4]);
    expect(result.explanation).toContain('longest linearizable prefix has 2 operations');
    expect(result.explanation).toContain('holds "b"');
    expect(result.explanation).toContain('#4 (client 2, [40, 50]) get "x" -> "a"');
  });
});

describe('checkLinearizability on legal histories', () => {
  const cases: ReadonlyArray<readonly [string, HistoryOperation[]]> = [
    [
      'an overlapping get that sees the old value',
      historyOf(put('x', 'a', [0, 10]), put('x', 'b', [20, 40]), get('x', 'a', [30, 50], 2)),
    ],
    [
      'an overlapping get that sees the new value',
      historyOf(put('x', 'a', [0, 10]), put('x', 'b', [20, 40]), get('x', 'b', [30, 50], 2)),
    ],
    [
      'an incomplete put observed by a later read',
      historyOf(put('x', 'a', [0, null]), get('x', 'a', [100, 110], 2)),
    ],
    [
      'an incomplete put never observed',
      historyOf(
        put('x', 'a', [0, null]),
        get('x', null, [100, 110], 2),
        get('x', null, [120, 130], 2),
      ),
    ],
    [
      // Absent first, then the incomplete put takes effect between the two reads.
      'an incomplete put whose value appears only much later',
      historyOf(
        put('x', 'a', [0, null]),
        get('x', null, [100, 110], 2),
        put('x', 'b', [200, 210], 3),
        get('x', 'b', [300, 310], 2),
        get('x', 'a', [1000, 1010], 2),
      ),
    ],
    [
      'an incomplete delete that may or may not have happened',
      historyOf(
        put('x', 'a', [0, 10]),
        deleteKey('x', [20, null]),
        get('x', 'a', [30, 40], 2),
        get('x', null, [50, 60]),
      ),
    ],
    [
      // Equal timestamps count as concurrent, so the get may precede the put.
      'a put completing at the instant a get is invoked',
      historyOf(put('x', 'a', [0, 10]), get('x', null, [10, 20], 2)),
    ],
    [
      'independent keys',
      historyOf(
        put('x', 'a', [0, 10]),
        put('y', 'b', [5, 15], 2),
        get('x', 'a', [20, 30]),
        get('y', 'b', [20, 30], 2),
      ),
    ],
    ['an empty history', []],
  ];

  it.each(cases)('accepts %s', (_name, history) => {
    const result = checkLinearizability(history);

    expect(result, formatHistory(history)).toEqual({
      kind: 'linearizable',
      operationCount: history.length,
    });
  });

  it('returns unknown when the search budget runs out', () => {
    const history = historyOf(
      put('x', 'a', [0, 10]),
      put('x', 'b', [20, 30]),
      get('x', 'a', [40, 50]),
    );

    const result = checkLinearizability(history, { statesVisitedMax: 1 });

    expect(result.kind).toBe('unknown');
  });

  it('asserts on malformed histories', () => {
    const duplicate = [...historyOf(put('x', 'a', [0, 10])), ...historyOf(get('x', 'a', [20, 30]))];
    const backwards = historyOf(put('x', 'a', [10, 5]));

    expect(() => checkLinearizability(duplicate)).toThrow(AssertionError);
    expect(() => checkLinearizability(backwards)).toThrow(AssertionError);
  });
});

describe('formatHistory', () => {
  it('prints one line per operation ordered by invocation', () => {
    const history = historyOf(
      get('x', null, [5, 120], 2),
      put('x', 'a', [0, null]),
      deleteKey('x', [130, 140], 12),
    );

    expect(formatHistory(history)).toBe(
      [
        '[  0,   ?] client 1  #2 put "x"="a" -> ?',
        '[  5, 120] client 2  #1 get "x" -> null',
        '[130, 140] client 12 #3 delete "x" -> ok',
      ].join('\n'),
    );
  });
});

/**
 * One step of a sequential execution. The generator applies steps in order to a real Map, places
 * each at a linearization point, and widens it into an interval around that point.
 */
interface ExecutionStep {
  readonly keyIndex: number;
  readonly kind: KvOperation['kind'];
  readonly valueIndex: number;
  readonly clientId: number;
  readonly slackBefore: number;
  readonly slackAfter: number;
  /** completed: observed; lostApplied: took effect, outcome unknown; lostDropped: no effect. */
  readonly fate: 'completed' | 'lostApplied' | 'lostDropped';
}

/** Logical time between consecutive linearization points. */
const LINEARIZATION_SPACING = 100;

/**
 * Builds a history whose intervals contain the linearization points of a sequential execution
 * on a real Map; it is linearizable by construction. Each client runs one operation at a time,
 * so an operation's interval is clipped to end before its client's next invocation.
 */
function historyFromExecution(
  steps: readonly ExecutionStep[],
  keys: readonly string[],
): HistoryOperation[] {
  const store = new Map<string, string>();
  const history: Array<{ -readonly [K in keyof HistoryOperation]: HistoryOperation[K] }> = [];
  const lastIndexByClient = new Map<number, number>();
  steps.forEach((step, index) => {
    const point = (index + 1) * LINEARIZATION_SPACING;
    const key = keys[step.keyIndex % keys.length] ?? 'k';
    const previous = history[lastIndexByClient.get(step.clientId) ?? -1];
    let invokedAt = point - step.slackBefore;
    if (previous !== undefined) {
      const previousEnd = Math.min(previous.completedAt ?? previous.invokedAt, point - 2);
      previous.completedAt = previous.output === null ? null : previousEnd;
      invokedAt = Math.max(invokedAt, previousEnd + 1);
    }
    const operation = operationOf(step, key);
    const output = step.fate === 'lostDropped' ? null : applyToStore(store, operation);
    const isLost = step.fate !== 'completed';
    history.push({
      id: index,
      clientId: step.clientId,
      operation,
      invokedAt,
      completedAt: isLost ? null : point + step.slackAfter,
      output: isLost ? null : output,
    });
    lastIndexByClient.set(step.clientId, index);
  });
  return history;
}

function operationOf(step: ExecutionStep, key: string): KvOperation {
  if (step.kind === 'put') return { kind: 'put', key, value: `v${step.valueIndex}` };
  return { kind: step.kind, key };
}

function applyToStore(
  store: Map<string, string>,
  operation: KvOperation,
): HistoryOperation['output'] {
  if (operation.kind === 'put') store.set(operation.key, operation.value);
  if (operation.kind === 'delete') store.delete(operation.key);
  if (operation.kind !== 'get') return { kind: 'ok' };
  return { kind: 'value', value: store.get(operation.key) ?? null };
}

/** The shape of generated executions. */
interface ExecutionShape {
  readonly clientCount: number;
  /** Slack is drawn from [1, slackMax] on each side of a linearization point. */
  readonly slackMax: number;
  /** Put values are drawn from `valueCount` values, so small counts repeat values. */
  readonly valueCount: number;
}

const executionStepArbitrary = (shape: ExecutionShape): fc.Arbitrary<ExecutionStep> =>
  fc.record({
    keyIndex: fc.nat(1_000),
    kind: fc.constantFrom('put', 'get', 'get', 'delete'),
    valueIndex: fc.nat(shape.valueCount - 1),
    clientId: fc.integer({ min: 1, max: shape.clientCount }),
    slackBefore: fc.integer({ min: 1, max: shape.slackMax }),
    slackAfter: fc.integer({ min: 1, max: shape.slackMax }),
    fate: fc.constantFrom(
      'completed',
      'completed',
      'completed',
      'completed',
      'lostApplied',
      'lostDropped',
    ),
  });

const executionArbitrary = fc
  .integer({ min: 1, max: 5 })
  .chain((clientCount) =>
    fc.array(
      executionStepArbitrary({ clientCount, slackMax: 3 * LINEARIZATION_SPACING, valueCount: 5 }),
      { maxLength: 60 },
    ),
  );

const KEYS = ['a', 'b', 'c'];

describe('checkLinearizability on generated histories', () => {
  it('accepts every history built around a sequential execution', () => {
    fc.assert(
      fc.property(executionArbitrary, (steps) => {
        const history = historyFromExecution(steps, KEYS);

        const result = checkLinearizability(history);

        expect(result, formatHistory(history)).toEqual({
          kind: 'linearizable',
          operationCount: history.length,
        });
      }),
    );
  });

  it('rejects such a history once a completed get returns a value never written', () => {
    fc.assert(
      fc.property(executionArbitrary, fc.nat(), (steps, choice) => {
        const history = historyFromExecution(steps, KEYS);
        const gets = history.filter((op) => op.output?.kind === 'value');
        fc.pre(gets.length > 0);
        const victim = gets[choice % gets.length];
        if (victim === undefined) return;
        const corrupted = history.map((op) =>
          op === victim
            ? { ...op, output: { kind: 'value' as const, value: 'never-written' } }
            : op,
        );

        const result = checkLinearizability(corrupted);

        expect(result.kind, formatHistory(corrupted)).toBe('notLinearizable');
        if (result.kind === 'notLinearizable') expect(result.key).toBe(victim.operation.key);
      }),
    );
  });
});

/**
 * The naive reference: tries every order of the operations that respects real time (an
 * operation may go next unless some remaining operation completed strictly before it was
 * invoked), applying each to a Map; incomplete operations may also never take effect.
 */
function isLinearizableByBruteForce(history: readonly HistoryOperation[]): boolean {
  const search = (
    remaining: readonly HistoryOperation[],
    store: ReadonlyMap<string, string>,
  ): boolean => {
    if (remaining.every((op) => op.completedAt === null)) return true;
    return remaining.some((candidate) => {
      const isBlocked = remaining.some(
        (other) => other.completedAt !== null && other.completedAt < candidate.invokedAt,
      );
      if (isBlocked) return false;
      const next = new Map(store);
      const output = applyToStore(next, candidate.operation);
      const observed = candidate.output?.kind === 'value' ? candidate.output.value : undefined;
      const actual = output?.kind === 'value' ? output.value : undefined;
      const isLegal = observed === undefined || observed === actual;
      const rest = remaining.filter((op) => op !== candidate);
      return isLegal && search(rest, next);
    });
  };
  return search(history, new Map());
}

const randomOperationArbitrary: fc.Arbitrary<OperationSpec> = fc
  .record({
    key: fc.constantFrom('x', 'y'),
    kind: fc.constantFrom('put', 'get', 'delete'),
    value: fc.constantFrom('a', 'b'),
    observed: fc.constantFrom('a', 'b', null),
    invokedAt: fc.nat(20),
    duration: fc.nat(12),
    isComplete: fc.boolean(),
    clientId: fc.integer({ min: 1, max: 3 }),
  })
  .map((draw) => {
    const interval: Interval = [
      draw.invokedAt,
      draw.isComplete ? draw.invokedAt + draw.duration : null,
    ];
    if (draw.kind === 'put') return put(draw.key, draw.value, interval, draw.clientId);
    if (draw.kind === 'delete') return deleteKey(draw.key, interval, draw.clientId);
    return get(draw.key, draw.observed, interval, draw.clientId);
  });

describe('checkLinearizability against a brute-force reference', () => {
  it('agrees on small random histories', () => {
    fc.assert(
      fc.property(fc.array(randomOperationArbitrary, { maxLength: 8 }), (specs) => {
        const history = historyOf(...specs);

        const isLinearizable = checkLinearizability(history).kind === 'linearizable';

        expect(isLinearizable, formatHistory(history)).toBe(isLinearizableByBruteForce(history));
      }),
      { numRuns: 1_000 },
    );
  });
});

/** One fixed execution of `stepCount` steps, drawn from a seeded fast-check generator. */
function sampledSteps(seed: number, stepCount: number, shape: ExecutionShape): ExecutionStep[] {
  const arbitrary = fc.array(executionStepArbitrary(shape), {
    minLength: stepCount,
    maxLength: stepCount,
  });
  const [steps] = fc.sample(arbitrary, { seed, numRuns: 1 });
  if (steps === undefined) throw new Error('fast-check sampled nothing');
  return steps;
}

/** The history with its last completed get changed to return a value never written. */
function withLastGetCorrupted(history: readonly HistoryOperation[]): HistoryOperation[] {
  const lastGet = history.findLast((op) => op.output?.kind === 'value');
  return history.map((op) =>
    op === lastGet ? { ...op, output: { kind: 'value' as const, value: 'never-written' } } : op,
  );
}

// Put values are unique, as the workload writes them. Each failure sits in the last get, so
// rejecting means exhausting the search space of the whole key.
describe('checkLinearizability performance', () => {
  it('checks 2,000 operations over 10 keys and 5 clients', () => {
    const keys = Array.from({ length: 10 }, (_, index) => `key-${index}`);
    const shape = { clientCount: 5, slackMax: 5 * LINEARIZATION_SPACING, valueCount: 1e9 };
    const history = historyFromExecution(sampledSteps(1, 2_000, shape), keys);

    const accepted = checkLinearizability(history);
    const rejected = checkLinearizability(withLastGetCorrupted(history));

    expect(accepted).toEqual({ kind: 'linearizable', operationCount: 2_000 });
    expect(rejected.kind).toBe('notLinearizable');
  });

  it('checks 400 heavily overlapping operations on one key', () => {
    const shape = { clientCount: 10, slackMax: 10 * LINEARIZATION_SPACING, valueCount: 1e9 };
    const history = historyFromExecution(sampledSteps(2, 400, shape), ['hot']);

    const accepted = checkLinearizability(history);
    const rejected = checkLinearizability(withLastGetCorrupted(history));

    expect(accepted.kind).toBe('linearizable');
    expect(rejected.kind).toBe('notLinearizable');
  });
});
