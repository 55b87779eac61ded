/**
 * Content hashes the checkers compare: of one entry, of a log prefix (chained: the hash at
 * index i covers every entry up to i, so equal chain hashes mean equal prefixes), and of bytes.
 * 52-bit values from two independent 32-bit FNV-1a lanes: collisions are negligible at the
 * sizes a run reaches. Pure functions.
 */
import type { Entry } from '../../../src/raft/index.js';

/** Chain hash of the empty prefix (before index 1). */
export const EMPTY_PREFIX_HASH = 0;

const LANE_A_OFFSET = 0x811c9dc5;
const LANE_B_OFFSET = 0x01000193 ^ 0x5bd1e995;
const LANE_A_PRIME = 0x01000193;
const LANE_B_PRIME = 0x0100019d;

/** A running two-lane hash. */
class Hasher {
  private laneA = LANE_A_OFFSET;
  private laneB = LANE_B_OFFSET;

  addByte(byte: number): void {
    this.laneA = Math.imul(this.laneA ^ byte, LANE_A_PRIME) >>> 0;
    this.laneB = Math.imul(this.laneB ^ byte, LANE_B_PRIME) >>> 0;
  }

  /** Adds a non-negative safe integer, 7 bytes little-endian. */
  addNumber(value: number): void {
    let rest = value;
    for (let position = 0; position < 7; position++) {
      this.addByte(rest % 256);
      rest = Math.floor(rest / 256);
    }
  }

  addBytes(bytes: Uint8Array): void {
    this.addNumber(bytes.byteLength);
    for (const byte of bytes) this.addByte(byte);
  }

  addString(text: string): void {
    this.addNumber(text.length);
    for (let position = 0; position < text.length; position++) {
      this.addNumber(text.charCodeAt(position));
    }
  }

  /** The 52-bit result. */
  digest(): number {
    return (this.laneA >>> 0) * 0x100000 + (this.laneB >>> 12);
  }
}

/** Hash of one entry's index, term, kind and content. */
export function hashEntry(entry: Entry): number {
  const hasher = new Hasher();
  addEntry(hasher, entry);
  return hasher.digest();
}

/** Chain hash at `entry.index`, given the chain hash at `entry.index - 1`. */
export function chainHash(previousHash: number, entry: Entry): number {
  const hasher = new Hasher();
  hasher.addNumber(previousHash);
  addEntry(hasher, entry);
  return hasher.digest();
}

/** Hash of a byte string (snapshot data). */
export function hashBytes(bytes: Uint8Array): number {
  const hasher = new Hasher();
  hasher.addBytes(bytes);
  return hasher.digest();
}

/** Hash of a string (e.g. a rendered configuration). */
export function hashString(text: string): number {
  const hasher = new Hasher();
  hasher.addString(text);
  return hasher.digest();
}

function addEntry(hasher: Hasher, entry: Entry): void {
  hasher.addNumber(entry.index);
  hasher.addNumber(entry.term);
  if (entry.kind === 'normal') {
    hasher.addByte(1);
    hasher.addBytes(entry.data);
    return;
  }
  hasher.addByte(2);
  hasher.addNumber(entry.change.changes.length);
  for (const step of entry.change.changes) {
    hasher.addString(step.kind);
    hasher.addNumber(step.nodeId);
  }
}
