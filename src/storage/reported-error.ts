/**
 * An error as the inspection report carries it: plain, JSON-ready data. Typed storage errors keep
 * their code, file, offset and remedy; a system error (EACCES, EIO) keeps its code and path.
 */
import { StorageError } from './storage-errors.js';

/** What went wrong, where, and what the operator can do (when the error says). */
export interface ReportedError {
  /** A storage error code such as `WAL_CORRUPT`, or a system code such as `EACCES`. */
  readonly code: string;
  readonly message: string;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly remedy: string | undefined;
}

/** Turns anything thrown into a {@link ReportedError}. */
export function reportError(error: unknown): ReportedError {
  if (error instanceof StorageError) {
    const { code, message, file, offset, remedy } = error;
    return { code, message, file, offset, remedy };
  }
  if (error instanceof Error) {
    const { code, path } = error as NodeJS.ErrnoException;
    return {
      code: typeof code === 'string' ? code : 'UNEXPECTED_ERROR',
      message: error.message,
      file: path,
      offset: undefined,
      remedy: undefined,
    };
  }
  return {
    code: 'UNEXPECTED_ERROR',
    message: String(error),
    file: undefined,
    offset: undefined,
    remedy: undefined,
  };
}
