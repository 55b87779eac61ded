/**
 * A FileSystem for fault-injection tests: the real one (NODE_FILE_SYSTEM) underneath, plus one
 * armed fault that fails the n-th matching `write`, `fdatasync`, `fsync`, `rename` or
 * `syncDirectory` with an errno-style error (as Node reports them), or makes a write short. It
 * records every call, and remembers each write not yet made durable by a successful fsync or
 * fdatasync of its file, so a test can also simulate a power loss that undoes those writes.
 * Directory entries (creations, renames, removals) are taken as durable at once: the power-loss
 * model covers file contents only.
 */
import * as fs from 'node:fs';

import {
  type FileDescriptor,
  type FileSystem,
  NODE_FILE_SYSTEM,
  type OpenMode,
} from '../../src/storage/index.js';

export type FaultOperation = 'write' | 'fdatasync' | 'fsync' | 'rename' | 'syncDirectory';

/** What the faulty call does instead of succeeding. */
export type FaultEffect =
  | { readonly kind: 'error'; readonly code: 'EIO' | 'ENOSPC' }
  /** Writes only the first `bytesWritten` bytes for real and reports that count. */
  | { readonly kind: 'shortWrite'; readonly bytesWritten: number };

export interface Fault {
  readonly operation: FaultOperation;
  /** Which matching call fails, counted from arming: 1 is the next one. */
  readonly occurrence: number;
  /** Only calls on a path (either path, for rename) that this matches are counted. */
  readonly pathPattern?: RegExp;
  readonly effect: FaultEffect;
}

/** One call the storage made. */
export interface RecordedCall {
  readonly operation: keyof FileSystem;
  readonly path: string;
  readonly isFaulty: boolean;
}

/** A write that a power loss could still undo: where, and what the file held before it. */
interface UnsyncedWrite {
  readonly position: number;
  readonly previousBytes: Buffer;
  readonly previousSizeBytes: number;
}

const ERRNO: Record<'EIO' | 'ENOSPC', { errno: number; description: string }> = {
  EIO: { errno: -5, description: 'i/o error' },
  ENOSPC: { errno: -28, description: 'no space left on device' },
};

/** An error shaped like the ones `node:fs` rejects with. */
function errnoError(code: 'EIO' | 'ENOSPC', syscall: string, path: string): Error {
  const { errno, description } = ERRNO[code];
  return Object.assign(new Error(`${code}: ${description}, ${syscall} '${path}'`), {
    code,
    errno,
    syscall,
    path,
  });
}

/** The system call behind an operation, where its name differs (for error messages). */
const SYSTEM_CALLS: Partial<Record<keyof FileSystem, string>> = { syncDirectory: 'fsync' };

