/**
 * Reads a node's configuration from its command line and environment: flags win over environment
 * variables, variables over defaults. This file owns the command-line grammar (`--flag=value`,
 * `--flag value`, bare `--flag` for booleans), precedence, derived defaults and the checks that
 * span several options. It must not define options (node-config-options.ts does) nor derive the
 * node's identity (node-identity.ts does). Every failure is a {@link ConfigError} naming the flag
 * and its environment variable.
 */
import { assert } from '../common/index.js';
import { ConfigError } from './node-config-error.js';
import { describeOption, type OptionSpec } from './node-config-option-spec.js';
import { NODE_CONFIG_OPTIONS } from './node-config-options.js';
import type { NodeConfig } from './node-config-types.js';

export { ConfigError, type ConfigErrorCode } from './node-config-error.js';
export { formatNodeConfigHelp } from './node-config-help.js';
export type { NodeConfig } from './node-config-types.js';

type Key = keyof NodeConfig;

/** A value as written, and where. */
interface RawValue {
  readonly text: string;
  readonly source: 'flag' | 'env';
}

const KEYS = Object.keys(NODE_CONFIG_OPTIONS) as Key[];
const KEY_BY_FLAG: ReadonlyMap<string, Key> = new Map(
  KEYS.map((key) => [NODE_CONFIG_OPTIONS[key].flag, key]),
);
const ENV_PREFIX = 'RAFTKV_';

/**
 * The node's configuration from `argv` (the arguments after `raftkv serve`) and `env` (usually
 * `process.env`). An environment variable set to the empty string counts as unset. A flag given
 * twice, an unknown flag, a positional argument, a bad value or options that contradict each
 * other throw a {@link ConfigError}. The result is frozen.
 */
export function parseNodeConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): NodeConfig {
  const raw = readFlags(argv);
  for (const key of KEYS) {
    const text = env[NODE_CONFIG_OPTIONS[key].env];
    if (!raw.has(key) && text !== undefined && text !== '') raw.set(key, { text, source: 'env' });
  }
  const config = resolveAll(raw);
  checkAcrossOptions(config);
  return Object.freeze(config);
}

/**
 * Environment variables that start with `RAFTKV_` but name no option (likely typos), sorted.
 * The node logs them as a warning; they are not an error because other tools may share the prefix.
 */
export function unknownNodeConfigEnvVariables(
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const known = new Set(KEYS.map((key) => NODE_CONFIG_OPTIONS[key].env));
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.has(name))
    .sort();
}

/** Flags and their values, by option. */
function readFlags(argv: readonly string[]): Map<Key, RawValue> {
  const raw = new Map<Key, RawValue>();
  for (let position = 0; position < argv.length; position += 1) {
    const argument = argv[position] ?? '';
    if (/^-[^-]/.test(argument)) throw unknownFlag(argument.slice(1), '-');
    if (!argument.startsWith('--') || argument === '--') {
      throw unexpectedArgument(argument, argv[position - 1]);
    }
    const equals = argument.indexOf('=');
    const flag = argument.slice(2, equals === -1 ? undefined : equals);
    const key = KEY_BY_FLAG.get(flag);
    if (key === undefined) throw unknownFlag(flag);
    const spec: OptionSpec<unknown> = NODE_CONFIG_OPTIONS[key];
    let text = equals === -1 ? undefined : argument.slice(equals + 1);
    if (text === undefined && spec.isBoolean) text = 'true';
    if (text === undefined) {
      text = argv[position + 1];
      if (text === undefined || text.startsWith('--')) throw missingValue(spec);
      position += 1;
    }
    if (raw.has(key)) {
      throw new ConfigError('CONFIG_CONFLICT', `${describeOption(spec)} is given more than once`);
    }
    raw.set(key, { text, source: 'flag' });
  }
  return raw;
}

/** Parses every option, deriving defaults from other options on demand. */
function resolveAll(raw: ReadonlyMap<Key, RawValue>): NodeConfig {
  const resolved = new Map<Key, unknown>();
  const resolving = new Set<Key>();
  const read = <K extends Key>(key: K): NodeConfig[K] => {
    if (!resolved.has(key)) {
      assert(!resolving.has(key), () => `option defaults depend on each other at ${key}`);
      resolving.add(key);
      resolved.set(key, resolveOne(NODE_CONFIG_OPTIONS[key], raw.get(key), read));
      resolving.delete(key);
    }
    return resolved.get(key) as NodeConfig[K];
  };
  return Object.fromEntries(KEYS.map((key) => [key, read(key)])) as unknown as NodeConfig;
}

