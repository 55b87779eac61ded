/**
 * Reads what {@link BinaryWriter} wrote. Input comes from disk or the network, so every read is
 * bounds-checked and a short or damaged buffer is a typed MALFORMED_DATA error, never a crash.
 */
import { malformedData } from './kv-error.js';

/** A bounds-checked big-endian reader over one buffer. */
export class BinaryReader {
  private readonly view: DataView;
  private offsetBytes = 0;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  uint8(): number {
    this.require(1);
    const value = this.view.getUint8(this.offsetBytes);
    this.offsetBytes += 1;
    return value;
  }

  uint32(): number {
    this.require(4);
    const value = this.view.getUint32(this.offsetBytes);
    this.offsetBytes += 4;
    return value;
  }

  float64(): number {
    this.require(8);
    const value = this.view.getFloat64(this.offsetBytes);
    this.offsetBytes += 8;
    return value;
  }

  /** A length-prefixed byte string, copied out of the input. */
  bytes(): Uint8Array {
    const lengthBytes = this.uint32();
    this.require(lengthBytes);
    const value = this.data.slice(this.offsetBytes, this.offsetBytes + lengthBytes);
    this.offsetBytes += lengthBytes;
    return value;
  }

  /** Throws unless every byte was consumed: trailing bytes mean a damaged or foreign buffer. */
  expectEnd(): void {
    if (this.offsetBytes !== this.data.length) {
      throw malformedData(`${this.data.length - this.offsetBytes} trailing bytes`);
    }
  }

  private require(countBytes: number): void {
    if (this.offsetBytes + countBytes > this.data.length) {
      throw malformedData(`truncated at byte ${this.offsetBytes}`);
    }
  }
}
