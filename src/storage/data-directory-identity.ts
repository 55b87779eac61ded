/**
 * Reads who a data directory belongs to before opening it: the node needs its member id and
 * cluster id to open its storage, and a restarted member learns them from its own stamp.
 */
import { type FileSystem, NODE_FILE_SYSTEM } from './file-system.js';
import { type IdentityStamp, readIdentityStamp } from './identity-stamp.js';

/**
 * The identity stamp of `directory`, or undefined if it has none (a new or empty directory).
 * Throws a typed StorageError if the stamp is damaged or of an unknown format.
 */
export async function readDataDirectoryIdentity(
  directory: string,
  fileSystem: FileSystem = NODE_FILE_SYSTEM,
): Promise<IdentityStamp | undefined> {
  if ((await fileSystem.sizeBytes(directory)) === undefined) return undefined;
  return readIdentityStamp(fileSystem, directory);
}
