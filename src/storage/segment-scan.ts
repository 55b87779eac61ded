/**
 * Reads one segment image record by record and decides what a damaged record means.
 *
 * The rule (docs/decisions/0004-storage-format.md): damage in the last segment with no valid
 * record anywhere after it is a torn tail (the write of the final, never-acknowledged batch was
 * cut short) and is reported for truncation. Damage anywhere else, or followed by a valid record,
 * is corruption and stops startup. A damaged record is never handed to the visitor.
 */
import { isAllZero } from './binary.js';
import {
  decodeSegmentHeader,
  isRecordType,
  RECORD_HEADER_BYTES,
  RECORD_PAYLOAD_BYTES_MAX,
  readRecord,
  type RecordType,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  WAL_FORMAT_VERSION,
} from './wal-format.js';
import { UnknownFormatVersionError, WalCorruptError } from './storage-errors.js';

/** Called for each valid record; returns a description of the damage if the payload is invalid. */
export type RecordVisitor = (
  type: RecordType,
  payloadStart: number,
  payloadEnd: number,
  offset: number,
) => string | undefined;

/** Where a torn tail starts and what was found there. */
export interface TornTail {
  readonly offset: number;
  readonly detail: string;
}

/** The outcome of scanning one segment. */
export type SegmentScan =
  | {
      readonly kind: 'scanned';
      readonly header: SegmentHeader;
      /** Offset just after the last valid record: where appending resumes. */
      readonly endOffset: number;
      readonly tornTail: TornTail | undefined;
    }
  /** The last segment was created but its header never fully reached the disk. */
  | { readonly kind: 'tornHeader'; readonly detail: string };

/**
 * Scans `buffer`, the whole content of segment `file`: `checkHeader` sees the decoded header
 * before any record (it throws to refuse the segment), then `visit` each valid record.
 * Throws {@link WalCorruptError} or {@link UnknownFormatVersionError} for damage that is not a
 * torn tail of the last segment.
 */
export function scanSegment(
  buffer: Buffer,
  file: string,
  isLastSegment: boolean,
  visit: RecordVisitor,
  checkHeader: (header: SegmentHeader) => void = () => undefined,
): SegmentScan {
  const header = decodeSegmentHeader(buffer);
  if (typeof header === 'number') {
    throw new UnknownFormatVersionError(header, WAL_FORMAT_VERSION, file);
  }
  if (typeof header === 'string') {
    const headerEnd = Math.min(buffer.byteLength, SEGMENT_HEADER_BYTES);
    const isUnwritten = buffer.byteLength < SEGMENT_HEADER_BYTES || isAllZero(buffer, 0, headerEnd);
    if (
      isLastSegment &&
      isUnwritten &&
      findValidRecord(buffer, SEGMENT_HEADER_BYTES) === undefined
    ) {
      return { kind: 'tornHeader', detail: header };
    }
    throw new WalCorruptError(header, file, 0);
  }
  checkHeader(header);
  let offset = SEGMENT_HEADER_BYTES;
  for (;;) {
    const read = readRecord(buffer, offset);
    if (read.kind === 'record') {
      const problem = visit(read.type, read.payloadStart, read.payloadEnd, offset);
      if (problem !== undefined) throw new WalCorruptError(problem, file, offset);
      offset = read.next;
      continue;
    }
    if (read.kind === 'end' && isAllZero(buffer, offset, buffer.byteLength)) {
      return { kind: 'scanned', header, endOffset: offset, tornTail: undefined };
    }
    const detail = read.kind === 'damaged' ? read.detail : 'data after the end of the log';
    const validAfter = findValidRecord(buffer, offset + 8);
    if (!isLastSegment)
      throw new WalCorruptError(`${detail} in a segment that is not the last`, file, offset);
    if (validAfter !== undefined) {
      throw new WalCorruptError(
        `${detail}, yet a valid record follows at offset ${validAfter}: not a torn write`,
        file,
        offset,
      );
    }
    return { kind: 'scanned', header, endOffset: offset, tornTail: { offset, detail } };
  }
}

/** The offset of the first valid record at or after `from` (8-byte aligned), if any. */
function findValidRecord(buffer: Buffer, from: number): number | undefined {
  const lastStart = buffer.byteLength - RECORD_HEADER_BYTES;
  for (let offset = (from + 7) & ~7; offset <= lastStart; offset += 8) {
    const typeWord = buffer.readUInt32LE(offset + 8);
    if (!isRecordType(typeWord) || buffer.readUInt32LE(offset + 12) !== 0) continue;
    if (buffer.readUInt32LE(offset + 4) > RECORD_PAYLOAD_BYTES_MAX) continue;
    if (readRecord(buffer, offset).kind === 'record') return offset;
  }
  return undefined;
}
