/**
 * The snapshot part of `raftkv wal inspect`: every snapshot file read and checked on its own
 * (checksum, format version, identity stamp, name against contents). Read only; which snapshot
 * the node would use is decided by snapshot-selection.ts, run from data-directory-inspection.ts.
 */
import * as path from 'node:path';

import { asBuffer } from './binary.js';
import type { FileSystem } from './file-system.js';
import { type ReportedError, reportError } from './reported-error.js';
import { decodeSnapshotFile, parseSnapshotFileName } from './snapshot-files.js';
import type { StorageIdentity } from './storage-identity.js';

/** Same pattern as snapshot-files.ts: `<16 hex index>-<16 hex term>.snap`. */

/** One snapshot file; index and term come from its name. */
export interface SnapshotFileInspection {
  /** File name inside the snap directory. */
  readonly file: string;
  readonly index: number;
  readonly term: number;
  /** Undefined if the file could not be read. */
  readonly sizeBytes: number | undefined;
  readonly isValid: boolean;
  /** Why it is not valid. */
  readonly detail: string | undefined;
  /** The error code when reading it raises a typed error (unknown version, foreign stamp). */
  readonly errorCode: string | undefined;
}

export interface SnapshotDirectoryInspection {
  readonly directory: string;
  /** Snapshot files, oldest (lowest index) first. */
  readonly files: readonly SnapshotFileInspection[];
  /** Names that are not snapshot files, e.g. a temporary file left by a crash mid-save. */
  readonly otherFiles: readonly string[];
  /** Why the directory could not be listed (a missing directory lists as empty). */
  readonly error: ReportedError | undefined;
}

/** Reads every snapshot file of `directory`; `expected` (the stamp's identity) flags foreign ones. */
export async function inspectSnapshotDirectory(
  fileSystem: FileSystem,
  directory: string,
  expected: StorageIdentity | undefined,
): Promise<SnapshotDirectoryInspection> {
  const files: SnapshotFileInspection[] = [];
  const otherFiles: string[] = [];
  let names: string[];
  try {
    names = await fileSystem.readDirectory(directory);
  } catch (error) {
    return { directory, files, otherFiles, error: reportError(error) };
  }
  for (const name of names.sort()) {
    const position = parseSnapshotFileName(name);
    if (position === undefined) {
      otherFiles.push(name);
      continue;
    }
    const { index, term } = position;
    const verdict = await checkSnapshotFile(fileSystem, path.join(directory, name), expected, {
      index,
      term,
    });
    files.push({ file: name, index, term, ...verdict });
  }
  return {
    directory,
    files: files.sort((a, b) => a.index - b.index),
    otherFiles,
    error: undefined,
  };
}

type Check = Pick<SnapshotFileInspection, 'sizeBytes' | 'isValid' | 'detail' | 'errorCode'>;

async function checkSnapshotFile(
  fileSystem: FileSystem,
  file: string,
  expected: StorageIdentity | undefined,
  named: { readonly index: number; readonly term: number },
): Promise<Check> {
  let buffer: Buffer;
  try {
    buffer = asBuffer(await fileSystem.readFile(file));
  } catch (error) {
    const { code, message } = reportError(error);
    return { sizeBytes: undefined, isValid: false, detail: message, errorCode: code };
  }
  const sizeBytes = buffer.byteLength;
  try {
    const read = decodeSnapshotFile(buffer, file, expected);
    if (read.kind === 'damaged') {
      return { sizeBytes, isValid: false, detail: read.detail, errorCode: undefined };
    }
    const { index, term } = read.snapshot.metadata;
    if (index !== named.index || term !== named.term) {
      const detail = `contents say index ${index} term ${term}, unlike the file name`;
      return { sizeBytes, isValid: false, detail, errorCode: undefined };
    }
    return { sizeBytes, isValid: true, detail: undefined, errorCode: undefined };
  } catch (error) {
    const { code, message } = reportError(error);
    return { sizeBytes, isValid: false, detail: message, errorCode: code };
  }
}
