import { describe, expect, it } from 'vitest';

import { formatMemberId, parseMemberId } from './member-id.js';

describe('member ids', () => {
  it('prints lowercase hex without padding, as etcdctl does', () => {
    expect(formatMemberId(0x8e9e05c52164694dn)).toBe('8e9e05c52164694d');
    expect(formatMemberId(0x2an)).toBe('2a');
  });

  it('reads hex with or without 0x, exactly above 2^53', () => {
    expect(parseMemberId('8e9e05c52164694d')).toBe(0x8e9e05c52164694dn);
    expect(parseMemberId('0x8E9E05C52164694D')).toBe(0x8e9e05c52164694dn);
    expect(parseMemberId('ffffffffffffffff')).toBe(0xffffffffffffffffn);
    expect(parseMemberId(' 2a ')).toBe(42n);
  });

  it('refuses what is not a member id', () => {
    for (const text of ['', '0', '0x', 'xyz', '-1', '1ffffffffffffffff', '12 34']) {
      expect(parseMemberId(text), text).toBeUndefined();
    }
  });
});
