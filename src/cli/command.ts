/**
 * What a `raftkv` command is, for the command table in main.ts: the words that select it, its
 * help, and a run function that resolves with the process exit code. Commands print their own
 * output; main.ts owns dispatch, general help and the handling of usage errors.
 */

/** Exit codes shared by every command. */
export const ExitCode = {
  /** The command did its work and found nothing wrong. */
  success: 0,
  /** The command ran and reports a failure (for `wal inspect`: the node would not start). */
  failure: 1,
  /** The command line was wrong; usage is printed on stderr. */
  usage: 2,
  /** A file or directory named on the command line cannot be found or read. */
  unreadable: 3,
  /**
   * No endpoint could be reached, or the cluster did not answer in time or could not serve the
   * request (gRPC UNAVAILABLE or DEADLINE_EXCEEDED: no leader, no quorum, request timed out).
   */
  unavailable: 4,
  /** A bug in raftkv (an unexpected exception); the stack is printed on stderr. */
  internalError: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One command of the table. */
export interface Command {
  /** The words that select it, e.g. `['wal', 'inspect']`. */
  readonly words: readonly string[];
  /** The words and arguments, e.g. `wal inspect DIR [--json]`. */
  readonly synopsis: string;
  /** One line for the general help. */
  readonly summary: string;
  /** The command's own help (`raftkv help wal inspect`, `raftkv wal inspect --help`). */
  readonly help: string;
  /** Runs with the arguments after the command words; resolves with the exit code. */
  run(commandArguments: readonly string[]): Promise<ExitCode>;
}

/** A wrong command line; main.ts prints the message and the command's synopsis, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
