/**
 * Little-endian 64-bit fields as JavaScript numbers. Terms, indexes and node ids are safe
 * integers (docs/decisions/0002-numeric-ids.md); a decoded value above 2^53 - 1 means the bytes
 * are not ours, and the caller reports it as damage.
 */

const TWO_TO_32 = 2 ** 32;
/** Largest high word of a safe integer: 2^53 - 1 = (2^21 - 1) * 2^32 + (2^32 - 1). */
const SAFE_HIGH_WORD_MAX = 2 ** 21 - 1;

/** Writes a non-negative safe integer as a little-endian u64. */
export function writeUint64(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt32LE(value % TWO_TO_32, offset);
  buffer.writeUInt32LE(Math.floor(value / TWO_TO_32), offset + 4);
}

/** Reads a little-endian u64, or -1 if it exceeds the safe-integer range. */
export function readUint64(buffer: Buffer, offset: number): number {
  const high = buffer.readUInt32LE(offset + 4);
  if (high > SAFE_HIGH_WORD_MAX) return -1;
  return high * TWO_TO_32 + buffer.readUInt32LE(offset);
}

/** Rounds up to the next multiple of 8 (records start 8-byte aligned). */
export function align8(bytes: number): number {
  return (bytes + 7) & ~7;
}

const ZERO_CHUNK = Buffer.alloc(64 * 1024);

/** Whether every byte of buffer[start, end) is zero (compared natively, a chunk at a time). */
export function isAllZero(buffer: Buffer, start: number, end: number): boolean {
  for (let position = start; position < end; position += ZERO_CHUNK.byteLength) {
    const chunkEnd = Math.min(end, position + ZERO_CHUNK.byteLength);
    const chunk = buffer.subarray(position, chunkEnd);
    if (chunk.compare(ZERO_CHUNK, 0, chunkEnd - position) !== 0) return false;
  }
  return true;
}

/** A view of `data` as a Buffer, without copying. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
