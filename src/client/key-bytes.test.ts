import { describe, expect, it } from 'vitest';

import { ClientError } from './client-error.js';
import { keyRange, prefixRangeEnd, toBuffer } from './key-bytes.js';

const bytes = (...values: number[]) => Uint8Array.of(...values);

describe('key ranges', () => {
  it('ends a prefix range at the prefix with its last byte below 0xff incremented', () => {
    expect(prefixRangeEnd(bytes(0x61))).toEqual(bytes(0x62));
    expect(prefixRangeEnd(bytes(0x61, 0xff))).toEqual(bytes(0x62));
    expect(prefixRangeEnd(bytes(0x61, 0xfe, 0xff, 0xff))).toEqual(bytes(0x61, 0xff));
    expect(prefixRangeEnd(bytes(0xff, 0xff))).toEqual(bytes(0));
  });

  it('never changes the prefix it is given (Buffer slices are views)', () => {
    const prefix = Buffer.from('foo');
    expect(Buffer.from(prefixRangeEnd(prefix)).toString()).toBe('fop');
    expect(prefix.toString()).toBe('foo');
  });

  it('names a key, a prefix, all keys, or an explicit range', () => {
    expect(keyRange('a', {})).toEqual({ key: Buffer.from('a'), rangeEnd: Buffer.alloc(0) });
    expect(keyRange('a/', { prefix: true })).toEqual({
      key: Buffer.from('a/'),
      rangeEnd: Buffer.from('a0'),
    });
    expect(keyRange('', { prefix: true })).toEqual({
      key: Buffer.from([0]),
      rangeEnd: Buffer.from([0]),
    });
    expect(keyRange('a', { rangeEnd: 'c' })).toEqual({
      key: Buffer.from('a'),
      rangeEnd: Buffer.from('c'),
    });
    expect(() => keyRange('a', { prefix: true, rangeEnd: 'c' })).toThrow(ClientError);
  });

  it('sends strings as UTF-8 and byte arrays without copying', () => {
    expect([...toBuffer('é')]).toEqual([0xc3, 0xa9]);
    const array = bytes(1, 2, 3, 4).subarray(1, 3);
    const buffer = toBuffer(array);
    expect([...buffer]).toEqual([2, 3]);
    expect(buffer.buffer).toBe(array.buffer);
  });
});
