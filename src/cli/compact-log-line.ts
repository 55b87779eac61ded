/**
 * Turns one pino JSON log line of a member into one short human line for the local cluster's
 * terminal: time, member, level, message, then the remaining fields as key=value. Lines that are
 * not JSON pass through unchanged. Colours only when the terminal supports them.
 */

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLOURS: Readonly<Record<number, string>> = { 40: '33', 50: '31', 60: '31' };
const MEMBER_COLOURS = ['36', '35', '32', '34', '33', '96', '95'];
/** Fields every line has; shown in the prefix or not at all. */
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'module']);

/** The compact form of `line` from member `ordinal` named `name`. */
export function compactLogLine(
  ordinal: number,
  name: string,
  line: string,
  isColour: boolean,
): string {
  const paint = (code: string | undefined, text: string): string =>
    isColour && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
  const member = paint(MEMBER_COLOURS[ordinal % MEMBER_COLOURS.length], name.padEnd(9));
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return `${member} ${line}`;
    record = parsed as Record<string, unknown>;
  } catch {
    return `${member} ${line}`;
  }
  const level = typeof record.level === 'number' ? record.level : 30;
  const time =
    typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(' ');
  const levelText = paint(LEVEL_COLOURS[level], LEVEL_NAMES[level] ?? String(level));
  const message = typeof record.msg === 'string' ? record.msg : '';
  return `${time} ${member} ${levelText} ${message}${fields.length > 0 ? `  ${fields}` : ''}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null && 'message' in value) {
    return JSON.stringify((value as { message: unknown }).message);
  }
  return JSON.stringify(value);
}
