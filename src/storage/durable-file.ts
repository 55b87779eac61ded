/**
 * Replaces a whole small file so that a crash leaves either the old contents or the new, never a
 * mix: write a temporary file, fsync it, rename it over the target, fsync the directory. Used for
 * snapshot files and the identity stamp. Each step that fails becomes a
 * {@link StorageFatalError} naming that step; nothing is retried.
 */
import * as path from 'node:path';

import type { FileSystem } from './file-system.js';
import { runFatally, StorageFatalError } from './storage-errors.js';

/** Atomically and durably replaces `file` with `image`. */
export async function writeFileDurably(
  fileSystem: FileSystem,
  file: string,
  image: Uint8Array,
): Promise<void> {
  const temporary = `${file}.tmp`;
  await fileSystem.remove(temporary).catch(() => undefined);
  const fd = await runFatally('create', temporary, () =>
    fileSystem.open(temporary, 'createExclusive'),
  );
  try {
    const written = await runFatally('write', temporary, () => fileSystem.write(fd, image, 0));
    if (written !== image.byteLength) {
      throw new StorageFatalError(
        'write',
        temporary,
        new Error(`short write: ${written} of ${image.byteLength} bytes`),
      );
    }
    await runFatally('fsync', temporary, () => fileSystem.fsync(fd));
  } finally {
    await fileSystem.close(fd).catch(() => undefined);
  }
  await runFatally('rename', file, () => fileSystem.rename(temporary, file));
  const directory = path.dirname(file);
  await runFatally('sync directory', directory, () => fileSystem.syncDirectory(directory));
}
