/**
 * Parsing and printing of option values: integers with bounds, durations in milliseconds, byte
 * sizes with `64MiB`-style suffixes and booleans. Every function is pure and exact (decimal
 * fractions are scaled with integers, never floats). This file knows nothing of flags or
 * environment variables: a failed parse returns what was expected, and the caller names the option.
 */

/** A parsed value, or why the text is not one (a phrase that completes "expected ..."). */
export type Parsed<T> = { readonly value: T } | { readonly problem: string };

/** Byte-size suffixes, lowercase; the multiplier is exact. */
const BYTE_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['', 1n],
  ['b', 1n],
  ['k', 1000n],
  ['kb', 1000n],
  ['m', 1000n ** 2n],
  ['mb', 1000n ** 2n],
  ['g', 1000n ** 3n],
  ['gb', 1000n ** 3n],
  ['t', 1000n ** 4n],
  ['tb', 1000n ** 4n],
  ['ki', 1024n],
  ['kib', 1024n],
  ['mi', 1024n ** 2n],
  ['mib', 1024n ** 2n],
  ['gi', 1024n ** 3n],
  ['gib', 1024n ** 3n],
  ['ti', 1024n ** 4n],
  ['tib', 1024n ** 4n],
]);

/** Duration suffixes; no suffix means milliseconds. */
const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['', 1n],
  ['ms', 1n],
  ['s', 1000n],
  ['m', 60_000n],
  ['h', 3_600_000n],
]);

/** Binary units used when printing a byte size, largest first. */
const BYTE_PRINT_UNITS: readonly (readonly [string, number])[] = [
  ['TiB', 1024 ** 4],
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];

const DECIMAL_WITH_UNIT = /^(\d+)(?:\.(\d+))?\s*([a-z]*)$/i;

/** What an integer option expects, e.g. "an integer from 1 to 65535". */
function describeIntegerBounds(min: number, max: number): string {
  return `an integer from ${min} to ${max}`;
}

/** What a duration option expects, e.g. "a duration from 1ms to 10000ms (...)". */
function describeDurationBounds(minMs: number, maxMs: number): string {
  return `a duration from ${minMs}ms to ${maxMs}ms (milliseconds, or with a unit: 250ms, 5s, 2m, 1h)`;
}

/** What a byte-size option expects, e.g. "a byte size from 1KiB to 32MiB (...)". */
function describeByteSizeBounds(min: number, max: number): string {
  return `a byte size from ${formatByteSize(min)} to ${formatByteSize(max)} (bytes, or with a unit: 512KiB, 1.5MiB, 2GiB; KB, MB, GB are powers of 1000)`;
}

/** A decimal integer (optionally negative) within `[min, max]`. */
export function parseInteger(text: string, min: number, max: number): Parsed<number> {
  const expected = describeIntegerBounds(min, max);
  if (!/^-?\d+$/.test(text)) return { problem: expected };
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) return { problem: expected };
  return { value };
}

/** A whole number of milliseconds within `[minMs, maxMs]`; `ms`, `s`, `m`, `h` suffixes allowed. */
export function parseDurationMs(text: string, minMs: number, maxMs: number): Parsed<number> {
  const expected = describeDurationBounds(minMs, maxMs);
  const value = parseScaled(text, DURATION_UNITS);
  if (value === undefined || value < minMs || value > maxMs) return { problem: expected };
  return { value };
}

/** A whole number of bytes within `[min, max]`; binary and decimal suffixes allowed. */
export function parseByteSize(text: string, min: number, max: number): Parsed<number> {
  const expected = describeByteSizeBounds(min, max);
  const value = parseScaled(text, BYTE_UNITS);
  if (value === undefined || value < min || value > max) return { problem: expected };
  return { value };
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), case-insensitive. */
export function parseBoolean(text: string): Parsed<boolean> {
  const lower = text.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return { value: true };
  if (['false', '0', 'no', 'off'].includes(lower)) return { value: false };
  return { problem: 'true or false' };
}

/** Prints bytes in the largest binary unit that keeps at most two decimals, e.g. `1.5MiB`. */
export function formatByteSize(bytes: number): string {
  for (const [unit, size] of BYTE_PRINT_UNITS) {
    if (bytes >= size && (bytes * 100) % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

/**
 * `digits[.fraction][unit]` scaled exactly by the unit's multiplier: a safe integer, or
 * `undefined` if the text does not parse, the unit is unknown or the result is not whole.
 */
function parseScaled(text: string, units: ReadonlyMap<string, bigint>): number | undefined {
  const match = DECIMAL_WITH_UNIT.exec(text.trim());
  if (match === null) return undefined;
  const [, whole = '', fraction = '', unit = ''] = match;
  const multiplier = units.get(unit.toLowerCase());
  if (multiplier === undefined) return undefined;
  const denominator = 10n ** BigInt(fraction.length);
  const numerator = BigInt(whole + fraction) * multiplier;
  if (numerator % denominator !== 0n) return undefined;
  const scaled = numerator / denominator;
  return scaled > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(scaled);
}