/** Resolves on a later turn of the event loop, as a real system call would. */
function laterTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FaultyFileSystem implements FileSystem {
  readonly calls: RecordedCall[] = [];
  /** The call the armed fault hit, once it has. */
  firedCall: RecordedCall | undefined;
  private fault: Fault | undefined;
  private matchingCalls = 0;
  private readonly paths = new Map<FileDescriptor, string>();
  private readonly unsyncedWrites = new Map<string, UnsyncedWrite[]>();
  private callsInFlight = 0;

  /** Arms `fault`; it fires once. */
  arm(fault: Fault): void {
    this.fault = fault;
    this.matchingCalls = 0;
    this.firedCall = undefined;
  }

  /** Waits until no call is in flight (background work of a dropped instance included). */
  async settled(): Promise<void> {
    while (this.callsInFlight > 0) await laterTurn();
  }

  /**
   * Undoes, newest first, every write not followed by a successful sync of its file: the state a
   * power loss could leave (a failed sync counts as no sync; Linux may drop those pages).
   */
  loseUnsyncedWrites(): void {
    for (const [path, writes] of this.unsyncedWrites) {
      if (!fs.existsSync(path)) continue;
      const fd = fs.openSync(path, 'r+');
      try {
        for (const write of [...writes].reverse()) {
          fs.writeSync(fd, write.previousBytes, 0, write.previousBytes.byteLength, write.position);
          fs.ftruncateSync(fd, write.previousSizeBytes);
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    this.unsyncedWrites.clear();
  }

  open(path: string, mode: OpenMode): Promise<FileDescriptor> {
    return this.run('open', [path], async () => {
      const fd = await NODE_FILE_SYSTEM.open(path, mode);
      this.paths.set(fd, path);
      return fd;
    });
  }

  write(fd: FileDescriptor, data: Uint8Array, position: number): Promise<number> {
    const path = this.pathOf(fd);
    return this.run('write', [path], async (effect) => {
      const length = effect?.kind === 'shortWrite' ? effect.bytesWritten : data.byteLength;
      this.rememberUnsynced(fd, path, position, length);
      return NODE_FILE_SYSTEM.write(fd, data.subarray(0, length), position);
    });
  }

  fdatasync(fd: FileDescriptor): Promise<void> {
    const path = this.pathOf(fd);
    return this.run('fdatasync', [path], () =>
      this.syncing(path, () => NODE_FILE_SYSTEM.fdatasync(fd)),
    );
  }

  fsync(fd: FileDescriptor): Promise<void> {
    const path = this.pathOf(fd);
    return this.run('fsync', [path], () => this.syncing(path, () => NODE_FILE_SYSTEM.fsync(fd)));
  }

  truncate(fd: FileDescriptor, lengthBytes: number): Promise<void> {
    return this.run('truncate', [this.pathOf(fd)], () =>
      NODE_FILE_SYSTEM.truncate(fd, lengthBytes),
    );
  }

  close(fd: FileDescriptor): Promise<void> {
    return this.run('close', [this.pathOf(fd)], () => NODE_FILE_SYSTEM.close(fd));
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.run('readFile', [path], () => NODE_FILE_SYSTEM.readFile(path));
  }

  readDirectory(path: string): Promise<string[]> {
    return this.run('readDirectory', [path], () => NODE_FILE_SYSTEM.readDirectory(path));
  }

  makeDirectory(path: string): Promise<void> {
    return this.run('makeDirectory', [path], () => NODE_FILE_SYSTEM.makeDirectory(path));
  }

  rename(from: string, to: string): Promise<void> {
    return this.run('rename', [from, to], async () => {
      await NODE_FILE_SYSTEM.rename(from, to);
      const writes = this.unsyncedWrites.get(from);
      this.unsyncedWrites.delete(from);
      if (writes !== undefined) this.unsyncedWrites.set(to, writes);
    });
  }

  remove(path: string): Promise<void> {
    return this.run('remove', [path], async () => {
      await NODE_FILE_SYSTEM.remove(path);
      this.unsyncedWrites.delete(path);
    });
  }

  sizeBytes(path: string): Promise<number | undefined> {
    return this.run('sizeBytes', [path], () => NODE_FILE_SYSTEM.sizeBytes(path));
  }

  syncDirectory(path: string): Promise<void> {
    return this.run('syncDirectory', [path], () => NODE_FILE_SYSTEM.syncDirectory(path));
  }

  private pathOf(fd: FileDescriptor): string {
    return this.paths.get(fd) ?? `<fd ${fd}>`;
  }

  /** Whether this call is the one the armed fault fails. */
  private isFaulty(operation: keyof FileSystem, paths: readonly string[]): boolean {
    const fault = this.fault;
    if (fault === undefined || this.firedCall !== undefined || fault.operation !== operation) {
      return false;
    }
    const pattern = fault.pathPattern;
    if (pattern !== undefined && !paths.some((path) => pattern.test(path))) return false;
    this.matchingCalls++;
    return this.matchingCalls === fault.occurrence;
  }

  /** Records the call, then fails it (a short write still runs) or passes it through. */
  private async run<T>(
    operation: keyof FileSystem,
    paths: readonly string[],
    real: (effect: FaultEffect | undefined) => Promise<T>,
  ): Promise<T> {
    const isFaulty = this.isFaulty(operation, paths);
    const call: RecordedCall = { operation, path: paths.join(' -> '), isFaulty };
    this.calls.push(call);
    if (isFaulty) this.firedCall = call;
    const effect = isFaulty ? this.fault?.effect : undefined;
    this.callsInFlight++;
    try {
      if (effect?.kind === 'error') {
        await laterTurn();
        throw errnoError(effect.code, SYSTEM_CALLS[operation] ?? operation, call.path);
      }
      return await real(effect);
    } finally {
      this.callsInFlight--;
    }
  }

  /** Runs a sync; once it succeeds, the writes made before it started are durable. */
  private async syncing(path: string, sync: () => Promise<void>): Promise<void> {
    const writtenBefore = this.unsyncedWrites.get(path)?.length ?? 0;
    await sync();
    this.unsyncedWrites.get(path)?.splice(0, writtenBefore);
  }

  private rememberUnsynced(fd: FileDescriptor, path: string, position: number, length: number) {
    const previousSizeBytes = fs.fstatSync(fd).size;
    const previousBytes = Buffer.alloc(Math.max(0, Math.min(length, previousSizeBytes - position)));
    fs.readSync(fd, previousBytes, 0, previousBytes.byteLength, position);
    const writes = this.unsyncedWrites.get(path) ?? [];
    writes.push({ position, previousBytes, previousSizeBytes });
    this.unsyncedWrites.set(path, writes);
  }
}
