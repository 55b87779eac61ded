/**
 * The operator's work queue (client-go `workqueue` semantics, kubernetes-conventions.md §2.1,
 * §2.4): keys (`namespace/name`) wait in FIFO order, each key is queued at most once, at most one
 * handler runs per key (a key added while its handler runs is run once more afterwards), at most
 * `concurrency` handlers run in all, and a failing key is retried after a per-key exponential
 * backoff that a success resets.
 *
 * It owns scheduling only. It must not know what a key means nor read cluster state, and it does
 * not resync: the caller adds every key periodically, which also brings back keys this queue
 * dropped at its limit (keys are level-triggered, so dropping one loses no information).
 */
import { assert, assertNever } from '../common/index.js';

/** An opaque timer handle of a {@link Clock}. */
export type ClockTimer = unknown;

/**
 * Time as the operator's loops see it; injected so that tests run on a manual clock. `now` is
 * wall-clock milliseconds since the epoch (Lease records store it).
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

/** The process's real clock and timers. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/** What one run of the handler asks of the queue. */
export type WorkResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeueAfter'; readonly delayMs: number }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * Handles one key. It should return `{kind: 'error'}` rather than throw; a rejection is treated
 * as that error.
 */
export type WorkHandler = (key: string) => Promise<WorkResult>;

/**
 * Distinct keys that may be queued (ready) at once, and separately distinct keys that may wait
 * for a delay. An operator watches a handful of clusters; this bounds memory if something adds
 * keys in a loop.
 */
export const WORK_QUEUE_KEYS_MAX = 10_000;

/** client-go's per-item exponential backoff: 5 ms doubling up to 1000 s. */
export const BACKOFF_BASE_DELAY_MS_DEFAULT = 5;
export const BACKOFF_MAX_DELAY_MS_DEFAULT = 1_000_000;
/** Up to this fraction of a backoff delay is added at random, so that failures spread out. */
export const BACKOFF_JITTER_FRACTION = 0.1;
/**
 * Beyond this many failures the exponent stops growing (2^60 × any base already exceeds any
 * sane maximum; it also keeps `0 × 2^n` from becoming `0 × Infinity`).
 */
const BACKOFF_EXPONENT_MAX = 60;

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  readonly handler: WorkHandler;
  /** Handlers running at once, over all keys; 1 by default. */
  readonly concurrency?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Uniform in [0, 1): the backoff jitter; Math.random by default. */
  readonly random?: () => number;
  readonly clock?: Clock;
  /** Distinct keys queued (and, separately, waiting) at most; {@link WORK_QUEUE_KEYS_MAX}. */
  readonly keysMax?: number;
  /** Called for every key dropped at the limit (for a log line); the queue counts them too. */
  readonly onDrop?: (key: string) => void;
}

/** Counters of a {@link WorkQueue}, for metrics and tests. */
export interface WorkQueueStats {
  /** Keys ready to run, not running. */
  readonly queued: number;
  /** Keys whose handler runs now. */
  readonly inFlight: number;
  /** Keys waiting for a delay (requeue or backoff). */
  readonly waiting: number;
  /** Adds refused at the limit since the start. */
  readonly dropped: number;
}

/**
 * A per-key work queue. Construct it, then `add`; workers start at once. Call `shutdown` to stop:
 * it waits for the handlers in flight.
 */
export class WorkQueue {
  private readonly handler: WorkHandler;
  private readonly concurrency: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly keysMax: number;
  private readonly onDrop: (key: string) => void;

