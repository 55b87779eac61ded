/**
 * Hand-written protobuf encoding of the few etcd v3 messages the cluster benchmarks send, and
 * gRPC's length-prefixed message framing. The load generators build one frame per request, so
 * this stays allocation-light on purpose: no generated codecs, no protobuf runtime on the hot
 * path. (The generated codecs in src/generated map uint64 to `number`, which loses member ids
 * above 2^53, and bench/ imports src only through index files; hence the small decoder here.)
 *
 * Field numbers follow etcd's rpc.proto (proto/etcdserverpb/rpc.proto in this repository):
 * PutRequest{key=1, value=2}, RangeRequest{key=1, range_end=2, serializable=7},
 * StatusRequest{}, StatusResponse{header=1, version=2, leader=4, raftIndex=5, raftTerm=6,
 * raftAppliedIndex=7, errors=8}, ResponseHeader{cluster_id=1, member_id=2, revision=3,
 * raft_term=4}, RangeResponse{header=1, kvs=2, more=3, count=4}.
 */

export const PUT_PATH = '/etcdserverpb.KV/Put';
export const RANGE_PATH = '/etcdserverpb.KV/Range';
export const STATUS_PATH = '/etcdserverpb.Maintenance/Status';

/** gRPC status codes the benchmarks name (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GRPC_STATUS_OK = 0;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Bytes a varint of `value` (a non-negative safe integer) takes. */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes `value` (a non-negative safe integer) as a varint at `offset`; returns the new offset. */
function writeVarint(target: Buffer, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  target[offset++] = value;
  return offset;
}

/** Size of a length-delimited field with a field number below 16 (one tag byte). */
function bytesFieldSize(length: number): number {
  return length === 0 ? 0 : 1 + varintSize(length) + length;
}

function writeBytesField(
  target: Buffer,
  offset: number,
  fieldNumber: number,
  bytes: Uint8Array,
): number {
  if (bytes.byteLength === 0) return offset; // proto3: empty bytes are not written
  offset = writeVarint(target, offset, (fieldNumber << 3) | WIRE_LENGTH_DELIMITED);
  offset = writeVarint(target, offset, bytes.byteLength);
  target.set(bytes, offset);
  return offset + bytes.byteLength;
}

/** The 5-byte gRPC message prefix: compressed flag 0, big-endian message length. */
const FRAME_PREFIX_BYTES = 5;

function allocateFrame(messageBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + messageBytes);
  frame[0] = 0;
  frame.writeUInt32BE(messageBytes, 1);
  return frame;
}

/** A gRPC frame (prefix + message) holding PutRequest{key, value}. */
export function encodePutFrame(key: Uint8Array, value: Uint8Array): Buffer {
  const frame = allocateFrame(bytesFieldSize(key.byteLength) + bytesFieldSize(value.byteLength));
  const offset = writeBytesField(frame, FRAME_PREFIX_BYTES, 1, key);
  writeBytesField(frame, offset, 2, value);
  return frame;
}

/**
 * A gRPC frame holding RangeRequest{key, range_end, serializable}. `serializable: false` is a
 * linearizable read (etcd's default): the member confirms its leadership with a read index.
 */
export function encodeRangeFrame(
  key: Uint8Array,
  options: { rangeEnd?: Uint8Array; serializable?: boolean } = {},
): Buffer {
  const rangeEnd = options.rangeEnd ?? new Uint8Array(0);
  const isSerializable = options.serializable ?? false;
  const frame = allocateFrame(
    bytesFieldSize(key.byteLength) + bytesFieldSize(rangeEnd.byteLength) + (isSerializable ? 2 : 0),
  );
  const offset = writeBytesField(
    frame,
    writeBytesField(frame, FRAME_PREFIX_BYTES, 1, key),
    2,
    rangeEnd,
  );
  if (isSerializable) {
    frame[offset] = (7 << 3) | WIRE_VARINT;
    frame[offset + 1] = 1;
  }
  return frame;
}

/** A gRPC frame holding the empty StatusRequest. */
export function encodeStatusFrame(): Buffer {
  return allocateFrame(0);
}

/**
 * The messages in a gRPC response body (concatenated length-prefixed frames). Throws on a
 * truncated frame or a compressed one (the benchmarks never negotiate compression).
 */
export function parseGrpcFrames(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset < body.byteLength) {
    if (body.byteLength - offset < FRAME_PREFIX_BYTES) throw new Error('truncated gRPC frame');
    if (body[offset] !== 0) throw new Error('compressed gRPC frame (not negotiated)');
    const length = body.readUInt32BE(offset + 1);
    const start = offset + FRAME_PREFIX_BYTES;
    if (start + length > body.byteLength) throw new Error('truncated gRPC message');
    messages.push(body.subarray(start, start + length));
    offset = start + length;
  }
  return messages;
}

