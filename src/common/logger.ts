/**
 * The logging port every module receives. Only the program entry points build a concrete logger
 * (pino); pure modules and tests pass their own. Messages are stable lowercase phrases; fields
 * are camelCase.
 */

/** Structured fields attached to one log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A leveled, structured logger. Implementations must not throw. */
export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

/** A logger that discards everything. */
export const SILENT_LOGGER: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
