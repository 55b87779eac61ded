/**
 * Order statistics and number formatting shared by the benchmarks, so every figure they print is
 * computed the same way.
 */

/** Nearest-rank percentile of ascending `sorted` (NaN when empty). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** The median, the lower middle value for an even count (NaN when empty). */
export function median(numbers: readonly number[]): number {
  return percentile(
    [...numbers].sort((a, b) => a - b),
    0.5,
  );
}

/** A rounded count with thousands separators, e.g. `145,203`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
