/**
 * `log-level debug|info|warn|error|none`: which of the core's log lines the transcript shows
 * from now on.
 */
import { type CommandLine, CommandError, requirePositional } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { LOG_LEVELS, type LogLevel } from './test-logger.js';

/** The command handler. */
export function logLevel(env: InteractionEnv, command: CommandLine): void {
  const level = requirePositional(command, 0, 'level');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new CommandError(`log level must be one of ${LOG_LEVELS.join('|')}`);
  }
  env.logLevel = level as LogLevel;
}
