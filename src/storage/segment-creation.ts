/**
 * Creating WAL segment files. With preallocation on, every segment (the first included) is
 * zero-filled to its target size and fsynced before it is used, so that appends never change the
 * file's size and fdatasync has no metadata to commit (0.14 ms instead of 0.25 ms per sync on
 * this project's machine, docs/benchmarks.md). The next segment is prepared in the background
 * under a temporary name and renamed into place at rotation. Every failure is a
 * StorageFatalError naming its step; the writer treats it as fatal.
 */
import * as path from 'node:path';

import type { FileDescriptor, FileSystem } from './file-system.js';
import { runFatally } from './storage-errors.js';
import { segmentFileName } from './wal-format.js';

const NEXT_SEGMENT_NAME = 'next-segment.tmp';
const FIRST_SEGMENT_NAME = 'first-segment.tmp';
const ZERO_FILL_CHUNK_BYTES = 1024 * 1024;

/** Creates `file` and fills it with `sizeBytes` zeros, durably. */
async function zeroFill(fileSystem: FileSystem, file: string, sizeBytes: number): Promise<void> {
  const fd = await fileSystem.open(file, 'createExclusive');
  try {
    const zeros = Buffer.alloc(Math.min(ZERO_FILL_CHUNK_BYTES, sizeBytes));
    for (let position = 0; position < sizeBytes; position += zeros.byteLength) {
      const chunk = zeros.subarray(0, Math.min(zeros.byteLength, sizeBytes - position));
      const written = await fileSystem.write(fd, chunk, position);
      if (written !== chunk.byteLength) {
        throw new Error(`short write (${written} of ${chunk.byteLength} bytes)`);
      }
    }
    await fileSystem.fsync(fd);
  } finally {
    await fileSystem.close(fd);
  }
}

/** A new segment, open for writing; its directory entry is not yet synced. */
export interface CreatedSegment {
  readonly file: string;
  readonly fd: FileDescriptor;
}

/** Makes the segment files of one WAL directory. */
export class SegmentCreation {
  private next: Promise<string> | undefined;

  constructor(
    private readonly fileSystem: FileSystem,
    private readonly directory: string,
    private readonly segmentBytesTarget: number,
    private readonly isPreallocationEnabled: boolean,
  ) {}

  /** Removes temporary files an earlier run left behind. */
  async removeLeftovers(): Promise<void> {
    for (const name of await this.fileSystem.readDirectory(this.directory)) {
      if (name.endsWith('.tmp')) await this.fileSystem.remove(path.join(this.directory, name));
    }
  }

  /** The path of the file being prepared, for error messages. */
  preparedFile(): string {
    return path.join(this.directory, NEXT_SEGMENT_NAME);
  }

  /**
   * Creates segment `sequence` and opens it: the prepared zero-filled file renamed into place
   * (made now if none is ready), or an empty file without preallocation.
   */
  async create(sequence: number): Promise<CreatedSegment> {
    const file = path.join(this.directory, segmentFileName(sequence));
    const fileSystem = this.fileSystem;
    if (!this.isPreallocationEnabled) {
      return {
        file,
        fd: await runFatally('create', file, () => fileSystem.open(file, 'createExclusive')),
      };
    }
    let prepared = await runFatally('preallocate', this.preparedFile(), () => this.takePrepared());
    if (prepared === undefined) {
      const first = path.join(this.directory, FIRST_SEGMENT_NAME);
      await runFatally('preallocate', first, () =>
        zeroFill(fileSystem, first, this.segmentBytesTarget),
      );
      prepared = first;
    }
    const from = prepared;
    await runFatally('rename', file, () => fileSystem.rename(from, file));
    return { file, fd: await runFatally('open', file, () => fileSystem.open(file, 'readWrite')) };
  }

  /** Starts zero-filling the next segment in the background, if enabled and not under way. */
  prepareNext(): void {
    if (!this.isPreallocationEnabled || this.next !== undefined) return;
    const file = this.preparedFile();
    const preparing = zeroFill(this.fileSystem, file, this.segmentBytesTarget).then(() => file);
    preparing.catch(() => undefined); // Reported when taken, at the next rotation.
    this.next = preparing;
  }

  /** Removes the prepared file, if any (at close). */
  async discard(): Promise<void> {
    const prepared = await this.takePrepared().catch(() => undefined);
    if (prepared !== undefined) await this.fileSystem.remove(prepared).catch(() => undefined);
  }

  private async takePrepared(): Promise<string | undefined> {
    const preparing = this.next;
    this.next = undefined;
    return preparing === undefined ? undefined : await preparing;
  }
}
