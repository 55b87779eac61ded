/** Pins the checksum algorithm: CRC-32C (Castagnoli), not plain CRC-32. */
import { describe, expect, it } from 'vitest';

import { crc32c } from './crc32c.js';

describe('crc32c', () => {
  it('matches the standard check value of CRC-32C', () => {
    const input = Buffer.from('123456789');
    expect(crc32c(input, 0, input.byteLength).toString(16)).toBe('e3069283');
  });

  it('checksums only the requested range', () => {
    const input = Buffer.from('xx123456789yy');
    expect(crc32c(input, 2, 11)).toBe(0xe3069283);
  });
});
