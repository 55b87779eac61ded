/**
 * The Logger the scenario nodes get: it writes the core's log lines into the transcript, as
 * `INFO 1 became candidate term=2 previousRole=preCandidate reason=electionTimeout`. Fields are
 * rendered compactly and deterministically in the order the core wrote them; `nodeId` moves to
 * the front, and `role` is left out when the message already says it (`became leader`). It
 * only formats; the environment decides where lines go.
 */
import type { LogFields, Logger } from '../../../src/common/index.js';

/** Log levels, least severe first; `none` prints nothing. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const PLAIN_TEXT = /^[\w.:()\-,&/]+$/;

/** One field value: numbers and simple words bare, other strings quoted, lists in parens. */
export function renderFieldValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return PLAIN_TEXT.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `(${value.map(renderFieldValue).join(',')})`;
  if (typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(
      ([key, inner]) => `${key}=${renderFieldValue(inner)}`,
    );
    return `{${parts.join(' ')}}`;
  }
  return JSON.stringify(String(value));
}

/** Renders one log line without its level. */
export function renderLogLine(fields: LogFields, message: string): string {
  const words = new Set(message.split(' '));
  const parts: string[] = [];
  if (typeof fields['nodeId'] === 'number') parts.push(String(fields['nodeId']));
  parts.push(message);
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'nodeId') continue;
    if (key === 'role' && typeof value === 'string' && words.has(value)) continue;
    parts.push(`${key}=${renderFieldValue(value)}`);
  }
  return parts.join(' ');
}

/** Creates a Logger that passes lines at or above the current level to `write`. */
export function createTestLogger(currentLevel: () => LogLevel, write: (line: string) => void) {
  const emit = (level: Exclude<LogLevel, 'none'>, fields: LogFields, message: string): void => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(currentLevel())) return;
    write(`${level.toUpperCase()} ${renderLogLine(fields, message)}`);
  };
  const logger: Logger = {
    debug: (fields, message) => emit('debug', fields, message),
    info: (fields, message) => emit('info', fields, message),
    warn: (fields, message) => emit('warn', fields, message),
    error: (fields, message) => emit('error', fields, message),
  };
  return logger;
}
