/**
 * The envelope the node wraps around every command it proposes: what kind of command it is
 * (a key-value write or a member registry change), which member proposed it and under which
 * request number (so the proposer can answer its waiting caller when the entry is applied, on
 * whichever member the leader was), and the client's exactly-once session if it sent one.
 * Owns only this byte layout; the commands inside belong to `kv` and `member-registry.ts`.
 *
 * Layout (little-endian): u8 format version, u8 kind, u32+u32 origin member id (low, high),
 * u32+u32 request number, u8 session flag [u16 client id length, client id UTF-8, u32+u32
 * sequence], then the command bytes to the end.
 */
import { assert, type NodeId } from '../common/index.js';

/** First byte of every envelope; raise it when the layout changes. */
export const ENVELOPE_FORMAT_VERSION = 1;

/** What the command inside the envelope is. */
export type EnvelopeKind = 'kvWrite' | 'memberChange';

const KIND_CODES: Readonly<Record<EnvelopeKind, number>> = { kvWrite: 1, memberChange: 2 };

/** A client's exactly-once identity for one request (DESIGN.md §6). */
export interface ClientSession {
  readonly clientId: string;
  readonly sequence: number;
}

/** The decoded envelope. `command` is a view into the entry's bytes. */
export interface EntryEnvelope {
  readonly kind: EnvelopeKind;
  readonly originId: NodeId;
  readonly requestNumber: number;
  readonly session: ClientSession | undefined;
  readonly command: Uint8Array;
}

/** Longest client id accepted in the `raftkv-client-id` metadata, in UTF-8 bytes. */
export const CLIENT_ID_BYTES_MAX = 256;

const HEADER_BYTES = 1 + 1 + 8 + 8 + 1;
const TWO_TO_32 = 2 ** 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Wraps `command` in an envelope. */
export function encodeEnvelope(envelope: EntryEnvelope): Uint8Array {
  const clientIdBytes =
    envelope.session === undefined ? undefined : encoder.encode(envelope.session.clientId);
  assert(
    clientIdBytes === undefined || clientIdBytes.byteLength <= CLIENT_ID_BYTES_MAX,
    'client id too long',
  );
  const sessionBytes = clientIdBytes === undefined ? 0 : 2 + clientIdBytes.byteLength + 8;
  const bytes = new Uint8Array(HEADER_BYTES + sessionBytes + envelope.command.byteLength);
  const view = new DataView(bytes.buffer);
  bytes[0] = ENVELOPE_FORMAT_VERSION;
  bytes[1] = KIND_CODES[envelope.kind];
  writeUint53(view, 2, envelope.originId);
  writeUint53(view, 10, envelope.requestNumber);
  let offset = HEADER_BYTES;
  if (clientIdBytes !== undefined && envelope.session !== undefined) {
    bytes[HEADER_BYTES - 1] = 1;
    view.setUint16(offset, clientIdBytes.byteLength, true);
    bytes.set(clientIdBytes, offset + 2);
    offset += 2 + clientIdBytes.byteLength;
    writeUint53(view, offset, envelope.session.sequence);
    offset += 8;
  }
  bytes.set(envelope.command, offset);
  return bytes;
}

/** Unwraps an envelope; returns a description of the damage instead if the bytes are not one. */
export function decodeEnvelope(bytes: Uint8Array): EntryEnvelope | string {
  if (bytes.byteLength < HEADER_BYTES) return `entry of ${bytes.byteLength} bytes is too short`;
  if (bytes[0] !== ENVELOPE_FORMAT_VERSION) return `unknown envelope format version ${bytes[0]}`;
  const kind = bytes[1] === 1 ? 'kvWrite' : bytes[1] === 2 ? 'memberChange' : undefined;
  if (kind === undefined) return `unknown envelope kind ${bytes[1]}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const originId = readUint53(view, 2);
  const requestNumber = readUint53(view, 10);
  let offset = HEADER_BYTES;
  let session: ClientSession | undefined;
  if (bytes[HEADER_BYTES - 1] === 1) {
    if (bytes.byteLength < offset + 2) return 'truncated session';
    const clientIdLength = view.getUint16(offset, true);
    if (bytes.byteLength < offset + 2 + clientIdLength + 8) return 'truncated session';
    let clientId: string;
    try {
      clientId = decoder.decode(bytes.subarray(offset + 2, offset + 2 + clientIdLength));
    } catch {
      return 'client id is not UTF-8';
    }
    offset += 2 + clientIdLength;
    session = { clientId, sequence: readUint53(view, offset) };
    offset += 8;
  } else if (bytes[HEADER_BYTES - 1] !== 0) {
    return `bad session flag ${bytes[HEADER_BYTES - 1]}`;
  }
  return { kind, originId, requestNumber, session, command: bytes.subarray(offset) };
}

function writeUint53(view: DataView, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `not a uint53: ${value}`);
  view.setUint32(offset, value % TWO_TO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_TO_32), true);
}

function readUint53(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * TWO_TO_32;
}
