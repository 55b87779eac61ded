/**
 * What the crash test's child writes, as pure functions shared by the child and the parent: the
 * identity of the data directory, the data of the entry at (index, term) and the snapshot taken
 * at an index. The parent recomputes them to check every recovered byte without being told it.
 */
import { EMPTY_CONFIGURATION, type Snapshot } from '../../../src/raft/index.js';

export const CLUSTER_ID = 0x5eed_c0de_0000_0001n;
export const NODE_ID = 1;
export const INCARNATION = 7n;
/** Small segments so that rotation, preallocation and segment deletion happen every second. */
export const SEGMENT_BYTES_TARGET = 256 * 1024;
export const ENTRY_DATA_BYTES_MAX = 2000;

/** MurmurHash3's finalizer: nearby inputs give unrelated outputs. */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The data of the entry at `index` written in `term`: 0 to 2,000 bytes, length and content both
 * a function of the pair, so an entry with the right index but the wrong term (or bytes from
 * another entry) is caught.
 */
export function entryData(index: number, term: number): Uint8Array {
  let state = (mix32(mix32(index) ^ Math.imul(term, 0x9e3779b1)) | 1) >>> 0;
  const data = new Uint8Array(state % (ENTRY_DATA_BYTES_MAX + 1));
  for (let position = 0; position < data.byteLength; position += 4) {
    // xorshift32: cheap, never zero once seeded with an odd value; four bytes per step.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    data[position] = state;
    data[position + 1] = state >>> 8;
    data[position + 2] = state >>> 16;
    data[position + 3] = state >>> 24;
  }
  return data;
}

/** Whether two byte arrays hold the same bytes. */
export function isSameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(right);
}

/**
 * The state-machine image the child saves at `index`: a few bytes naming the index, empty for
 * the bootstrap snapshot at index 1 (a founding member's state machine is empty).
 */
export function snapshotData(index: number): Uint8Array {
  return index === 1 ? new Uint8Array(0) : new TextEncoder().encode(`applied through ${index}`);
}

/** The snapshot the child saves at (`index`, `term`); the bootstrap snapshot is (1, 1). */
export function snapshotAt(index: number, term: number): Snapshot {
  return {
    metadata: {
      index,
      term,
      configuration: { ...EMPTY_CONFIGURATION, voters: [NODE_ID] },
    },
    data: snapshotData(index),
  };
}
