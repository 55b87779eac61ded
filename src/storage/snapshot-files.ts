/**
 * Snapshot files: one per snapshot, named `<index>-<term>.snap` (16 hex digits each), written to
 * a temporary file, fsynced, renamed into place and the directory fsynced, so a crash leaves
 * either the old set of files or the new one, never a half-written snapshot under a final name.
 *
 *     header:  magic "RKV-SNP1" | u32 format version | u32 configuration bytes | u64 cluster id
 *              | u64 node id | u64 incarnation | u64 index | u64 term | u64 data bytes
 *     body:    configuration (see record-payload.ts) | state-machine data
 *     trailer: u32 CRC-32C of everything before it | 4 zero bytes
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { Logger } from '../common/index.js';
import type { Snapshot } from '../raft/index.js';
import { asBuffer, readUint64, writeUint64 } from './binary.js';
import { writeFileDurably } from './durable-file.js';
import { crc32c } from './crc32c.js';
import type { FileSystem } from './file-system.js';
import { configurationBytes, readConfiguration, writeConfiguration } from './record-payload.js';
import { ForeignIdentityError, runFatally, UnknownFormatVersionError } from './storage-errors.js';
import { identityMismatch, type StorageIdentity } from './storage-identity.js';
import type { StorageObserver } from './storage-observer.js';

export const SNAPSHOT_MAGIC = 'RKV-SNP1';
export const SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = 64;
const TRAILER_BYTES = 8;

/** A snapshot file found in the directory (not yet verified). */
export interface SnapshotFile {
  readonly index: number;
  readonly term: number;
  readonly file: string;
}

/** The result of reading a snapshot file: the snapshot, or why it is damaged. */
export type SnapshotRead =
  | { readonly kind: 'valid'; readonly snapshot: Snapshot; readonly sizeBytes: number }
  | { readonly kind: 'damaged'; readonly detail: string };

const SNAPSHOT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

/** The index and term a snapshot file name encodes, or `undefined` for other names. */
export function parseSnapshotFileName(name: string): { index: number; term: number } | undefined {
  const match = SNAPSHOT_NAME.exec(name);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { index: Number.parseInt(match[1], 16), term: Number.parseInt(match[2], 16) };
}

export function snapshotFileName(index: number, term: number): string {
  return `${index.toString(16).padStart(16, '0')}-${term.toString(16).padStart(16, '0')}.snap`;
}

/** Encodes a snapshot file image. */
export function encodeSnapshotFile(identity: StorageIdentity, snapshot: Snapshot): Buffer {
  const { metadata, data } = snapshot;
  const membershipBytes = configurationBytes(metadata.configuration);
  const total = HEADER_BYTES + membershipBytes + data.byteLength + TRAILER_BYTES;
  const buffer = Buffer.alloc(total);
  buffer.write(SNAPSHOT_MAGIC, 0, 'latin1');
  buffer.writeUInt32LE(SNAPSHOT_FORMAT_VERSION, 8);
  buffer.writeUInt32LE(membershipBytes, 12);
  buffer.writeBigUInt64LE(identity.clusterId, 16);
  writeUint64(buffer, 24, identity.nodeId);
  buffer.writeBigUInt64LE(identity.incarnation, 32);
  writeUint64(buffer, 40, metadata.index);
  writeUint64(buffer, 48, metadata.term);
  writeUint64(buffer, 56, data.byteLength);
  writeConfiguration(buffer, HEADER_BYTES, metadata.configuration);
  buffer.set(data, HEADER_BYTES + membershipBytes);
  buffer.writeUInt32LE(crc32c(buffer, 0, total - TRAILER_BYTES), total - TRAILER_BYTES);
  return buffer;
}

/**
 * Decodes a snapshot file image. Throws for an unknown version or a foreign identity (those
 * are not damage an older snapshot could stand in for); returns `damaged` for anything else.
 */
