/**
 * The only door from the storage module to the disk. Everything durable goes through a
 * {@link FileSystem} so tests can inject EIO, ENOSPC and short writes at any single call and
 * watch the storage fail stop. The production implementation is a thin wrapper over `node:fs`
 * file descriptors (callback API: one thread-pool hop per call, no FileHandle bookkeeping;
 * small writes synchronous), with no retries: a failed call is reported, never papered over.
 */
import * as fs from 'node:fs';

/** A file descriptor handed out by {@link FileSystem.open}. */
export type FileDescriptor = number;

/**
 * How a file is opened:
 * - `read`: read only;
 * - `readWrite`: read and write an existing file;
 * - `createExclusive`: create a new file for writing, failing if it exists.
 */
export type OpenMode = 'read' | 'readWrite' | 'createExclusive';

/** The disk operations the storage module uses. Every method rejects with the system error. */
export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<FileDescriptor>;
  /**
   * Writes `data` at byte `position`; returns (or resolves with) the number of bytes written,
   * which may be fewer than asked (a short write). Callers treat a short write as fatal. An
   * implementation may complete small writes synchronously; errors may then be thrown directly.
   */
  write(fd: FileDescriptor, data: Uint8Array, position: number): Promise<number> | number;
  /** Flushes the file's data (and the metadata needed to read it back) to stable storage. */
  fdatasync(fd: FileDescriptor): Promise<void>;
  /** Flushes the file's data and all metadata to stable storage. */
  fsync(fd: FileDescriptor): Promise<void>;
  /** Sets the file's length, cutting or zero-extending it. */
  truncate(fd: FileDescriptor, lengthBytes: number): Promise<void>;
  close(fd: FileDescriptor): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** Names (not paths) of the entries of a directory. */
  readDirectory(path: string): Promise<string[]>;
  /** Creates the directory and its missing parents; succeeds if it exists. */
  makeDirectory(path: string): Promise<void>;
  /** Atomically replaces `to` with `from` (same file system). */
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** The file's size in bytes, or `undefined` if it does not exist. */
  sizeBytes(path: string): Promise<number | undefined>;
  /** fsyncs a directory so that entries created, renamed or removed in it are durable. */
  syncDirectory(path: string): Promise<void>;
}

const OPEN_FLAGS: Record<OpenMode, number> = {
  read: fs.constants.O_RDONLY,
  readWrite: fs.constants.O_RDWR,
  createExclusive: fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL,
};

function settle<T>(resolve: (value: T) => void, reject: (error: Error) => void) {
  return (error: Error | null, value: T): void => {
    if (error === null) resolve(value);
    else reject(error);
  };
}

function settleVoid(resolve: () => void, reject: (error: Error) => void) {
  return (error: Error | null): void => {
    if (error === null) resolve();
    else reject(error);
  };
}

/**
 * Writes up to this size go straight to the page cache on the calling thread. Copying 64 KiB
 * takes microseconds, while a round trip through libuv's thread pool costs about 100 µs of CPU
 * on this project's machine (docs/benchmarks.md): for a WAL append that is half the cost of the
 * acknowledgement. Larger writes use the pool so the event loop never stalls for long; fsyncs
 * always do.
 */
const SYNCHRONOUS_WRITE_BYTES_MAX = 64 * 1024;

/** The real file system, through `node:fs`. */
export const NODE_FILE_SYSTEM: FileSystem = {
  open: (path, mode) =>
    new Promise((resolve, reject) =>
      fs.open(path, OPEN_FLAGS[mode], 0o600, settle(resolve, reject)),
    ),
  write: (fd, data, position) => {
    if (data.byteLength <= SYNCHRONOUS_WRITE_BYTES_MAX) {
      return fs.writeSync(fd, data, 0, data.byteLength, position);
    }
    return new Promise((resolve, reject) =>
      fs.write(fd, data, 0, data.byteLength, position, (error, written) =>
        error === null ? resolve(written) : reject(error),
      ),
    );
  },
  fdatasync: (fd) =>
    new Promise((resolve, reject) => fs.fdatasync(fd, settleVoid(resolve, reject))),
  fsync: (fd) => new Promise((resolve, reject) => fs.fsync(fd, settleVoid(resolve, reject))),
  truncate: (fd, lengthBytes) =>
    new Promise((resolve, reject) => fs.ftruncate(fd, lengthBytes, settleVoid(resolve, reject))),
  close: (fd) => new Promise((resolve, reject) => fs.close(fd, settleVoid(resolve, reject))),
  readFile: (path) => fs.promises.readFile(path),
  readDirectory: (path) => fs.promises.readdir(path),
  makeDirectory: async (path) => {
    await fs.promises.mkdir(path, { recursive: true, mode: 0o700 });
  },
  rename: (from, to) => fs.promises.rename(from, to),
  remove: (path) => fs.promises.unlink(path),
  sizeBytes: async (path) => {
    try {
      return (await fs.promises.stat(path)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
  syncDirectory: async (path) => {
    const handle = await fs.promises.open(path, fs.constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
