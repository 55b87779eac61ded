/**
 * Byte order of keys and etcd's encoding of key ranges. Leaf helpers only: no state.
 */

/** Compares keys bytewise as unsigned bytes; a proper prefix sorts first. */
export function compareKeys(left: Uint8Array, right: Uint8Array): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) {
      return difference;
    }
  }
  return left.length - right.length;
}

/**
 * A resolved key range: a single key, or [start, end) where `end` undefined means unbounded.
 */
export type KeyRange =
  | { readonly kind: 'single'; readonly key: Uint8Array }
  | { readonly kind: 'interval'; readonly start: Uint8Array; readonly end: Uint8Array | undefined };

/**
 * Resolves etcd's (key, rangeEnd) pair: empty or absent rangeEnd is the single key; rangeEnd
 * [0x00] is every key >= key; key [0x00] with rangeEnd [0x00] is all keys (spelled out although
 * the previous rule gives the same set, because the empty key is never stored).
 */
export function resolveRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyRange {
  if (rangeEnd === undefined || rangeEnd.length === 0) {
    return { kind: 'single', key };
  }
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) {
    const allKeys = key.length === 1 && key[0] === 0;
    return { kind: 'interval', start: allKeys ? new Uint8Array(0) : key, end: undefined };
  }
  return { kind: 'interval', start: key, end: rangeEnd };
}

/** Whether `key` lies in `range`. */
export function rangeContains(range: KeyRange, key: Uint8Array): boolean {
  if (range.kind === 'single') {
    return compareKeys(range.key, key) === 0;
  }
  return (
    compareKeys(range.start, key) <= 0 &&
    (range.end === undefined || compareKeys(key, range.end) < 0)
  );
}