function resolveOne<T>(
  spec: OptionSpec<T>,
  raw: RawValue | undefined,
  read: <K extends Key>(key: K) => NodeConfig[K],
): T {
  if (raw !== undefined) {
    const parsed = spec.parse(raw.text);
    if ('value' in parsed) return parsed.value;
    const written =
      raw.source === 'flag'
        ? `--${spec.flag}=${raw.text} (env ${spec.env})`
        : `${spec.env}=${raw.text} (flag --${spec.flag})`;
    throw new ConfigError('CONFIG_INVALID_VALUE', `invalid ${written}: expected ${parsed.problem}`);
  }
  const fallback = spec.default;
  if ('value' in fallback) return fallback.value;
  const text = fallback.derive(read);
  const parsed = spec.parse(text);
  if ('value' in parsed) return parsed.value;
  throw new ConfigError(
    'CONFIG_INVALID_VALUE',
    `the default of ${describeOption(spec)}, '${text}' (${fallback.text}), is invalid: ` +
      `expected ${parsed.problem}; set --${spec.flag} or ${spec.env}`,
  );
}

/** Checks of options that are valid alone but must agree with each other. */
function checkAcrossOptions(config: NodeConfig): void {
  if (config.heartbeatIntervalTicks >= config.electionTimeoutTicks) {
    throw conflict('heartbeatIntervalTicks', 'must be less than', 'electionTimeoutTicks', config);
  }
  if (config.keyBytesMax > config.requestBytesMax) {
    throw conflict('keyBytesMax', 'must be at most', 'requestBytesMax', config);
  }
  if (config.valueBytesMax > config.requestBytesMax) {
    throw conflict('valueBytesMax', 'must be at most', 'requestBytesMax', config);
  }
  const ports = ['clientPort', 'peerPort', 'httpPort'] as const;
  for (const [index, first] of ports.entries()) {
    for (const second of ports.slice(index + 1)) {
      if (config[first] === config[second]) {
        throw conflict(first, 'must differ from', second, config);
      }
    }
  }
  if ((config.peerAddressTemplate === null) !== (config.clientAddressTemplate === null)) {
    const given =
      config.peerAddressTemplate === null ? 'clientAddressTemplate' : 'peerAddressTemplate';
    const missing =
      given === 'peerAddressTemplate' ? 'clientAddressTemplate' : 'peerAddressTemplate';
    throw new ConfigError(
      'CONFIG_CONFLICT',
      `${describeOption(NODE_CONFIG_OPTIONS[given])} is set but ` +
        `${describeOption(NODE_CONFIG_OPTIONS[missing])} is not: give both address templates or neither`,
    );
  }
}

function conflict(first: Key, relation: string, second: Key, config: NodeConfig): ConfigError {
  const describe = (key: Key): string => `${describeOption(NODE_CONFIG_OPTIONS[key])}`;
  return new ConfigError(
    'CONFIG_CONFLICT',
    `${describe(first)} is ${String(config[first])} but ${relation} ` +
      `${describe(second)}, which is ${String(config[second])}`,
  );
}

function unknownFlag(flag: string, dashes = '--'): ConfigError {
  const suggestion = closestFlag(flag);
  const hint =
    suggestion === undefined
      ? ''
      : ` (did you mean ${describeOption(NODE_CONFIG_OPTIONS[suggestion])}?)`;
  return new ConfigError('CONFIG_UNKNOWN_FLAG', `unknown flag ${dashes}${flag}${hint}`);
}

function unexpectedArgument(argument: string, previous: string | undefined): ConfigError {
  const previousKey = previous?.startsWith('--') ? KEY_BY_FLAG.get(previous.slice(2)) : undefined;
  const isBooleanValue = previousKey !== undefined && NODE_CONFIG_OPTIONS[previousKey].isBoolean;
  const hint = isBooleanValue
    ? `; boolean flags take their value after '=': ${previous}=${argument}`
    : '; options are written --flag=value or --flag value';
  return new ConfigError('CONFIG_UNEXPECTED_ARGUMENT', `unexpected argument '${argument}'${hint}`);
}

function missingValue(spec: OptionSpec<unknown>): ConfigError {
  // Every value type refuses the empty text, and says what it expects when it does.
  const parsed = spec.parse('');
  const expected = 'problem' in parsed ? parsed.problem : 'a value';
  return new ConfigError(
    'CONFIG_INVALID_VALUE',
    `${describeOption(spec)} needs a value: expected ${expected}`,
  );
}

/** The known flag nearest to `flag` by edit distance, if any is near enough to be a typo. */
function closestFlag(flag: string): Key | undefined {
  let best: Key | undefined;
  let bestDistance = Math.max(2, Math.floor(flag.length / 3)) + 1;
  for (const [candidate, key] of KEY_BY_FLAG) {
    const distance = editDistance(flag, candidate);
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
