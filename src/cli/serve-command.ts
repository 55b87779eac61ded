/**
 * `raftkv serve`: runs one member in the foreground (the container's entry point). Flags and
 * their environment variables are documented by `raftkv serve --help`.
 */
import { ConfigError, formatNodeConfigHelp, runServe } from '../server/index.js';
import { type Command, ExitCode, UsageError } from './command.js';

async function runServeCommand(commandArguments: readonly string[]): Promise<ExitCode> {
  try {
    const code = await runServe(commandArguments, process.env);
    return code === 0 ? ExitCode.success : ExitCode.failure;
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** `raftkv serve`. */
export const SERVE_COMMAND: Command = {
  words: ['serve'],
  synopsis: 'serve [FLAGS]',
  summary: 'run a raftkv member (flags or RAFTKV_* environment variables)',
  get help(): string {
    return formatNodeConfigHelp();
  },
  run: runServeCommand,
};
