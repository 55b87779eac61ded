/**
 * The wait before reopening a failed peer stream: exponential between a minimum and a maximum,
 * with jitter so that members restarting together do not reconnect in lockstep. It owns only the
 * arithmetic; the sender owns the timer.
 */
import { assert } from '../common/index.js';

/** Fraction of the wait that jitter may remove (0.2: the wait is 80-100% of the nominal). */
const JITTER_FRACTION = 0.2;

/** Exponential backoff state for one peer. */
export class ReconnectBackoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private nominalMs: number;

  /** `random` returns a number in [0, 1); tests pass a fixed one. */
  constructor(minMs: number, maxMs: number, random: () => number = Math.random) {
    assert(minMs > 0 && minMs <= maxMs, 'backoff needs 0 < minMs <= maxMs');
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.random = random;
    this.nominalMs = minMs;
  }

  /** Whether the next wait is the minimum (no failure since the last success). */
  get isAtMinimum(): boolean {
    return this.nominalMs === this.minMs;
  }

  /** The wait after one more failure; the one after it doubles, up to the maximum. */
  nextDelayMs(): number {
    const nominalMs = this.nominalMs;
    this.nominalMs = Math.min(this.maxMs, nominalMs * 2);
    return Math.max(1, Math.round(nominalMs * (1 - JITTER_FRACTION * this.random())));
  }

  /** Jumps to the maximum: for failures that will not heal by themselves soon. */
  exhaust(): void {
    this.nominalMs = this.maxMs;
  }

  /** Back to the minimum after a stream proved healthy. */
  reset(): void {
    this.nominalMs = this.minMs;
  }
}
