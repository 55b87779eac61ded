/**
 * A file system for the crash test's child whose writes to WAL segments reach the kernel one
 * page at a time (one pwrite per 4 KiB page of the file, in order), so that a SIGKILL often
 * lands in the middle of a batch.
 *
 * Why: a kill -9 tears a real pwrite only if it arrives while the kernel is copying a large
 * buffer, and the WAL's writes (at most ~1.6 MB here) are copied in tens of microseconds
 * between fdatasyncs that take milliseconds, so whole-write children almost never leave a torn
 * record. Writing page by page is what the kernel itself may do with any write (POSIX makes no
 * promise that a write is atomic on a regular file), and it leaves exactly the damage a torn
 * write leaves: a prefix of the batch, cut at a page boundary, inside a record or between two.
 * Each page goes through libuv's thread pool (not the synchronous path the real file system uses
 * for small writes), so the process keeps running between pages and a kill can land there.
 */
import * as fs from 'node:fs';

import type { FileDescriptor, FileSystem } from '../../../src/storage/index.js';

const PAGE_BYTES = 4096;

export function piecewiseFileSystem(base: FileSystem): FileSystem {
  const segmentDescriptors = new Set<FileDescriptor>();
  return {
    ...base,
    open: async (file, mode) => {
      const fd = await base.open(file, mode);
      // Descriptor numbers are reused, so membership is decided afresh at every open.
      if (file.endsWith('.wal')) segmentDescriptors.add(fd);
      else segmentDescriptors.delete(fd);
      return fd;
    },
    close: async (fd) => {
      segmentDescriptors.delete(fd);
      await base.close(fd);
    },
    write: async (fd, data, position) => {
      if (!segmentDescriptors.has(fd)) return base.write(fd, data, position);
      let written = 0;
      while (written < data.byteLength) {
        const pageEnd = (Math.floor((position + written) / PAGE_BYTES) + 1) * PAGE_BYTES;
        const pieceEnd = Math.min(data.byteLength, pageEnd - position);
        const pieceBytes = pieceEnd - written;
        const count = await writeThroughThreadPool(
          fd,
          data.subarray(written, pieceEnd),
          position + written,
        );
        written += count;
        if (count !== pieceBytes) break; // A short piece makes the whole write short.
      }
      return written;
    },
  };
}

function writeThroughThreadPool(
  fd: FileDescriptor,
  data: Uint8Array,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.write(fd, data, 0, data.byteLength, position, (error, written) =>
      error === null ? resolve(written) : reject(error),
    ),
  );
}
