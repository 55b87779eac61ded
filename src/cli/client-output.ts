/**
 * How client commands print cluster data: keys and values as etcdctl prints them (raw bytes, one
 * per line), and the stable JSON shapes of `--json` (keys and values as UTF-8 text plus base64,
 * member ids as lowercase hex strings, revisions as numbers).
 */
import {
  formatMemberId,
  type KeyValue,
  type Member,
  type ResponseHeader,
} from '../client/index.js';

const decoder = new TextDecoder();
const NEWLINE = Uint8Array.of(0x0a);

/** Bytes as text (invalid UTF-8 shows as U+FFFD; JSON carries base64 for exact bytes). */
export function asText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** JSON.stringify replacer: bigints (member and cluster ids) as lowercase hex. */
function bigintAsHex(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? formatMemberId(value) : value;
}

/** Prints `value` as indented JSON on stdout. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, bigintAsHex, 2));
}

/** Writes the key, then (unless keysOnly) the value, each on its own line, bytes unchanged. */
export function writeKeyValueLines(keyValue: KeyValue, isKeysOnly = false): void {
  const parts = [keyValue.key, NEWLINE];
  if (!isKeysOnly) parts.push(keyValue.value, NEWLINE);
  process.stdout.write(Buffer.concat(parts));
}

export function keyValueJson(keyValue: KeyValue) {
  return {
    key: asText(keyValue.key),
    value: asText(keyValue.value),
    keyBase64: Buffer.from(keyValue.key).toString('base64'),
    valueBase64: Buffer.from(keyValue.value).toString('base64'),
    createRevision: keyValue.createRevision,
    modRevision: keyValue.modRevision,
    version: keyValue.version,
  };
}

export function headerJson(header: ResponseHeader) {
  return {
    clusterId: formatMemberId(header.clusterId),
    memberId: formatMemberId(header.memberId),
    revision: header.revision,
    raftTerm: header.raftTerm,
  };
}

export function memberJson(member: Member) {
  return {
    id: formatMemberId(member.id),
    name: member.name,
    peerUrls: member.peerUrls,
    clientUrls: member.clientUrls,
    isLearner: member.isLearner,
  };
}
