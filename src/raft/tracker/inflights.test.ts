/**
 * Tests for the inflight window: examples, then a model-based property that runs random
 * add/freeUpTo/reset sequences against a plain array holding the same records.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../common/index.js';
import { Inflights } from './inflights.js';

interface InflightRecord {
  readonly lastIndex: number;
  readonly sizeBytes: number;
}

/** The obviously correct window: an array, scanned in full. */
class ArrayModel {
  records: InflightRecord[] = [];
  newestIndex = 0;

  constructor(
    readonly messagesMax: number,
    readonly bytesMax: number,
  ) {}

  sizeBytes(): number {
    return this.records.reduce((sum, record) => sum + record.sizeBytes, 0);
  }

  isFull(): boolean {
    const isBytesFull = this.bytesMax > 0 && this.sizeBytes() >= this.bytesMax;
    return this.records.length >= this.messagesMax || isBytesFull;
  }
}

type Step =
  | { readonly kind: 'add'; readonly gap: number; readonly sizeBytes: number }
  | { readonly kind: 'freeUpTo'; readonly back: number }
  | { readonly kind: 'reset' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      gap: fc.integer({ min: 1, max: 4 }),
      sizeBytes: fc.integer({ min: 0, max: 50 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('freeUpTo' as const),
      back: fc.integer({ min: -2, max: 12 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

function runStep(inflights: Inflights, model: ArrayModel, step: Step): void {
  switch (step.kind) {
    case 'add': {
      if (model.isFull()) {
        return;
      }
      const lastIndex = model.newestIndex + step.gap;
      inflights.add(lastIndex, step.sizeBytes);
      model.records.push({ lastIndex, sizeBytes: step.sizeBytes });
      model.newestIndex = lastIndex;
      return;
    }
    case 'freeUpTo': {
      const index = model.newestIndex - step.back;
      inflights.freeUpTo(index);
      model.records = model.records.filter((record) => record.lastIndex > index);
      return;
    }
    case 'reset':
      inflights.reset();
      model.records = [];
      return;
  }
}

describe('Inflights', () => {
  it('fills by message count and frees in order', () => {
    const inflights = new Inflights(3, 0);
    inflights.add(5, 10);
    inflights.add(7, 10);
    expect(inflights.isFull()).toBe(false);
    inflights.add(9, 10);
    expect(inflights.isFull()).toBe(true);
    expect(inflights.count()).toBe(3);
    expect(inflights.sizeBytes()).toBe(30);
    inflights.freeUpTo(6);
    expect(inflights.count()).toBe(2);
    expect(inflights.isFull()).toBe(false);
    inflights.freeUpTo(100);
    expect(inflights.count()).toBe(0);
    expect(inflights.sizeBytes()).toBe(0);
  });

  it('fills by bytes once the byte limit is reached, even by one large message', () => {
    const inflights = new Inflights(10, 100);
    inflights.add(1, 60);
    expect(inflights.isFull()).toBe(false);
    inflights.add(2, 60);
    expect(inflights.isFull()).toBe(true);
    inflights.freeUpTo(1);
    expect(inflights.isFull()).toBe(false);
  });

  it('wraps around the ring and grows to the message limit', () => {
    const inflights = new Inflights(20, 0);
    let lastIndex = 0;
    for (let round = 0; round < 5; round++) {
      while (!inflights.isFull()) {
        lastIndex++;
        inflights.add(lastIndex, 1);
      }
      expect(inflights.count()).toBe(20);
      inflights.freeUpTo(lastIndex - 7);
      expect(inflights.count()).toBe(7);
    }
  });

  it('forgets everything on reset', () => {
    const inflights = new Inflights(2, 0);
    inflights.add(3, 4);
    inflights.add(4, 4);
    inflights.reset();
    expect(inflights.count()).toBe(0);
    expect(inflights.sizeBytes()).toBe(0);
    inflights.add(1, 1);
    expect(inflights.count()).toBe(1);
  });

  it('asserts on add when full and on a non-increasing index', () => {
    const inflights = new Inflights(2, 0);
    inflights.add(5, 1);
    expect(() => inflights.add(5, 1)).toThrow(AssertionError);
    inflights.add(6, 1);
    expect(() => inflights.add(7, 1)).toThrow(AssertionError);
  });

  it('asserts on invalid limits', () => {
    expect(() => new Inflights(0, 0)).toThrow(AssertionError);
    expect(() => new Inflights(1, -1)).toThrow(AssertionError);
  });

  it('matches the array model', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 300 }),
        fc.array(stepArbitrary, { maxLength: 200 }),
        (messagesMax, bytesMax, steps) => {
          const inflights = new Inflights(messagesMax, bytesMax);
          const model = new ArrayModel(messagesMax, bytesMax);
          for (const step of steps) {
            runStep(inflights, model, step);
            expect(inflights.count()).toBe(model.records.length);
            expect(inflights.sizeBytes()).toBe(model.sizeBytes());
            expect(inflights.isFull()).toBe(model.isFull());
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Inflights.freeFirst', () => {
  it('frees only the oldest record, making room for one more request', () => {
    const inflights = new Inflights(2, 0);
    inflights.add(5, 10);
    inflights.add(7, 10);
    expect(inflights.isFull()).toBe(true);
    inflights.freeFirst();
    expect(inflights.count()).toBe(1);
    expect(inflights.isFull()).toBe(false);
    inflights.freeFirst();
    inflights.freeFirst();
    expect(inflights.count()).toBe(0);
  });
});
