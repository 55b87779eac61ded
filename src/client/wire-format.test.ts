import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  encodeLengthDelimitedField,
  encodeUint64Field,
  encodeVarint,
  readFields,
  readVarint,
  WireFormatError,
  WireType,
} from './wire-format.js';

const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

describe('wire format', () => {
  it('round-trips every unsigned 64-bit varint', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: UINT64_MAX }), (value) => {
        const bytes = encodeVarint(value);
        expect(readVarint(bytes, 0)).toEqual({ value, next: bytes.byteLength });
      }),
    );
    expect([...encodeVarint(300n)]).toEqual([0xac, 0x02]);
    expect(encodeVarint(UINT64_MAX).byteLength).toBe(10);
    expect(() => encodeVarint(UINT64_MAX + 1n)).toThrow(RangeError);
  });

  it('lists fields with their value offsets', () => {
    const bytes = Uint8Array.from([
      ...encodeUint64Field(1, 0x8e9e05c52164694dn),
      ...encodeLengthDelimitedField(2, Uint8Array.of(7, 8, 9)),
      ...[(3 << 3) | WireType.fixed32, 1, 2, 3, 4],
      ...[(4 << 3) | WireType.fixed64, 1, 2, 3, 4, 5, 6, 7, 8],
    ]);
    const fields = readFields(bytes);
    expect(fields.map((field) => [field.fieldNumber, field.wireType])).toEqual([
      [1, WireType.varint],
      [2, WireType.lengthDelimited],
      [3, WireType.fixed32],
      [4, WireType.fixed64],
    ]);
    const [id, payload] = fields;
    expect(readVarint(bytes, id?.valueStart ?? -1).value).toBe(0x8e9e05c52164694dn);
    expect([...bytes.subarray(payload?.valueStart, payload?.end)]).toEqual([7, 8, 9]);
    expect(fields.at(-1)?.end).toBe(bytes.byteLength);
  });

  it('omits a zero uint64 field, as proto3 does', () => {
    expect(encodeUint64Field(1, 0n).byteLength).toBe(0);
  });

  it('refuses truncated and malformed messages', () => {
    expect(() => readFields(Uint8Array.of(0x08, 0x80))).toThrow(WireFormatError);
    expect(() => readFields(Uint8Array.of(0x12, 0x05, 1, 2))).toThrow(/past the end/);
    expect(() => readFields(Uint8Array.of(0x0b))).toThrow(/wire type 3/);
    expect(() => readFields(Uint8Array.of(0x00))).toThrow(/field number 0/);
  });
});
