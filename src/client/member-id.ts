/**
 * Member ids as people read and type them: lowercase hexadecimal without padding, as etcdctl
 * prints them (`8e9e05c52164694d`). Pure.
 */
import type { MemberId } from './client-types.js';

const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

/** `id` in lowercase hex, e.g. `8e9e05c52164694d`. */
export function formatMemberId(id: MemberId): string {
  return id.toString(16);
}

/**
 * The member id written in `text` (hex, optionally `0x`-prefixed, 1 to 16 digits), or undefined
 * if it is not one. 0 is not a member id.
 */
export function parseMemberId(text: string): MemberId | undefined {
  const digits = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,16}$/i.test(digits)) return undefined;
  const id = BigInt(`0x${digits}`);
  return id === 0n || id > UINT64_MAX ? undefined : id;
}
