/**
 * The binary encoding of write requests in log entries: a format version byte, then the request.
 * Deterministic and exact: decode(encode(request)) equals the request field for field, absent
 * optional fields included (each optional field carries a presence marker). Decoding untrusted
 * bytes never crashes: damage is a MALFORMED_DATA KvError.
 */
import { assertNever } from '../common/index.js';
import { BinaryReader } from './binary-reader.js';
import { BinaryWriter } from './binary-writer.js';
import { malformedData } from './kv-error.js';
import type {
  Compare,
  CompareResult,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  WriteRequest,
} from './kv-types.js';

/** The current command format version, the first byte of every encoded command. */
export const COMMAND_FORMAT_VERSION = 1;
/** Deepest transaction nesting a decoded command may have; bounds decoder recursion. */
export const TXN_NESTING_DEPTH_MAX = 32;

const enum Tag {
  Range = 0,
  Put = 1,
  DeleteRange = 2,
  Txn = 3,
}

const SORT_ORDERS: readonly SortOrder[] = ['none', 'ascend', 'descend'];
const SORT_TARGETS: readonly SortTarget[] = ['key', 'version', 'create', 'mod', 'value'];
const COMPARE_TARGETS: readonly Compare['target'][] = [
  'version',
  'createRevision',
  'modRevision',
  'value',
  'lease',
];
const COMPARE_RESULTS: readonly CompareResult[] = ['equal', 'greater', 'less', 'notEqual'];

/** Encodes a write request for a log entry. */
export function encodeCommand(request: WriteRequest): Uint8Array {
  const writer = new BinaryWriter();
  writer.uint8(COMMAND_FORMAT_VERSION);
  writeOperation(writer, request);
  return writer.finish();
}

/** Decodes {@link encodeCommand} output; throws a MALFORMED_DATA KvError for anything else. */
export function decodeCommand(data: Uint8Array): WriteRequest {
  const reader = new BinaryReader(data);
  const formatVersion = reader.uint8();
  if (formatVersion !== COMMAND_FORMAT_VERSION) {
    throw malformedData(`unknown command format version ${formatVersion}`);
  }
  const operation = readOperation(reader, 0);
  if ('range' in operation) {
    throw malformedData('a range is not a write command');
  }
  reader.expectEnd();
  return operation;
}

function writeOperation(writer: BinaryWriter, operation: RequestOp): void {
  if ('range' in operation) {
    writer.uint8(Tag.Range);
    writeRange(writer, operation.range);
  } else if ('put' in operation) {
    writer.uint8(Tag.Put);
    writePut(writer, operation.put);
  } else if ('deleteRange' in operation) {
    writer.uint8(Tag.DeleteRange);
    writer.bytes(operation.deleteRange.key);
    writeOptionalBytes(writer, operation.deleteRange.rangeEnd);
    writeOptionalBoolean(writer, operation.deleteRange.prevKv);
  } else {
    writer.uint8(Tag.Txn);
    writeTxn(writer, operation.txn);
  }
}

function readOperation(reader: BinaryReader, depth: number): RequestOp {
  const tag = reader.uint8();
  switch (tag) {
    case Tag.Range:
      return { range: readRange(reader) };
    case Tag.Put:
      return { put: readPut(reader) };
    case Tag.DeleteRange: {
      const key = reader.bytes();
      const rangeEnd = readOptionalBytes(reader);
      const prevKv = readOptionalBoolean(reader);
      const request: DeleteRangeRequest = {
        key,
        ...(rangeEnd === undefined ? {} : { rangeEnd }),
        ...(prevKv === undefined ? {} : { prevKv }),
      };
      return { deleteRange: request };
    }
    case Tag.Txn:
      if (depth >= TXN_NESTING_DEPTH_MAX) {
        throw malformedData(`transactions nested deeper than ${TXN_NESTING_DEPTH_MAX}`);
      }
      return { txn: readTxn(reader, depth + 1) };
    default:
      throw malformedData(`unknown operation tag ${tag}`);
  }
}

function writeRange(writer: BinaryWriter, request: RangeRequest): void {
  writer.bytes(request.key);
  writeOptionalBytes(writer, request.rangeEnd);
  writeOptionalNumber(writer, request.limit);
  writeOptionalBoolean(writer, request.countOnly);
  writeOptionalBoolean(writer, request.keysOnly);
  writeOptionalBoolean(writer, request.serializable);
  writeOptionalNumber(writer, request.revision);
  writeOptionalChoice(writer, SORT_ORDERS, request.sortOrder);
  writeOptionalChoice(writer, SORT_TARGETS, request.sortTarget);
}

function readRange(reader: BinaryReader): RangeRequest {
  const key = reader.bytes();
  const rangeEnd = readOptionalBytes(reader);
  const limit = readOptionalNumber(reader);
  const countOnly = readOptionalBoolean(reader);
  const keysOnly = readOptionalBoolean(reader);
  const serializable = readOptionalBoolean(reader);
  const revision = readOptionalNumber(reader);
  const sortOrder = readOptionalChoice(reader, SORT_ORDERS, 'sortOrder');
  const sortTarget = readOptionalChoice(reader, SORT_TARGETS, 'sortTarget');
  return {
    key,
    ...(rangeEnd === undefined ? {} : { rangeEnd }),
    ...(limit === undefined ? {} : { limit }),
    ...(countOnly === undefined ? {} : { countOnly }),
    ...(keysOnly === undefined ? {} : { keysOnly }),
    ...(serializable === undefined ? {} : { serializable }),
    ...(revision === undefined ? {} : { revision }),
    ...(sortOrder === undefined ? {} : { sortOrder }),
    ...(sortTarget === undefined ? {} : { sortTarget }),
  };
}

