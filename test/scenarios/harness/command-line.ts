/**
 * Parses one command line of a scenario file: a command name, positional arguments and
 * `key=value` arguments, where a value may be a parenthesised list (`voters=(1,2,3)`) and a
 * positional argument may be a double-quoted string (`propose 1 "a b"`). It owns only the
 * syntax; handlers decide what the arguments mean.
 */

/** A parsed command line. */
export interface CommandLine {
  readonly name: string;
  readonly positional: readonly string[];
  /** Each key in the order written; list values are split, scalars are one-element lists. */
  readonly named: ReadonlyMap<string, readonly string[]>;
  /** The `key=value` arguments in the order written (for order-sensitive commands). */
  readonly namedInOrder: readonly (readonly [string, readonly string[]])[];
  /** The line as written, for error messages. */
  readonly text: string;
}

/** Thrown for a malformed command or argument; the runner prints it as the block's output. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Splits a command line into tokens, keeping quoted strings and parentheses together. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let depth = 0;
  let isQuoted = false;
  for (const character of text) {
    if (character === '"') isQuoted = !isQuoted;
    if (!isQuoted && character === '(') depth++;
    if (!isQuoted && character === ')') depth--;
    if (!isQuoted && depth === 0 && /\s/.test(character)) {
      if (current.length > 0) tokens.push(current);
      current = '';
      continue;
    }
    current += character;
  }
  if (isQuoted || depth !== 0) throw new CommandError(`unbalanced quotes or parentheses`);
  if (current.length > 0) tokens.push(current);
  return tokens;
}

function parseValue(value: string): string[] {
  if (value.startsWith('(') && value.endsWith(')')) {
    const inner = value.slice(1, -1).trim();
    return inner.length === 0 ? [] : inner.split(',').map((item) => item.trim());
  }
  return [value];
}

function unquote(token: string): string {
  if (token.length >= 2 && token.startsWith('"') && token.endsWith('"')) {
    return JSON.parse(token) as string;
  }
  return token;
}

/** Parses `text` (one non-empty line) into a {@link CommandLine}. */
export function parseCommandLine(text: string): CommandLine {
  const [name, ...rest] = tokenize(text.trim());
  if (name === undefined) throw new CommandError('empty command');
  const positional: string[] = [];
  const namedInOrder: [string, string[]][] = [];
  for (const token of rest) {
    const equals = token.indexOf('=');
    if (equals > 0 && !token.startsWith('"')) {
      namedInOrder.push([token.slice(0, equals), parseValue(token.slice(equals + 1))]);
    } else {
      positional.push(unquote(token));
    }
  }
  const named = new Map<string, string[]>();
  for (const [key, values] of namedInOrder) named.set(key, [...(named.get(key) ?? []), ...values]);
  return { name, positional, named, namedInOrder, text };
}

/** Parses a node id or a count: a positive safe integer. */
export function parsePositiveInteger(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new CommandError(`${what} must be a positive integer, got "${text}"`);
  }
  return value;
}

/** The positional argument at `position`, which must exist. */
export function requirePositional(command: CommandLine, position: number, what: string): string {
  const value = command.positional[position];
  if (value === undefined) throw new CommandError(`${command.name}: missing ${what}`);
  return value;
}

/** The positional argument at `position` as a positive integer (node id, count, index). */
export function requireInteger(command: CommandLine, position: number, what: string): number {
  return parsePositiveInteger(requirePositional(command, position, what), what);
}

/** A named argument as a single string, or undefined. */
export function namedValue(command: CommandLine, key: string): string | undefined {
  const values = command.named.get(key);
  if (values === undefined) return undefined;
  if (values.length !== 1) throw new CommandError(`${key}= takes one value`);
  return values[0];
}

/** A named argument as a list of node ids (empty if absent). */
export function namedIds(command: CommandLine, key: string): number[] {
  return (command.named.get(key) ?? []).map((text) => parsePositiveInteger(text, `${key} id`));
}

/** A named boolean argument (`true`/`false`), or `fallback` when absent. */
export function namedBoolean(command: CommandLine, key: string, fallback: boolean): boolean {
  const value = namedValue(command, key);
  if (value === undefined) return fallback;
  if (value !== 'true' && value !== 'false') throw new CommandError(`${key}= must be true|false`);
  return value === 'true';
}

/** Rejects named arguments the handler does not know, so typos do not pass silently. */
export function checkNamedKeys(command: CommandLine, known: readonly string[]): void {
  for (const key of command.named.keys()) {
    if (!known.includes(key)) throw new CommandError(`${command.name}: unknown argument ${key}=`);
  }
}

/** Node ids given as positional arguments (`process-ready 1 2`). */
export function positionalIds(command: CommandLine): number[] {
  return command.positional.map((text) => parsePositiveInteger(text, 'node id'));
}

/** Parses `3` or `(1,2,3)` into node ids, with the list syntax of named values. */
export function parseIdList(text: string): number[] {
  return parseValue(text).map((item) => parsePositiveInteger(item, 'node id'));
}