/** One protobuf field as read off the wire: varints as bigint, length-delimited as bytes. */
type WireField =
  | { readonly fieldNumber: number; readonly kind: 'varint'; readonly value: bigint }
  | { readonly fieldNumber: number; readonly kind: 'bytes'; readonly value: Buffer }
  | { readonly fieldNumber: number; readonly kind: 'fixed' };

function readVarint(bytes: Buffer, offset: number): { value: bigint; offset: number } {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    if (offset >= bytes.byteLength) throw new Error('truncated varint');
    const byte = bytes[offset++] ?? 0;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value, offset };
    shift += 7n;
    if (shift > 63n) throw new Error('varint longer than 10 bytes');
  }
}

/** The top-level fields of a protobuf message, in wire order. */
export function readFields(bytes: Buffer): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const tag = readVarint(bytes, offset);
    offset = tag.offset;
    const fieldNumber = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    if (wireType === WIRE_VARINT) {
      const varint = readVarint(bytes, offset);
      offset = varint.offset;
      fields.push({ fieldNumber, kind: 'varint', value: varint.value });
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const length = readVarint(bytes, offset);
      const start = length.offset;
      const end = start + Number(length.value);
      if (end > bytes.byteLength) throw new Error('truncated length-delimited field');
      fields.push({ fieldNumber, kind: 'bytes', value: bytes.subarray(start, end) });
      offset = end;
    } else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      offset += wireType === WIRE_FIXED64 ? 8 : 4;
      fields.push({ fieldNumber, kind: 'fixed' });
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  return fields;
}

export interface ResponseHeader {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly revision: bigint;
  readonly raftTerm: bigint;
}

export interface StatusResponse {
  readonly header: ResponseHeader;
  readonly version: string;
  /** Member id of the leader as this member sees it; 0n when it knows none. */
  readonly leader: bigint;
  readonly raftIndex: bigint;
  readonly raftTerm: bigint;
  readonly raftAppliedIndex: bigint;
  readonly errors: readonly string[];
}

function varintOf(fields: readonly WireField[], fieldNumber: number): bigint {
  let value = 0n;
  for (const field of fields) {
    if (field.fieldNumber === fieldNumber && field.kind === 'varint') value = field.value;
  }
  return value;
}

function bytesOf(fields: readonly WireField[], fieldNumber: number): Buffer | undefined {
  let value: Buffer | undefined;
  for (const field of fields) {
    if (field.fieldNumber === fieldNumber && field.kind === 'bytes') value = field.value;
  }
  return value;
}

/** ResponseHeader from the bytes of the `header` field (all zero when absent). */
export function decodeResponseHeader(bytes: Buffer | undefined): ResponseHeader {
  const fields = bytes === undefined ? [] : readFields(bytes);
  return {
    clusterId: varintOf(fields, 1),
    memberId: varintOf(fields, 2),
    revision: varintOf(fields, 3),
    raftTerm: varintOf(fields, 4),
  };
}

/** The ResponseHeader of any etcd response message (field 1 in all of them). */
export function decodeHeaderOf(message: Buffer): ResponseHeader {
  return decodeResponseHeader(bytesOf(readFields(message), 1));
}

export function decodeStatusResponse(message: Buffer): StatusResponse {
  const fields = readFields(message);
  return {
    header: decodeResponseHeader(bytesOf(fields, 1)),
    version: bytesOf(fields, 2)?.toString('utf8') ?? '',
    leader: varintOf(fields, 4),
    raftIndex: varintOf(fields, 5),
    raftTerm: varintOf(fields, 6),
    raftAppliedIndex: varintOf(fields, 7),
    errors: fields.flatMap((field) =>
      field.fieldNumber === 8 && field.kind === 'bytes' ? [field.value.toString('utf8')] : [],
    ),
  };
}

/** RangeResponse's `count` and number of `kvs` entries. */
export function decodeRangeCounts(message: Buffer): { kvs: number; count: bigint } {
  const fields = readFields(message);
  const kvs = fields.filter((field) => field.fieldNumber === 2 && field.kind === 'bytes').length;
  return { kvs, count: varintOf(fields, 4) };
}

/** Member ids print as etcd prints them: lowercase hex. */
export function formatMemberId(id: bigint): string {
  return id.toString(16);
}