function writePut(writer: BinaryWriter, request: PutRequest): void {
  writer.bytes(request.key);
  writer.bytes(request.value);
  writeOptionalBoolean(writer, request.prevKv);
  writeOptionalNumber(writer, request.lease);
  writeOptionalBoolean(writer, request.ignoreValue);
  writeOptionalBoolean(writer, request.ignoreLease);
}

function readPut(reader: BinaryReader): PutRequest {
  const key = reader.bytes();
  const value = reader.bytes();
  const prevKv = readOptionalBoolean(reader);
  const lease = readOptionalNumber(reader);
  const ignoreValue = readOptionalBoolean(reader);
  const ignoreLease = readOptionalBoolean(reader);
  return {
    key,
    value,
    ...(prevKv === undefined ? {} : { prevKv }),
    ...(lease === undefined ? {} : { lease }),
    ...(ignoreValue === undefined ? {} : { ignoreValue }),
    ...(ignoreLease === undefined ? {} : { ignoreLease }),
  };
}

function writeTxn(writer: BinaryWriter, request: TxnRequest): void {
  writer.uint32(request.compare.length);
  for (const compare of request.compare) {
    writeCompare(writer, compare);
  }
  for (const branch of [request.success, request.failure]) {
    writer.uint32(branch.length);
    for (const operation of branch) {
      writeOperation(writer, operation);
    }
  }
}

function readTxn(reader: BinaryReader, depth: number): TxnRequest {
  const compare = readList(reader, () => readCompare(reader));
  const success = readList(reader, () => readOperation(reader, depth));
  const failure = readList(reader, () => readOperation(reader, depth));
  return { compare, success, failure };
}

/** Reads a count and that many items; each item consumes at least one byte, bounding the count. */
function readList<Item>(reader: BinaryReader, readItem: () => Item): Item[] {
  const count = reader.uint32();
  const items: Item[] = [];
  for (let index = 0; index < count; index++) {
    items.push(readItem());
  }
  return items;
}

function writeCompare(writer: BinaryWriter, compare: Compare): void {
  writer.bytes(compare.key);
  writeOptionalBytes(writer, compare.rangeEnd);
  writer.uint8(COMPARE_TARGETS.indexOf(compare.target));
  writer.uint8(COMPARE_RESULTS.indexOf(compare.result));
  switch (compare.target) {
    case 'value':
      writer.bytes(compare.targetValue);
      break;
    case 'version':
    case 'createRevision':
    case 'modRevision':
    case 'lease':
      writer.float64(compare.targetValue);
      break;
    default:
      assertNever(compare, 'compare target');
  }
}

function readCompare(reader: BinaryReader): Compare {
  const key = reader.bytes();
  const rangeEnd = readOptionalBytes(reader);
  const target = readChoice(reader, COMPARE_TARGETS, 'compare target');
  const result = readChoice(reader, COMPARE_RESULTS, 'compare result');
  const keyPart = { key, ...(rangeEnd === undefined ? {} : { rangeEnd }) };
  if (target === 'value') {
    return { ...keyPart, target, result, targetValue: reader.bytes() };
  }
  return { ...keyPart, target, result, targetValue: reader.float64() };
}

// Optional fields: a presence byte (0 absent, 1 present) before the value, so that an absent
// field and a present zero or false decode back to what was encoded.

function writeOptionalBytes(writer: BinaryWriter, value: Uint8Array | undefined): void {
  writer.uint8(value === undefined ? 0 : 1);
  if (value !== undefined) {
    writer.bytes(value);
  }
}

function readOptionalBytes(reader: BinaryReader): Uint8Array | undefined {
  return readPresence(reader) ? reader.bytes() : undefined;
}

function writeOptionalNumber(writer: BinaryWriter, value: number | undefined): void {
  writer.uint8(value === undefined ? 0 : 1);
  if (value !== undefined) {
    writer.float64(value);
  }
}

function readOptionalNumber(reader: BinaryReader): number | undefined {
  return readPresence(reader) ? reader.float64() : undefined;
}

/** A boolean as one byte: 0 absent, 1 false, 2 true. */
function writeOptionalBoolean(writer: BinaryWriter, value: boolean | undefined): void {
  writer.uint8(value === undefined ? 0 : value ? 2 : 1);
}

function readOptionalBoolean(reader: BinaryReader): boolean | undefined {
  const marker = reader.uint8();
  if (marker > 2) {
    throw malformedData(`bad boolean marker ${marker}`);
  }
  return marker === 0 ? undefined : marker === 2;
}

/** An enumerated string as one byte: 0 absent, else 1 + its index in `choices`. */
function writeOptionalChoice<Choice>(
  writer: BinaryWriter,
  choices: readonly Choice[],
  value: Choice | undefined,
): void {
  writer.uint8(value === undefined ? 0 : choices.indexOf(value) + 1);
}

function readOptionalChoice<Choice>(
  reader: BinaryReader,
  choices: readonly Choice[],
  what: string,
): Choice | undefined {
  const marker = reader.uint8();
  if (marker === 0) {
    return undefined;
  }
  const choice = choices[marker - 1];
  if (choice === undefined) {
    throw malformedData(`unknown ${what} ${marker - 1}`);
  }
  return choice;
}

function readChoice<Choice>(
  reader: BinaryReader,
  choices: readonly Choice[],
  what: string,
): Choice {
  const index = reader.uint8();
  const choice = choices[index];
  if (choice === undefined) {
    throw malformedData(`unknown ${what} ${index}`);
  }
  return choice;
}

function readPresence(reader: BinaryReader): boolean {
  const marker = reader.uint8();
  if (marker > 1) {
    throw malformedData(`bad presence marker ${marker}`);
  }
  return marker === 1;
}
