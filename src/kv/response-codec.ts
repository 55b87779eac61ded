/**
 * The binary encoding of write responses, for the exactly-once session table inside snapshots.
 * Same conventions as the command encoding (command-codec.ts): big-endian, length-prefixed,
 * deterministic; damage decodes to a MALFORMED_DATA KvError.
 */
import type { BinaryReader } from './binary-reader.js';
import type { BinaryWriter } from './binary-writer.js';
import { TXN_NESTING_DEPTH_MAX } from './command-codec.js';
import { malformedData } from './kv-error.js';
import type { KeyValue, ResponseOp } from './kv-types.js';

const RANGE = 0;
const PUT = 1;
const DELETE_RANGE = 2;
const TXN = 3;

/** Appends one response (a range, put, delete or transaction response). */
export function writeResponse(writer: BinaryWriter, response: ResponseOp): void {
  if ('range' in response) {
    writer.uint8(RANGE);
    writeKeyValues(writer, response.range.kvs);
    writer.uint8(response.range.more ? 1 : 0);
    writer.float64(response.range.count);
    writer.float64(response.range.revision);
  } else if ('put' in response) {
    writer.uint8(PUT);
    writer.float64(response.put.revision);
    writeKeyValues(writer, response.put.prevKv === undefined ? [] : [response.put.prevKv]);
  } else if ('deleteRange' in response) {
    writer.uint8(DELETE_RANGE);
    writer.float64(response.deleteRange.revision);
    writer.float64(response.deleteRange.deleted);
    writeKeyValues(writer, response.deleteRange.prevKvs);
  } else {
    writer.uint8(TXN);
    writer.uint8(response.txn.succeeded ? 1 : 0);
    writer.float64(response.txn.revision);
    writer.uint32(response.txn.responses.length);
    for (const inner of response.txn.responses) {
      writeResponse(writer, inner);
    }
  }
}

/** Reads what {@link writeResponse} wrote. */
export function readResponse(reader: BinaryReader, depth = 0): ResponseOp {
  const tag = reader.uint8();
  switch (tag) {
    case RANGE: {
      const kvs = readKeyValues(reader);
      const more = reader.uint8() === 1;
      const count = reader.float64();
      return { range: { kvs, more, count, revision: reader.float64() } };
    }
    case PUT: {
      const revision = reader.float64();
      const [prevKv, ...rest] = readKeyValues(reader);
      if (rest.length > 0) {
        throw malformedData('put response with several previous values');
      }
      return { put: prevKv === undefined ? { revision } : { revision, prevKv } };
    }
    case DELETE_RANGE: {
      const revision = reader.float64();
      const deleted = reader.float64();
      return { deleteRange: { revision, deleted, prevKvs: readKeyValues(reader) } };
    }
    case TXN: {
      if (depth >= TXN_NESTING_DEPTH_MAX) {
        throw malformedData(`responses nested deeper than ${TXN_NESTING_DEPTH_MAX}`);
      }
      const succeeded = reader.uint8() === 1;
      const revision = reader.float64();
      const count = reader.uint32();
      const responses: ResponseOp[] = [];
      for (let index = 0; index < count; index++) {
        responses.push(readResponse(reader, depth + 1));
      }
      return { txn: { succeeded, responses, revision } };
    }
    default:
      throw malformedData(`unknown response tag ${tag}`);
  }
}

function writeKeyValues(writer: BinaryWriter, keyValues: readonly KeyValue[]): void {
  writer.uint32(keyValues.length);
  for (const keyValue of keyValues) {
    writer.bytes(keyValue.key);
    writer.bytes(keyValue.value);
    writer.float64(keyValue.createRevision);
    writer.float64(keyValue.modRevision);
    writer.float64(keyValue.version);
  }
}

function readKeyValues(reader: BinaryReader): KeyValue[] {
  const count = reader.uint32();
  const keyValues: KeyValue[] = [];
  for (let index = 0; index < count; index++) {
    keyValues.push({
      key: reader.bytes(),
      value: reader.bytes(),
      createRevision: reader.float64(),
      modRevision: reader.float64(),
      version: reader.float64(),
    });
  }
  return keyValues;
}
