/**
 * Payloads of WAL records and of the membership block of snapshot files: log entries, the hard
 * state, snapshot markers and configurations. Encoders write into a caller's buffer; decoders
 * return the value or a string describing the damage. A record's checksum has already passed
 * when its payload is decoded, so a decoding failure means a bug or a forged checksum, and it is
 * reported the same way as any other damage.
 */
import type { LogIndex, NodeId, Term } from '../common/index.js';
import type {
  ConfigurationChange,
  ConfigurationState,
  Entry,
  HardState,
  MembershipChange,
} from '../raft/index.js';
import { readUint64, writeUint64 } from './binary.js';
import type { EntryDataArena } from './entry-data-arena.js';

const ENTRY_HEADER_BYTES = 24;
const EntryKindCode = { normal: 1, configurationChange: 2 } as const;
const MEMBERSHIP_KINDS: readonly MembershipChange['kind'][] = [
  'addVoter',
  'addLearner',
  'removeNode',
];
const CHANGE_BYTES = 16;

/** Payload bytes of an entry record. */
export function entryPayloadBytes(entry: Entry): number {
  if (entry.kind === 'normal') return ENTRY_HEADER_BYTES + entry.data.byteLength;
  return ENTRY_HEADER_BYTES + 8 + CHANGE_BYTES * entry.change.changes.length;
}

/** Writes an entry payload at `offset`; `entryPayloadBytes(entry)` bytes. */
export function writeEntryPayload(buffer: Buffer, offset: number, entry: Entry): void {
  buffer.writeUInt32LE(EntryKindCode[entry.kind], offset);
  buffer.writeUInt32LE(0, offset + 4);
  writeUint64(buffer, offset + 8, entry.index);
  writeUint64(buffer, offset + 16, entry.term);
  const bodyOffset = offset + ENTRY_HEADER_BYTES;
  if (entry.kind === 'normal') {
    buffer.set(entry.data, bodyOffset);
    return;
  }
  const changes = entry.change.changes;
  buffer.writeUInt32LE(changes.length, bodyOffset);
  buffer.writeUInt32LE(0, bodyOffset + 4);
  let position = bodyOffset + 8;
  for (const change of changes) {
    buffer.writeUInt32LE(MEMBERSHIP_KINDS.indexOf(change.kind) + 1, position);
    buffer.writeUInt32LE(0, position + 4);
    writeUint64(buffer, position + 8, change.nodeId);
    position += CHANGE_BYTES;
  }
}

/**
 * Decodes an entry payload from buffer[start, end). Normal entries get a copy of their data,
 * from `arena` if given (recovery), else in an allocation of its own.
 */
export function readEntryPayload(
  buffer: Buffer,
  start: number,
  end: number,
  arena?: EntryDataArena,
): Entry | string {
  if (end - start < ENTRY_HEADER_BYTES) return 'entry record too short';
  const kindCode = buffer.readUInt32LE(start);
  const index = readUint64(buffer, start + 8);
  const term = readUint64(buffer, start + 16);
  if (index < 1 || term < 1) return `entry index ${index} or term ${term} out of range`;
  const bodyStart = start + ENTRY_HEADER_BYTES;
  if (kindCode === EntryKindCode.normal) {
    const data =
      arena === undefined
        ? new Uint8Array(buffer.subarray(bodyStart, end))
        : arena.copy(buffer, bodyStart, end);
    return { kind: 'normal', index, term, data };
  }
  if (kindCode !== EntryKindCode.configurationChange) return `unknown entry kind ${kindCode}`;
  const change = readConfigurationChange(buffer, bodyStart, end);
  if (typeof change === 'string') return change;
  return { kind: 'configurationChange', index, term, change };
}

function readConfigurationChange(
  buffer: Buffer,
  start: number,
  end: number,
): ConfigurationChange | string {
  if (end - start < 8) return 'configuration change too short';
  const count = buffer.readUInt32LE(start);
  if (end - start !== 8 + count * CHANGE_BYTES) return 'configuration change length mismatch';
  const changes: MembershipChange[] = [];
  for (let position = start + 8; position < end; position += CHANGE_BYTES) {
    const kind = MEMBERSHIP_KINDS[buffer.readUInt32LE(position) - 1];
    const nodeId = readUint64(buffer, position + 8);
    if (kind === undefined || nodeId < 1) return 'invalid membership change';
    changes.push({ kind, nodeId });
  }
  return { changes };
}