export function decodeSnapshotFile(
  buffer: Buffer,
  file: string,
  expected: StorageIdentity | undefined,
): SnapshotRead {
  if (buffer.byteLength < HEADER_BYTES + TRAILER_BYTES)
    return { kind: 'damaged', detail: 'file too short' };
  if (buffer.toString('latin1', 0, 8) !== SNAPSHOT_MAGIC)
    return { kind: 'damaged', detail: 'bad magic' };
  const version = buffer.readUInt32LE(8);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new UnknownFormatVersionError(version, SNAPSHOT_FORMAT_VERSION, file);
  }
  const total = buffer.byteLength;
  const checksumOffset = total - TRAILER_BYTES;
  if (
    buffer.readUInt32LE(checksumOffset) !== crc32c(buffer, 0, checksumOffset) ||
    buffer.readUInt32LE(checksumOffset + 4) !== 0
  ) {
    return { kind: 'damaged', detail: 'checksum mismatch' };
  }
  const identity = {
    clusterId: buffer.readBigUInt64LE(16),
    nodeId: readUint64(buffer, 24),
    incarnation: buffer.readBigUInt64LE(32),
  };
  const mismatch = expected === undefined ? undefined : identityMismatch(expected, identity);
  if (mismatch !== undefined)
    throw new ForeignIdentityError(`snapshot stamped with ${mismatch}`, file);
  const membershipBytes = buffer.readUInt32LE(12);
  const index = readUint64(buffer, 40);
  const term = readUint64(buffer, 48);
  const dataBytes = readUint64(buffer, 56);
  if (
    index < 1 ||
    term < 1 ||
    HEADER_BYTES + membershipBytes + dataBytes + TRAILER_BYTES !== total
  ) {
    return { kind: 'damaged', detail: 'header fields out of range' };
  }
  const configuration = readConfiguration(buffer, HEADER_BYTES, HEADER_BYTES + membershipBytes);
  if (typeof configuration === 'string') return { kind: 'damaged', detail: configuration };
  const dataStart = HEADER_BYTES + membershipBytes;
  const data = new Uint8Array(dataBytes);
  data.set(buffer.subarray(dataStart, dataStart + dataBytes));
  return {
    kind: 'valid',
    snapshot: { metadata: { index, term, configuration }, data },
    sizeBytes: total,
  };
}

/** The snapshot directory of one data directory. */
export class SnapshotFiles {
  constructor(
    private readonly fileSystem: FileSystem,
    readonly directory: string,
    private readonly identity: StorageIdentity,
    private readonly logger: Logger,
    private readonly observer: StorageObserver,
  ) {}

  /** Snapshot files, newest (highest index) first. Temporary files are not listed. */
  async list(): Promise<SnapshotFile[]> {
    const files: SnapshotFile[] = [];
    for (const name of await this.fileSystem.readDirectory(this.directory)) {
      const position = parseSnapshotFileName(name);
      if (position === undefined) continue;
      files.push({ ...position, file: path.join(this.directory, name) });
    }
    return files.sort((a, b) => b.index - a.index);
  }

  async read(file: SnapshotFile): Promise<SnapshotRead> {
    const buffer = asBuffer(await this.fileSystem.readFile(file.file));
    const read = decodeSnapshotFile(buffer, file.file, this.identity);
    if (read.kind === 'valid') {
      const { index, term } = read.snapshot.metadata;
      if (index !== file.index || term !== file.term) {
        return {
          kind: 'damaged',
          detail: `contents say index ${index} term ${term}, unlike the file name`,
        };
      }
    }
    return read;
  }

  /**
   * Makes `snapshot` durable under its final name: temp file, fsync, rename, directory fsync.
   * Any failure is a {@link StorageFatalError}.
   */
  async save(snapshot: Snapshot): Promise<string> {
    const started = performance.now();
    const { index, term } = snapshot.metadata;
    const file = path.join(this.directory, snapshotFileName(index, term));
    const image = encodeSnapshotFile(this.identity, snapshot);
    await writeFileDurably(this.fileSystem, file, image);
    this.observer.snapshotSaved?.(image.byteLength, (performance.now() - started) / 1000);
    this.logger.info({ file, index, term, sizeBytes: image.byteLength }, 'snapshot saved');
    return file;
  }

  /** Deletes all but the newest `keepCount` snapshot files, and leftover temporary files. */
  async prune(keepCount: number): Promise<void> {
    const files = await this.list();
    let removed = 0;
    for (const old of files.slice(keepCount)) {
      await runFatally('remove', old.file, () => this.fileSystem.remove(old.file));
      removed++;
    }
    for (const name of await this.fileSystem.readDirectory(this.directory)) {
      if (!name.endsWith('.snap.tmp')) continue;
      const file = path.join(this.directory, name);
      await runFatally('remove', file, () => this.fileSystem.remove(file));
      removed++;
    }
    if (removed > 0) {
      await runFatally('sync directory', this.directory, () =>
        this.fileSystem.syncDirectory(this.directory),
      );
    }
  }
}
