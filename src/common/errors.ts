/**
 * The base of every operational error raftkv reports at a module edge (a damaged file, a refused
 * identity, an unreachable peer). Programmer errors are {@link AssertionError}s instead. Each
 * operational error carries a stable `code` (what went wrong, for machines and log queries) and a
 * `remedy` (what the operator can do about it, for people).
 */
export abstract class RaftkvError extends Error {
  /** A stable identifier such as `WAL_CHECKSUM_MISMATCH`; never reworded once released. */
  abstract readonly code: string;
  /** What an operator can do about it, in one or two sentences. */
  readonly remedy: string;

  constructor(message: string, remedy: string, options?: { cause?: unknown }) {
    super(message, options);
    this.remedy = remedy;
  }
}
