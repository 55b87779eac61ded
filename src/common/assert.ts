/**
 * Assertions for programmer errors. They stay on in production: a broken invariant means the
 * process state cannot be trusted, and the only safe response is to crash and let the
 * supervisor restart the node from its write-ahead log.
 */

/** Thrown when an invariant or precondition does not hold. Never caught to continue. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Throws an {@link AssertionError} with `message` unless `condition` holds. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'string' ? message : message());
  }
}

/** Marks a branch that exhaustive typing proves unreachable. */
export function assertNever(value: never, what: string): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
