/**
 * What one configuration option is (flag, environment variable, value type, default, help line)
 * and the builders the option table uses for each value type. This file owns the rule that the
 * environment variable is `RAFTKV_` plus the flag in upper snake case; it must not list options
 * (node-config-options.ts does) or read argv and the environment (node-config.ts does).
 */
import type { NodeConfig } from './node-config-types.js';
import {
  formatByteSize,
  type Parsed,
  parseBoolean,
  parseByteSize,
  parseDurationMs,
  parseInteger,
} from './node-config-values.js';
import { AddressTemplate } from './node-identity-address-template.js';

/** Help sections, in the order `raftkv serve --help` prints them. */
export const OPTION_GROUPS = [
  'Node',
  'Network',
  'Cluster identity',
  'Timing',
  'Limits',
  'Snapshots',
  'Observability',
] as const;
export type OptionGroup = (typeof OPTION_GROUPS)[number];

/** Reads another option's final value, for defaults derived from it. */
export type ConfigReader = <K extends keyof NodeConfig>(key: K) => NodeConfig[K];

/**
 * A default: a fixed value, or text derived from other options that is then parsed like a flag's
 * value (so a derived default is checked too). `text` is what the help shows.
 */
export type OptionDefault<T> =
  | { readonly value: T; readonly text: string }
  | { readonly derive: (read: ConfigReader) => string; readonly text: string };

/** One option of the table. */
export interface OptionSpec<T> {
  /** Without the dashes, e.g. `data-dir`. */
  readonly flag: string;
  /** `RAFTKV_` + the flag in upper snake case, e.g. `RAFTKV_DATA_DIR`. */
  readonly env: string;
  readonly group: OptionGroup;
  /** One line for the help. */
  readonly description: string;
  /** How the help names the value: `<int>`, `<bytes>`, `json|pretty`; empty for booleans. */
  readonly valueName: string;
  /** The accepted range for the help, e.g. `1..65535`; empty when there is none. */
  readonly range: string;
  /** Whether a bare `--flag` means true (booleans take no separate value word). */
  readonly isBoolean: boolean;
  readonly parse: (text: string) => Parsed<T>;
  readonly default: OptionDefault<T>;
}

/** The fields every builder takes. */
interface SpecBase<T> {
  readonly flag: string;
  readonly group: OptionGroup;
  readonly description: string;
  readonly default: OptionDefault<T>;
}

/** The environment variable of a flag: `data-dir` -> `RAFTKV_DATA_DIR`. */
export function envOf(flag: string): string {
  return `RAFTKV_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** `flag --flag (env RAFTKV_FLAG)`, the way every message names an option. */
export function describeOption(spec: OptionSpec<unknown>): string {
  return `--${spec.flag} (env ${spec.env})`;
}

function build<T>(
  base: SpecBase<T>,
  valueName: string,
  parse: (text: string) => Parsed<T>,
  range = '',
): OptionSpec<T> {
  const { flag, group, description } = base;
  return {
    flag,
    env: envOf(flag),
    group,
    description,
    valueName,
    range,
    isBoolean: false,
    parse,
    default: base.default,
  };
}

/** A fixed default shown as `text` (or the value itself). */
export function fixed<T>(value: T, text = String(value)): OptionDefault<T> {
  return { value, text };
}

/** Non-empty text, optionally checked by `check` (which returns what was expected, or nothing). */
export function stringOption(
  base: SpecBase<string> & {
    readonly valueName?: string;
    readonly check?: (text: string) => string | undefined;
  },
): OptionSpec<string> {
  return build(base, base.valueName ?? '<string>', (text) => {
    if (text.length === 0) return { problem: 'a non-empty value' };
    const problem = base.check?.(text);
    return problem === undefined ? { value: text } : { problem };
  });
}

/** Like {@link stringOption}, but unset (`null`) unless given; the default is only described. */
export function optionalStringOption(
  base: Omit<SpecBase<string | null>, 'default'> & {
    readonly defaultText: string;
    readonly check?: (text: string) => string | undefined;
  },
): OptionSpec<string | null> {
  const spec = stringOption({ ...base, default: fixed('') });
  return { ...spec, default: fixed<string | null>(null, base.defaultText) };
}

/** An integer within `[min, max]`. */
export function integerOption(
  base: SpecBase<number> & { readonly min: number; readonly max: number },
): OptionSpec<number> {
  const range = `${base.min}..${base.max}`;
  return build(base, '<int>', (text) => parseInteger(text, base.min, base.max), range);
}

/** Milliseconds within `[min, max]`; unit suffixes are accepted, no suffix means ms. */
export function durationMsOption(
  base: SpecBase<number> & { readonly min: number; readonly max: number },
): OptionSpec<number> {
  const range = `${base.min}..${base.max} ms`;
  return build(base, '<ms>', (text) => parseDurationMs(text, base.min, base.max), range);
}

/** Bytes within `[min, max]`, with `KiB`/`MiB`/... suffixes. */
export function byteSizeOption(
  base: SpecBase<number> & { readonly min: number; readonly max: number },
): OptionSpec<number> {
  const range = `${formatByteSize(base.min)}..${formatByteSize(base.max)}`;
  return build(base, '<bytes>', (text) => parseByteSize(text, base.min, base.max), range);
}

/** A fixed byte-size default, shown in the help with a binary unit (`1.5MiB`). */
export function fixedBytes(bytes: number): OptionDefault<number> {
  return fixed(bytes, formatByteSize(bytes));
}

/** `--flag` alone means true; `--flag=false` (or the variable set to false) turns it off. */
export function booleanOption(base: SpecBase<boolean>): OptionSpec<boolean> {
  return { ...build(base, '', parseBoolean), isBoolean: true };
}

/** One of `values`. */
export function enumOption<T extends string>(
  base: SpecBase<T> & { readonly values: readonly T[] },
): OptionSpec<T> {
  const expected = `one of ${base.values.join(', ')}`;
  return build(base, base.values.join('|'), (text) =>
    (base.values as readonly string[]).includes(text)
      ? { value: text as T }
      : { problem: expected },
  );
}

/** An address template (syntax in node-identity-address-template.ts); unset (`null`) by default. */
export function templateOption(
  base: Omit<SpecBase<AddressTemplate | null>, 'default'>,
): OptionSpec<AddressTemplate | null> {
  const spec = { ...base, default: fixed(null, 'unset (Kubernetes DNS names)') };
  return build(spec, '<template>', (text) => AddressTemplate.parse(text));
}
