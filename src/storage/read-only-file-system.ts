/**
 * A read-only view of a {@link FileSystem}, for inspecting a data directory a node refuses to
 * start from. The inspection reuses the recovery code (so it reports exactly what the node
 * would), and that code knows how to repair; behind this view any attempt to change the disk
 * is a programmer error that crashes the inspection instead of touching the operator's evidence.
 * A missing directory reads as empty, as `DurableStorage.open` would create it.
 */
import { AssertionError } from '../common/index.js';
import type { FileSystem } from './file-system.js';

function refuse(operation: string): never {
  throw new AssertionError(`inspection is read-only, yet it attempted ${operation}`);
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** `fileSystem` with every modifying call refused and missing directories listed as empty. */
export function readOnlyFileSystem(fileSystem: FileSystem): FileSystem {
  return {
    open: (file, mode) => (mode === 'read' ? fileSystem.open(file, mode) : refuse(`open ${mode}`)),
    write: () => refuse('write'),
    fdatasync: () => refuse('fdatasync'),
    fsync: () => refuse('fsync'),
    truncate: () => refuse('truncate'),
    close: (fd) => fileSystem.close(fd),
    readFile: (file) => fileSystem.readFile(file),
    readDirectory: async (directory) => {
      try {
        return await fileSystem.readDirectory(directory);
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
    },
    makeDirectory: () => refuse('makeDirectory'),
    rename: () => refuse('rename'),
    remove: () => refuse('remove'),
    sizeBytes: (file) => fileSystem.sizeBytes(file),
    syncDirectory: () => refuse('syncDirectory'),
  };
}
