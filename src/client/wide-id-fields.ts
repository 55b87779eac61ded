/**
 * etcd's member ids, cluster ids and lease ids are random 64-bit numbers, nearly always above
 * 2^53, and the generated codecs (64-bit integers as `number`, decision 0007) refuse to decode
 * them rather than lose precision. So the client reads those fields itself, exactly, as bigints,
 * and hands the generated decoder the message without them. Owns the list of such fields per
 * response message ("shapes") and the rewriting; never decodes anything else by hand.
 */
import {
  concatBytes,
  encodeLengthDelimitedField,
  readFields,
  readVarint,
  type WireField,
  WireType,
} from './wire-format.js';

/** Which fields of a message are wide ids, and which fields are messages that may hold some. */
export interface MessageShape {
  /** uint64/int64 fields that may exceed 2^53: removed before the generated decoder runs. */
  readonly wideFields: readonly number[];
  /** Fields holding a message (singular or repeated), with that message's shape. */
  readonly messageFields: ReadonlyMap<number, MessageShape>;
}

function shape(wideFields: readonly number[], messageFields: [number, MessageShape][] = []) {
  return { wideFields, messageFields: new Map(messageFields) };
}

/** etcdserverpb.ResponseHeader: cluster_id = 1, member_id = 2. */
export const RESPONSE_HEADER_SHAPE = shape([1, 2]);
/** mvccpb.KeyValue: lease = 6 (etcd lease ids are 64-bit). */
const KEY_VALUE_SHAPE = shape([6]);
/** etcdserverpb.Member: ID = 1. */
const MEMBER_SHAPE = shape([1]);

export const RANGE_RESPONSE_SHAPE = shape(
  [],
  [
    [1, RESPONSE_HEADER_SHAPE],
    [2, KEY_VALUE_SHAPE],
  ],
);
export const PUT_RESPONSE_SHAPE = shape(
  [],
  [
    [1, RESPONSE_HEADER_SHAPE],
    [2, KEY_VALUE_SHAPE],
  ],
);
export const DELETE_RANGE_RESPONSE_SHAPE = shape(
  [],
  [
    [1, RESPONSE_HEADER_SHAPE],
    [3, KEY_VALUE_SHAPE],
  ],
);
/** ResponseOp: response_range = 1, response_put = 2, response_delete_range = 3, response_txn = 4. */
const responseOpFields = new Map<number, MessageShape>([
  [1, RANGE_RESPONSE_SHAPE],
  [2, PUT_RESPONSE_SHAPE],
  [3, DELETE_RANGE_RESPONSE_SHAPE],
]);
const RESPONSE_OP_SHAPE: MessageShape = { wideFields: [], messageFields: responseOpFields };
/** TxnResponse: header = 1, responses = 3 (ResponseOp, which may nest a TxnResponse). */
export const TXN_RESPONSE_SHAPE = shape(
  [],
  [
    [1, RESPONSE_HEADER_SHAPE],
    [3, RESPONSE_OP_SHAPE],
  ],
);
responseOpFields.set(4, TXN_RESPONSE_SHAPE);

/** MemberListResponse, MemberRemoveResponse, MemberPromoteResponse: header = 1, members = 2. */
export const MEMBERS_RESPONSE_SHAPE = shape(
  [],
  [
    [1, RESPONSE_HEADER_SHAPE],
    [2, MEMBER_SHAPE],
  ],
);
/** MemberAddResponse: header = 1, member = 2, members = 3. */
export const MEMBER_ADD_RESPONSE_SHAPE = shape(
  [],
  [
    [1, RESPONSE_HEADER_SHAPE],
    [2, MEMBER_SHAPE],
    [3, MEMBER_SHAPE],
  ],
);
/** StatusResponse: header = 1, leader = 4. */
export const STATUS_RESPONSE_SHAPE = shape([4], [[1, RESPONSE_HEADER_SHAPE]]);

/**
 * `bytes` without the wide id fields of `messageShape`, at any depth. Returns `bytes` itself when
 * nothing had to go (the usual case against raftkv, whose ids are small but still sent).
 */
export function withoutWideFields(bytes: Uint8Array, messageShape: MessageShape): Uint8Array {
  const fields = readFields(bytes);
  let isChanged = false;
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    const fieldBytes = bytes.subarray(field.start, field.end);
    if (messageShape.wideFields.includes(field.fieldNumber)) {
      isChanged = true;
      continue;
    }
    const nested = messageShape.messageFields.get(field.fieldNumber);
    if (nested === undefined || field.wireType !== WireType.lengthDelimited) {
      parts.push(fieldBytes);
      continue;
    }
    const payload = bytes.subarray(field.valueStart, field.end);
    const rewritten = withoutWideFields(payload, nested);
    if (rewritten === payload) {
      parts.push(fieldBytes);
    } else {
      isChanged = true;
      parts.push(encodeLengthDelimitedField(field.fieldNumber, rewritten));
    }
  }
  return isChanged ? concatBytes(parts) : bytes;
}

function lastField(bytes: Uint8Array, fieldNumber: number): WireField | undefined {
  return readFields(bytes).findLast((field) => field.fieldNumber === fieldNumber);
}

/** The value of a uint64 field (the last occurrence wins, as in protobuf); 0 when absent. */
export function readUint64Field(bytes: Uint8Array, fieldNumber: number): bigint {
  const field = lastField(bytes, fieldNumber);
  if (field === undefined || field.wireType !== WireType.varint) return 0n;
  return readVarint(bytes, field.valueStart).value;
}

/** The payloads of every occurrence of a message field, in order (a repeated field's items). */
export function readMessageFields(bytes: Uint8Array, fieldNumber: number): Uint8Array[] {
  return readFields(bytes)
    .filter(
      (field) => field.fieldNumber === fieldNumber && field.wireType === WireType.lengthDelimited,
    )
    .map((field) => bytes.subarray(field.valueStart, field.end));
}

/** The payload of a singular message field (the last occurrence); empty when absent. */
export function readMessageField(bytes: Uint8Array, fieldNumber: number): Uint8Array {
  return readMessageFields(bytes, fieldNumber).at(-1) ?? new Uint8Array(0);
}