  /** Ready keys in FIFO order; every one is also in `dirty`. */
  private readonly queue: string[] = [];
  /** Keys that must run (again): queued, or added while their handler runs. */
  private readonly dirty = new Set<string>();
  /** Keys whose handler runs, with its promise (shutdown waits for them). */
  private readonly processing = new Map<string, Promise<void>>();
  /** Keys waiting for a delay: when they become ready and their timer. */
  private readonly waiting = new Map<string, { readyAtMs: number; timer: ClockTimer }>();
  /** Consecutive failures per key; present only while the key's last run failed. */
  private readonly failures = new Map<string, number>();
  private droppedCount = 0;
  private isShuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.handler = options.handler;
    this.concurrency = options.concurrency ?? 1;
    this.baseDelayMs = options.baseDelayMs ?? BACKOFF_BASE_DELAY_MS_DEFAULT;
    this.maxDelayMs = options.maxDelayMs ?? BACKOFF_MAX_DELAY_MS_DEFAULT;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.keysMax = options.keysMax ?? WORK_QUEUE_KEYS_MAX;
    this.onDrop = options.onDrop ?? (() => {});
    assert(
      Number.isInteger(this.concurrency) && this.concurrency >= 1,
      () => `work queue concurrency must be a positive integer, not ${this.concurrency}`,
    );
  }

  /** Queues `key` to run as soon as a worker is free (no-op if already queued). */
  add(key: string): void {
    if (this.isShuttingDown || this.dirty.has(key)) return;
    if (this.dirty.size >= this.keysMax) {
      this.drop(key);
      return;
    }
    this.dirty.add(key);
    // A key in flight is queued again when its handler returns, never twice at once.
    if (!this.processing.has(key)) this.queue.push(key);
    this.startWorkers();
  }

  /**
   * Queues `key` after `delayMs`. If the key already waits, the earlier of the two times wins
   * (as client-go's delaying queue), so a long backoff never postpones a shorter requeue.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.isShuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAtMs = this.clock.now() + delayMs;
    const existing = this.waiting.get(key);
    if (existing !== undefined) {
      if (existing.readyAtMs <= readyAtMs) return;
      this.clock.clearTimeout(existing.timer);
    } else if (this.waiting.size >= this.keysMax) {
      this.drop(key);
      return;
    }
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { readyAtMs, timer });
  }

  /** Forgets `key`'s failures (its next failure backs off from the base delay again). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Keys ready to run (not counting those running or waiting): the queue depth metric. */
  depth(): number {
    return this.queue.length;
  }

  /** Queue sizes and drops now, for metrics and tests. */
  stats(): WorkQueueStats {
    return {
      queued: this.queue.length,
      inFlight: this.processing.size,
      waiting: this.waiting.size,
      dropped: this.droppedCount,
    };
  }

  /** Consecutive failures of `key` so far (0 after a success). */
  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Stops: refuses further adds, cancels delayed keys, forgets queued ones and resolves once every
   * handler in flight has returned. Safe to call more than once.
   */
  async shutdown(): Promise<void> {
    this.isShuttingDown = true;
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    this.queue.length = 0;
    this.dirty.clear();
    await Promise.all(this.processing.values());
  }

  /** The delay before retry number `failures + 1`: min(base × 2^failures, max) plus jitter. */
  private backoffDelayMs(failures: number): number {
    const exponent = Math.min(failures, BACKOFF_EXPONENT_MAX);
    const delayMs = Math.min(this.baseDelayMs * 2 ** exponent, this.maxDelayMs);
    return delayMs + delayMs * BACKOFF_JITTER_FRACTION * this.random();
  }

  private drop(key: string): void {
    this.droppedCount += 1;
    this.onDrop(key);
  }

  private startWorkers(): void {
    while (!this.isShuttingDown && this.processing.size < this.concurrency) {
      const key = this.queue.shift();
      if (key === undefined) return;
      this.dirty.delete(key);
      this.processing.set(key, this.run(key));
    }
  }

  private async run(key: string): Promise<void> {
    // Yield first so that `processing` holds this run's promise before it can finish.
    await Promise.resolve();
    let result: WorkResult;
    try {
      result = await this.handler(key);
    } catch (error) {
      result = { kind: 'error', error };
    }
    this.processing.delete(key);
    if (!this.isShuttingDown) this.settle(key, result);
    if (this.dirty.has(key)) this.queue.push(key);
    this.startWorkers();
  }

  private settle(key: string, result: WorkResult): void {
    switch (result.kind) {
      case 'done':
        this.failures.delete(key);
        return;
      case 'requeueAfter':
        // A planned requeue is progress, not failure (controller-runtime forgets the key too).
        this.failures.delete(key);
        this.addAfter(key, result.delayMs);
        return;
      case 'error': {
        const failures = this.failures.get(key) ?? 0;
        this.failures.set(key, failures + 1);
        this.addAfter(key, this.backoffDelayMs(failures));
        return;
      }
      default:
        assertNever(result, 'work result');
    }
  }
}