export const HARD_STATE_PAYLOAD_BYTES = 24;

export function writeHardStatePayload(buffer: Buffer, offset: number, hardState: HardState): void {
  writeUint64(buffer, offset, hardState.term);
  writeUint64(buffer, offset + 8, hardState.votedFor);
  writeUint64(buffer, offset + 16, hardState.commitIndex);
}

export function readHardStatePayload(
  buffer: Buffer,
  start: number,
  end: number,
): HardState | string {
  if (end - start !== HARD_STATE_PAYLOAD_BYTES) return 'hard state record has the wrong length';
  const term = readUint64(buffer, start);
  const votedFor = readUint64(buffer, start + 8);
  const commitIndex = readUint64(buffer, start + 16);
  if (term < 0 || votedFor < 0 || commitIndex < 0) return 'hard state field out of range';
  return { term, votedFor, commitIndex };
}

/** Where a snapshot sits in the log. */
export interface SnapshotPosition {
  readonly index: LogIndex;
  readonly term: Term;
}

export const SNAPSHOT_MARKER_PAYLOAD_BYTES = 16;

export function writeSnapshotMarkerPayload(
  buffer: Buffer,
  offset: number,
  position: SnapshotPosition,
): void {
  writeUint64(buffer, offset, position.index);
  writeUint64(buffer, offset + 8, position.term);
}

export function readSnapshotMarkerPayload(
  buffer: Buffer,
  start: number,
  end: number,
): SnapshotPosition | string {
  if (end - start !== SNAPSHOT_MARKER_PAYLOAD_BYTES) return 'snapshot marker has the wrong length';
  const index = readUint64(buffer, start);
  const term = readUint64(buffer, start + 8);
  if (index < 0 || term < 0) return 'snapshot marker field out of range';
  return { index, term };
}

const ID_LISTS = ['voters', 'votersOutgoing', 'learners', 'learnersNext'] as const;

/** Bytes of an encoded configuration. */
export function configurationBytes(configuration: ConfigurationState): number {
  let ids = 0;
  for (const list of ID_LISTS) ids += configuration[list].length;
  return 8 + ID_LISTS.length * 4 + ids * 8;
}

/** Encodes a configuration: u32 auto-leave flag, u32 zero, then four counted lists of u64 ids. */
export function writeConfiguration(
  buffer: Buffer,
  offset: number,
  configuration: ConfigurationState,
): void {
  buffer.writeUInt32LE(configuration.isAutoLeave ? 1 : 0, offset);
  buffer.writeUInt32LE(0, offset + 4);
  let position = offset + 8;
  for (const list of ID_LISTS) {
    const ids = configuration[list];
    buffer.writeUInt32LE(ids.length, position);
    position += 4;
    for (const id of ids) {
      writeUint64(buffer, position, id);
      position += 8;
    }
  }
}

export function readConfiguration(
  buffer: Buffer,
  start: number,
  end: number,
): ConfigurationState | string {
  if (end - start < 8 + ID_LISTS.length * 4) return 'configuration too short';
  const autoLeave = buffer.readUInt32LE(start);
  if (autoLeave > 1) return 'configuration flag out of range';
  const lists: NodeId[][] = [];
  let position = start + 8;
  for (let list = 0; list < ID_LISTS.length; list++) {
    if (position + 4 > end) return 'configuration cut short';
    const count = buffer.readUInt32LE(position);
    position += 4;
    if (position + count * 8 > end) return 'configuration cut short';
    const ids: NodeId[] = [];
    for (let read = 0; read < count; read++, position += 8) {
      const id = readUint64(buffer, position);
      if (id < 1) return 'configuration member id out of range';
      ids.push(id);
    }
    lists.push(ids);
  }
  if (position !== end) return 'configuration length mismatch';
  const [voters = [], votersOutgoing = [], learners = [], learnersNext = []] = lists;
  return { voters, votersOutgoing, learners, learnersNext, isAutoLeave: autoLeave === 1 };
}
