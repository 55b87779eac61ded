/**
 * Derives the independent PRNG streams of one simulation run from its seed. Each consumer
 * (network, disk faults, workload, membership driver, each node's election jitter, ...) gets
 * its own stream named by a label, so adding draws to one stream never shifts the choices of
 * another: changing the workload keeps the network's faults identical for the same seed.
 * It must not keep any global state.
 */
import { createPrng, type Prng } from '../../src/raft/index.js';

/** Mixes a 32-bit value (MurmurHash3's finalizer): nearby inputs give unrelated outputs. */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The 32-bit seed of stream `label` of run `seed`. Pure: the same pair always gives the same
 * seed, and different labels give unrelated seeds.
 */
export function deriveSeed(seed: number, label: string): number {
  let hash = mix32(seed ^ 0x9e3779b9);
  for (let position = 0; position < label.length; position++) {
    hash = Math.imul(hash ^ label.charCodeAt(position), 0x01000193) >>> 0;
  }
  return mix32(hash ^ Math.floor(seed / 0x1_0000_0000));
}

/** A PRNG for stream `label` of run `seed`. */
export function createStream(seed: number, label: string): Prng {
  return createPrng(deriveSeed(seed, label));
}

/** Whether an event of probability `probability` happens on this draw. */
export function chance(prng: Prng, probability: number): boolean {
  if (probability <= 0) return false;
  return prng.nextFloat() < probability;
}

/** A uniform integer in [minimum, maximum] (both inclusive). */
export function intBetween(prng: Prng, minimum: number, maximum: number): number {
  return minimum + prng.nextInt(maximum - minimum + 1);
}

/** A uniformly chosen element of a non-empty array. */
export function pick<T>(prng: Prng, items: readonly T[]): T {
  const item = items[prng.nextInt(items.length)];
  if (item === undefined) throw new RangeError('pick needs a non-empty array');
  return item;
}

/** Picks a key of `weights` with probability proportional to its weight (weights >= 0). */
export function pickWeighted<K extends string>(
  prng: Prng,
  weights: Readonly<Record<K, number>>,
): K {
  const entries = Object.entries(weights) as [K, number][];
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  if (!(total > 0)) throw new RangeError('pickWeighted needs a positive total weight');
  let draw = prng.nextFloat() * total;
  for (const [key, weight] of entries) {
    draw -= weight;
    if (draw < 0) return key;
  }
  const last = entries[entries.length - 1];
  if (last === undefined) throw new RangeError('pickWeighted needs weights');
  return last[0];
}

/** A random permutation of `items` (Fisher-Yates); the input is not modified. */
export function shuffle<T>(prng: Prng, items: readonly T[]): T[] {
  const result = [...items];
  for (let position = result.length - 1; position > 0; position--) {
    const other = prng.nextInt(position + 1);
    const held = result[position] as T;
    result[position] = result[other] as T;
    result[other] = held;
  }
  return result;
}
