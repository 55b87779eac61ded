/**
 * Appends fixed-width big-endian fields and length-prefixed byte strings to a growing buffer. The
 * encoding of snapshots and log commands is built on it, so its output must depend on the values
 * written and nothing else.
 */
import { assert } from '../common/index.js';

const INITIAL_CAPACITY_BYTES = 256;

/** A growable big-endian writer; `finish()` returns exactly the bytes written. */
export class BinaryWriter {
  private buffer = new Uint8Array(INITIAL_CAPACITY_BYTES);
  private view = new DataView(this.buffer.buffer);
  private lengthBytes = 0;

  /** Writes one byte; `value` must be an integer in [0, 255]. */
  uint8(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, `bad uint8 ${value}`);
    this.reserve(1);
    this.view.setUint8(this.lengthBytes, value);
    this.lengthBytes += 1;
  }

  /** Writes a 32-bit unsigned integer. */
  uint32(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, `bad uint32 ${value}`);
    this.reserve(4);
    this.view.setUint32(this.lengthBytes, value);
    this.lengthBytes += 4;
  }

  /** Writes any JavaScript number exactly, as an IEEE 754 double. */
  float64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.lengthBytes, value);
    this.lengthBytes += 8;
  }

  /** Writes a 32-bit length followed by the bytes. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.lengthBytes);
    this.lengthBytes += value.length;
  }

  /** The bytes written so far, as a fresh array. */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.lengthBytes);
  }

  private reserve(extraBytes: number): void {
    const neededBytes = this.lengthBytes + extraBytes;
    if (neededBytes <= this.buffer.length) {
      return;
    }
    const grown = new Uint8Array(Math.max(neededBytes, this.buffer.length * 2));
    grown.set(this.buffer.subarray(0, this.lengthBytes));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}
