/**
 * The only source of randomness the core may use: a seeded pseudo-random generator passed in by
 * the caller, so that a run is reproducible from its seed (no `Math.random` anywhere in the core).
 */

/** A source of pseudo-random numbers. */
export interface Prng {
  /** A uniformly distributed integer in [0, maxExclusive). Requires maxExclusive >= 1. */
  nextInt(maxExclusive: number): number;
  /** A uniformly distributed float in [0, 1). */
  nextFloat(): number;
}

/**
 * Creates a small fast generator (SplitMix32 seeding xoshiro128**) from a 32-bit seed. Two
 * generators built from the same seed produce the same sequence.
 */
export function createPrng(seed: number): Prng {
  let seedState = seed >>> 0;
  const splitMix = (): number => {
    seedState = (seedState + 0x9e3779b9) >>> 0;
    let z = seedState;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitMix();
  let b = splitMix();
  let c = splitMix();
  let d = splitMix();
  const nextUint32 = (): number => {
    const result = Math.imul(rotateLeft(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotateLeft(d, 11);
    return result;
  };
  return {
    nextInt(maxExclusive: number): number {
      if (!(maxExclusive >= 1)) throw new RangeError(`nextInt needs maxExclusive >= 1`);
      return Math.floor((nextUint32() / 0x1_0000_0000) * maxExclusive);
    },
    nextFloat(): number {
      return nextUint32() / 0x1_0000_0000;
    },
  };
}

function rotateLeft(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}
