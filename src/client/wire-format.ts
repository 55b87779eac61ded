/**
 * The little of the protobuf wire format the client reads and writes by hand: listing a message's
 * fields, reading a varint as an unsigned 64-bit bigint, and writing a varint field. Everything
 * else is the generated codecs' job (src/generated); this file exists only for the 64-bit ids
 * those codecs cannot represent (see wide-id-fields.ts). Pure: no I/O.
 */

/** The protobuf wire types (encoding section of the protobuf documentation). */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

/** Where one field of a message lies in its bytes. */
export interface WireField {
  readonly fieldNumber: number;
  readonly wireType: number;
  /** Offset of the field's tag. */
  readonly start: number;
  /** Offset of the value: the varint, the fixed bytes, or the payload after the length. */
  readonly valueStart: number;
  /** Offset just past the field. */
  readonly end: number;
}

/** Bytes that are not a well-formed protobuf message. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

/** A varint is at most 10 bytes (64 bits, 7 per byte). */
const VARINT_BYTES_MAX = 10;

/** Reads the varint at `offset` as an unsigned 64-bit integer. */
export function readVarint(bytes: Uint8Array, offset: number): { value: bigint; next: number } {
  let value = 0n;
  for (let position = 0; position < VARINT_BYTES_MAX; position += 1) {
    const byte = bytes[offset + position];
    if (byte === undefined) throw new WireFormatError(`varint at ${offset} runs past the end`);
    value |= BigInt(byte & 0x7f) << BigInt(7 * position);
    if ((byte & 0x80) === 0)
      return { value: BigInt.asUintN(64, value), next: offset + position + 1 };
  }
  throw new WireFormatError(`varint at ${offset} is longer than ${VARINT_BYTES_MAX} bytes`);
}

/** Reads a varint that must fit a safe integer (tags and lengths). */
function readSmallVarint(bytes: Uint8Array, offset: number): { value: number; next: number } {
  const { value, next } = readVarint(bytes, offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WireFormatError(`varint at ${offset} is too large for a tag or length`);
  }
  return { value: Number(value), next };
}

/** Lists the fields of one message, in the order they appear. Groups are not supported. */
export function readFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const start = offset;
    const tag = readSmallVarint(bytes, offset);
    const fieldNumber = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (fieldNumber === 0) throw new WireFormatError(`field number 0 at ${start}`);
    let valueStart = tag.next;
    let end: number;
    switch (wireType) {
      case WireType.varint:
        end = readVarint(bytes, valueStart).next;
        break;
      case WireType.fixed64:
        end = valueStart + 8;
        break;
      case WireType.fixed32:
        end = valueStart + 4;
        break;
      case WireType.lengthDelimited: {
        const length = readSmallVarint(bytes, valueStart);
        valueStart = length.next;
        end = valueStart + length.value;
        break;
      }
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} at ${start}`);
    }
    if (end > bytes.byteLength) throw new WireFormatError(`field at ${start} runs past the end`);
    fields.push({ fieldNumber, wireType, start, valueStart, end });
    offset = end;
  }
  return fields;
}

/** Encodes an unsigned 64-bit varint. */
export function encodeVarint(value: bigint): Uint8Array {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`${value} is not an unsigned 64-bit integer`);
  }
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest === 0n ? low : low | 0x80);
  } while (rest !== 0n);
  return Uint8Array.from(bytes);
}

/** Encodes the tag of a field. */
export function encodeTag(fieldNumber: number, wireType: number): Uint8Array {
  return encodeVarint(BigInt(fieldNumber) * 8n + BigInt(wireType));
}

/** Encodes a uint64 field; proto3 omits a zero value. */
export function encodeUint64Field(fieldNumber: number, value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  return concatBytes([encodeTag(fieldNumber, WireType.varint), encodeVarint(value)]);
}

/** Encodes a length-delimited field around `payload`. */
export function encodeLengthDelimitedField(fieldNumber: number, payload: Uint8Array): Uint8Array {
  return concatBytes([
    encodeTag(fieldNumber, WireType.lengthDelimited),
    encodeVarint(BigInt(payload.byteLength)),
    payload,
  ]);
}

/** One array holding `parts` one after another. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
