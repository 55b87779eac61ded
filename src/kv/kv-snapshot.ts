/**
 * The snapshot format of the state machine: a version byte, the store revision, every key in key
 * order with its value and metadata, then the exactly-once session table, least recent first. The encoding is deterministic, so members with the same
 * state produce identical bytes. Decoding checks everything a healthy encoder guarantees.
 */
import { BinaryReader } from './binary-reader.js';
import { BinaryWriter } from './binary-writer.js';
import { compareKeys } from './key-range.js';
import { malformedData } from './kv-error.js';
import type { KeyValue, WriteResponse } from './kv-types.js';
import { readResponse, writeResponse } from './response-codec.js';
import type { SessionRecord } from './session-table.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The current snapshot format version, the first byte of every snapshot. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/** The whole state a snapshot carries. */
export interface SnapshotState {
  readonly revision: number;
  /** Every key, in strictly ascending key order. */
  readonly keyValues: readonly KeyValue[];
  /** The session table, least recent client first. */
  readonly sessions: readonly SessionRecord[];
}

/** Encodes `state`; `keyValues` must already be in key order. */
export function encodeSnapshot(state: SnapshotState): Uint8Array {
  const writer = new BinaryWriter();
  writer.uint8(SNAPSHOT_FORMAT_VERSION);
  writer.float64(state.revision);
  writer.uint32(state.keyValues.length);
  for (const keyValue of state.keyValues) {
    writer.bytes(keyValue.key);
    writer.bytes(keyValue.value);
    writer.float64(keyValue.createRevision);
    writer.float64(keyValue.modRevision);
    writer.float64(keyValue.version);
  }
  writer.uint32(state.sessions.length);
  for (const session of state.sessions) {
    writer.bytes(encoder.encode(session.clientId));
    writer.float64(session.sequence);
    writer.float64(session.revision);
    writeResponse(writer, session.response);
  }
  return writer.finish();
}

/** Decodes a snapshot; throws a MALFORMED_DATA KvError for anything an encoder cannot produce. */
export function decodeSnapshot(data: Uint8Array): SnapshotState {
  const reader = new BinaryReader(data);
  const formatVersion = reader.uint8();
  if (formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    throw malformedData(`unknown snapshot format version ${formatVersion}`);
  }
  const revision = readRevision(reader, 'revision');
  const keyCount = reader.uint32();
  const keyValues: KeyValue[] = [];
  for (let index = 0; index < keyCount; index++) {
    const keyValue: KeyValue = {
      key: reader.bytes(),
      value: reader.bytes(),
      createRevision: readRevision(reader, 'createRevision'),
      modRevision: readRevision(reader, 'modRevision'),
      version: readRevision(reader, 'version'),
    };
    checkKeyValue(keyValue, keyValues[index - 1], revision);
    keyValues.push(keyValue);
  }
  const sessions = readSessions(reader);
  reader.expectEnd();
  return { revision, keyValues, sessions };
}

function readSessions(reader: BinaryReader): SessionRecord[] {
  const count = reader.uint32();
  const sessions: SessionRecord[] = [];
  for (let index = 0; index < count; index++) {
    let clientId: string;
    try {
      clientId = decoder.decode(reader.bytes());
    } catch (error) {
      if (error instanceof TypeError) {
        throw malformedData('client id is not UTF-8');
      }
      throw error;
    }
    const sequence = reader.float64();
    const revision = reader.float64();
    const response = readResponse(reader);
    if ('range' in response) {
      throw malformedData('a range response in the session table');
    }
    sessions.push({ clientId, sequence, revision, response: response satisfies WriteResponse });
  }
  return sessions;
}

function readRevision(reader: BinaryReader, field: string): number {
  const value = reader.float64();
  if (!Number.isSafeInteger(value) || value < 1) {
    throw malformedData(`${field} ${value} is not a positive integer`);
  }
  return value;
}

function checkKeyValue(keyValue: KeyValue, previous: KeyValue | undefined, revision: number): void {
  if (keyValue.key.length === 0) {
    throw malformedData('empty key');
  }
  if (previous !== undefined && compareKeys(previous.key, keyValue.key) >= 0) {
    throw malformedData('keys out of order');
  }
  if (keyValue.createRevision > keyValue.modRevision || keyValue.modRevision > revision) {
    throw malformedData('key revisions inconsistent with the store revision');
  }
}
