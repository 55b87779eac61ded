/**
 * CRC-32C (Castagnoli), the checksum of every WAL record, segment header and snapshot. Computed
 * by `@node-rs/crc32`, which uses the CPU's CRC instructions (SSE 4.2 / ARMv8) and falls back to
 * software elsewhere: recovery checksums hundreds of megabytes (docs/decisions/0004-storage-format.md).
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of buffer[start, end). */
export function crc32c(buffer: Buffer, start: number, end: number): number {
  return nativeCrc32c(buffer.subarray(start, end)) >>> 0;
}
