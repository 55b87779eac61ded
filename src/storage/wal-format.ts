/**
 * The on-disk format of write-ahead log segments (docs/decisions/0004-storage-format.md).
 *
 * A segment is a 64-byte header followed by 8-byte aligned records:
 *
 *     header:  magic "RKV-WAL1" | u32 format version | u32 header bytes | u64 cluster id
 *              | u64 node id | u64 incarnation | u64 segment sequence | 8 zero bytes
 *              | 4 zero bytes | u32 CRC-32C of bytes [0, 60)
 *     record:  u32 CRC-32C of bytes [4, 16 + payload) | u32 payload bytes | u8 type
 *              | 7 zero bytes | payload | zero padding to a multiple of 8
 *
 * A record header of sixteen zero bytes marks the end of the written part (segments are
 * preallocated with zeros). This file owns encoding and decoding only; no I/O.
 */
import { align8, readUint64, writeUint64 } from './binary.js';
import { crc32c } from './crc32c.js';
import type { StorageIdentity } from './storage-identity.js';

export const SEGMENT_MAGIC = 'RKV-WAL1';
export const WAL_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 64;
export const RECORD_HEADER_BYTES = 16;
/** No record payload may exceed this; a larger length field means the bytes are damaged. */
export const RECORD_PAYLOAD_BYTES_MAX = 64 * 1024 * 1024;

/** Record types. 0 is never a type: a zero header is the end of the written part. */
export const RecordType = {
  entry: 1,
  hardState: 2,
  /** A snapshot this node made of its own applied state; the log after it is kept. */
  snapshotCreated: 3,
  /** A snapshot received from the leader: it replaces the whole log written before it. */
  snapshotInstalled: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export function isRecordType(value: number): value is RecordType {
  return value >= RecordType.entry && value <= RecordType.snapshotInstalled;
}

/** The file name of segment `sequence`: 16 hex digits, so names sort in sequence order. */
export function segmentFileName(sequence: number): string {
  return `${sequence.toString(16).padStart(16, '0')}.wal`;
}

const SEGMENT_NAME = /^([0-9a-f]{16})\.wal$/;

/** The sequence number a segment file name encodes, or `undefined` for other names. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match?.[1] === undefined ? undefined : Number.parseInt(match[1], 16);
}

/** A decoded segment header. */
export interface SegmentHeader {
  readonly formatVersion: number;
  readonly identity: StorageIdentity;
  readonly sequence: number;
}

/** Encodes a segment header. */
export function encodeSegmentHeader(identity: StorageIdentity, sequence: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.write(SEGMENT_MAGIC, 0, 'latin1');
  header.writeUInt32LE(WAL_FORMAT_VERSION, 8);
  header.writeUInt32LE(SEGMENT_HEADER_BYTES, 12);
  header.writeBigUInt64LE(identity.clusterId, 16);
  writeUint64(header, 24, identity.nodeId);
  header.writeBigUInt64LE(identity.incarnation, 32);
  writeUint64(header, 40, sequence);
  header.writeUInt32LE(crc32c(header, 0, 60), 60);
  return header;
}

/**
 * Decodes a segment header, or says why it is not one: a string for damage, a number for an
 * unknown format version (checked before the checksum, since a future format may lay out its
 * header differently).
 */
export function decodeSegmentHeader(buffer: Buffer): SegmentHeader | string | number {
  if (buffer.byteLength < SEGMENT_HEADER_BYTES) return 'file is shorter than a segment header';
  if (buffer.toString('latin1', 0, 8) !== SEGMENT_MAGIC)
    return 'not a raftkv WAL segment (bad magic)';
  const formatVersion = buffer.readUInt32LE(8);
  if (formatVersion !== WAL_FORMAT_VERSION) return formatVersion;
  if (buffer.readUInt32LE(60) !== crc32c(buffer, 0, 60)) return 'segment header checksum mismatch';
  const nodeId = readUint64(buffer, 24);
  const sequence = readUint64(buffer, 40);
  if (buffer.readUInt32LE(12) !== SEGMENT_HEADER_BYTES || nodeId < 0 || sequence < 0) {
    return 'segment header fields out of range';
  }
  return {
    formatVersion,
    identity: {
      clusterId: buffer.readBigUInt64LE(16),
      nodeId,
      incarnation: buffer.readBigUInt64LE(32),
    },
    sequence,
  };
}

/** Bytes a record with `payloadBytes` of payload occupies, padding included. */
export function recordBytes(payloadBytes: number): number {
  return align8(RECORD_HEADER_BYTES + payloadBytes);
}

/**
 * Completes the record whose payload has already been written at `offset + 16`: writes the
 * header and the checksum, zeroes the padding. Returns the offset of the next record.
 */
export function sealRecord(
  buffer: Buffer,
  offset: number,
  type: RecordType,
  payloadBytes: number,
): number {
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  const next = align8(end);
  buffer.writeUInt32LE(payloadBytes, offset + 4);
  buffer.writeUInt32LE(type, offset + 8);
  buffer.writeUInt32LE(0, offset + 12);
  buffer.fill(0, end, next);
  buffer.writeUInt32LE(crc32c(buffer, offset + 4, end), offset);
  return next;
}

/** What lies at one record position when read back. */
export type RecordRead =
  | {
      readonly kind: 'record';
      readonly type: RecordType;
      readonly payloadStart: number;
      readonly payloadEnd: number;
      readonly next: number;
    }
  | { readonly kind: 'end' }
  | { readonly kind: 'damaged'; readonly detail: string };

/** Reads the record at `offset` (8-byte aligned, at least the header size) of a segment image. */
export function readRecord(buffer: Buffer, offset: number): RecordRead {
  const size = buffer.byteLength;
  if (offset >= size) return { kind: 'end' };
  if (offset + RECORD_HEADER_BYTES > size) {
    // Less room than a record header, all zero: the writer moved to the next segment because the
    // next record did not fit (a full segment ends with up to 8 unused bytes of its preallocation).
    for (let position = offset; position < size; position++) {
      if (buffer[position] !== 0) return { kind: 'damaged', detail: 'record header cut short' };
    }
    return { kind: 'end' };
  }
  const checksum = buffer.readUInt32LE(offset);
  const payloadBytes = buffer.readUInt32LE(offset + 4);
  const typeWord = buffer.readUInt32LE(offset + 8);
  const reserved = buffer.readUInt32LE(offset + 12);
  if (checksum === 0 && payloadBytes === 0 && typeWord === 0 && reserved === 0)
    return { kind: 'end' };
  if (!isRecordType(typeWord) || reserved !== 0) {
    return { kind: 'damaged', detail: `invalid record header (type word ${typeWord})` };
  }
  if (payloadBytes > RECORD_PAYLOAD_BYTES_MAX) {
    return { kind: 'damaged', detail: `record length ${payloadBytes} exceeds the limit` };
  }
  const payloadStart = offset + RECORD_HEADER_BYTES;
  const payloadEnd = payloadStart + payloadBytes;
  if (payloadEnd > size)
    return { kind: 'damaged', detail: 'record cut short by the end of the file' };
  if (crc32c(buffer, offset + 4, payloadEnd) !== checksum) {
    return { kind: 'damaged', detail: 'record checksum mismatch' };
  }
  const next = align8(payloadEnd);
  for (let position = payloadEnd; position < next && position < size; position++) {
    if (buffer[position] !== 0) return { kind: 'damaged', detail: 'non-zero record padding' };
  }
  return { kind: 'record', type: typeWord, payloadStart, payloadEnd, next };
}
