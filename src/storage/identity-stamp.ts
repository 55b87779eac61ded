/**
 * The identity stamp of a data directory (`identity.json`): cluster id, node id, incarnation and
 * whether the member was removed. It is written once when the directory is created (and again
 * when the member is removed), atomically: temp file, fsync, rename, directory fsync. A stamp of
 * another cluster or node, or of a removed member, stops the node before it touches the log.
 */
import * as path from 'node:path';

import { asBuffer } from './binary.js';
import { crc32c } from './crc32c.js';
import { writeFileDurably } from './durable-file.js';
import type { FileSystem } from './file-system.js';
import {
  ForeignIdentityError,
  IdentityStampCorruptError,
  NodeRemovedError,
  UnknownFormatVersionError,
} from './storage-errors.js';
import { formatId, type StorageIdentity } from './storage-identity.js';

export const IDENTITY_STAMP_NAME = 'identity.json';
export const IDENTITY_STAMP_FORMAT_VERSION = 1;

/** The contents of the stamp. */
export interface IdentityStamp extends StorageIdentity {
  /** Set when the member is removed from the cluster; such a directory is never served again. */
  readonly isRemoved: boolean;
}

interface StampJson {
  formatVersion: number;
  clusterId: string;
  nodeId: number;
  incarnation: string;
  removed: boolean;
}

function bodyOf(stamp: IdentityStamp): StampJson {
  return {
    formatVersion: IDENTITY_STAMP_FORMAT_VERSION,
    clusterId: formatId(stamp.clusterId),
    nodeId: stamp.nodeId,
    incarnation: formatId(stamp.incarnation),
    removed: stamp.isRemoved,
  };
}

function checksumOf(body: StampJson): string {
  const image = Buffer.from(JSON.stringify(body));
  return crc32c(image, 0, image.byteLength).toString(16).padStart(8, '0');
}

function parseHexId(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !/^[0-9a-f]{1,16}$/.test(value)) return undefined;
  return BigInt(`0x${value}`);
}

/** Reads the stamp of `directory`, or `undefined` if the directory has none. */
export async function readIdentityStamp(
  fileSystem: FileSystem,
  directory: string,
): Promise<IdentityStamp | undefined> {
  const file = path.join(directory, IDENTITY_STAMP_NAME);
  if ((await fileSystem.sizeBytes(file)) === undefined) return undefined;
  const text = asBuffer(await fileSystem.readFile(file)).toString('utf8');
  let parsed: Partial<StampJson> & { checksum?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new IdentityStampCorruptError('not valid JSON', file);
  }
  if (parsed.formatVersion !== IDENTITY_STAMP_FORMAT_VERSION) {
    const version = typeof parsed.formatVersion === 'number' ? parsed.formatVersion : -1;
    throw new UnknownFormatVersionError(version, IDENTITY_STAMP_FORMAT_VERSION, file);
  }
  const clusterId = parseHexId(parsed.clusterId);
  const incarnation = parseHexId(parsed.incarnation);
  const nodeId = parsed.nodeId;
  if (
    clusterId === undefined ||
    incarnation === undefined ||
    typeof nodeId !== 'number' ||
    !Number.isSafeInteger(nodeId) ||
    nodeId < 1 ||
    typeof parsed.removed !== 'boolean'
  ) {
    throw new IdentityStampCorruptError('fields missing or out of range', file);
  }
  const stamp: IdentityStamp = { clusterId, nodeId, incarnation, isRemoved: parsed.removed };
  if (parsed.checksum !== checksumOf(bodyOf(stamp))) {
    throw new IdentityStampCorruptError('checksum mismatch', file);
  }
  return stamp;
}

/** Writes the stamp of `directory` atomically. A failure is a {@link StorageFatalError}. */
export async function writeIdentityStamp(
  fileSystem: FileSystem,
  directory: string,
  stamp: IdentityStamp,
): Promise<void> {
  const file = path.join(directory, IDENTITY_STAMP_NAME);
  const body = bodyOf(stamp);
  const image = Buffer.from(
    `${JSON.stringify({ ...body, checksum: checksumOf(body) }, null, 2)}\n`,
  );
  await writeFileDurably(fileSystem, file, image);
}

/**
 * Refuses a stamp that is not `expected`'s cluster and node, or that says the member was
 * removed. The incarnation is not compared: the stamp is where it comes from.
 */
export function checkIdentityStamp(
  stamp: IdentityStamp,
  expected: Pick<StorageIdentity, 'clusterId' | 'nodeId'>,
  file: string,
): void {
  if (stamp.clusterId !== expected.clusterId) {
    throw new ForeignIdentityError(
      `stamped for cluster ${formatId(stamp.clusterId)}, this node is configured for cluster ${formatId(expected.clusterId)}`,
      file,
    );
  }
  if (stamp.nodeId !== expected.nodeId) {
    throw new ForeignIdentityError(
      `stamped for node ${stamp.nodeId}, this node is configured as node ${expected.nodeId}`,
      file,
    );
  }
  if (stamp.isRemoved) {
    throw new NodeRemovedError(
      `node ${stamp.nodeId} (incarnation ${formatId(stamp.incarnation)}) was removed from cluster ${formatId(stamp.clusterId)}`,
      file,
    );
  }
}

/**
 * Refuses a directory without a stamp that nevertheless holds log or snapshot files: the stamp
 * was lost, and the files cannot be attributed to any member.
 */
export async function checkUnstampedDirectoryIsEmpty(
  fileSystem: FileSystem,
  directory: string,
): Promise<void> {
  const names = [
    ...(await fileSystem.readDirectory(path.join(directory, 'wal'))),
    ...(await fileSystem.readDirectory(path.join(directory, 'snap'))),
  ];
  const leftovers = names.filter((name) => name.endsWith('.wal') || name.endsWith('.snap'));
  if (leftovers.length === 0) return;
  throw new IdentityStampCorruptError(
    `missing, yet the directory holds ${leftovers.length} log or snapshot files`,
    path.join(directory, IDENTITY_STAMP_NAME),
  );
}
