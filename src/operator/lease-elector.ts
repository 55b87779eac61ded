/**
 * Leader election over one coordination.k8s.io Lease, with client-go `leaderelection` semantics
 * (kubernetes-conventions.md §2.5), so that of several operator replicas exactly one reconciles.
 *
 * Safety rests on timing measured on OUR clock only: another holder's lease counts as expired
 * `leaseDurationSeconds` after we last saw its record change, never by comparing its `renewTime`
 * with our clock (clocks of two pods may disagree). A leader that has not renewed within
 * `renewDeadlineMs` (shorter than the lease duration) stops leading before anyone may take over.
 *
 * It owns the campaign and renew loops and the Lease record's contents. It must not decide what
 * leading means: the caller starts work in `onStartedLeading` and exits in `onStoppedLeading`.
 */
import { assert } from '../common/index.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from './platform.js';
import { type Clock, type ClockTimer, SYSTEM_CLOCK } from './work-queue.js';

/** controller-runtime's defaults (from component-base). */
export const LEASE_DURATION_MS_DEFAULT = 15_000;
export const RENEW_DEADLINE_MS_DEFAULT = 10_000;
export const RETRY_PERIOD_MS_DEFAULT = 2_000;
/** How long {@link LeaseElector.release} may take before it gives up (a read and a write). */
export const RELEASE_TIMEOUT_MS_DEFAULT = 5_000;
/**
 * A candidate waits retryPeriod × (1 + this × random) between attempts (client-go's
 * JitterFactor), so that candidates do not hit the API server in step.
 */
export const RETRY_JITTER_FACTOR = 1.2;

/** Why leadership ended without {@link LeaseElector.release}. */
export type StoppedLeadingReason =
  /** No renewal succeeded within `renewDeadlineMs`. */
  | 'renewDeadlineExceeded'
  /** The Lease names another holder: someone took over (our lease had expired for them). */
  | 'leaseTaken';

/** Options of {@link LeaseElector}. */
export interface LeaseElectorOptions {
  readonly store: LeaseStore;
  /** Unique per process, e.g. `POD_NAME_<uuid>`: a restarted pod is a new candidate. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly clock?: Clock;
  /** Uniform in [0, 1): the candidate's retry jitter; Math.random by default. */
  readonly random?: () => number;
  /** This process became the leader. Called once. */
  readonly onStartedLeading?: () => void;
  /**
   * This process lost leadership; the elector has stopped and the caller should exit (so the pod
   * restarts as a fresh candidate). Not called after {@link LeaseElector.release}.
   */
  readonly onStoppedLeading?: (reason: StoppedLeadingReason) => void;
  /** The Lease names a different holder than last seen (ourselves included; never ''). */
  readonly onNewLeader?: (identity: string) => void;
  /** Failed Lease reads and writes (for a log line); the elector retries them itself. */
  readonly onError?: (error: unknown) => void;
}

type ElectorState = 'idle' | 'candidate' | 'leader' | 'stopped';

/** The content of a record, for "did it change since we last looked" (resourceVersion aside). */
function recordContent(record: LeaseRecord): string {
  return JSON.stringify([
    record.holderIdentity,
    record.leaseDurationSeconds,
    record.acquireTimeMs,
    record.renewTimeMs,
    record.leaseTransitions,
  ]);
}

/**
 * One candidate for leadership. `start()` campaigns until it leads, then renews every retry
 * period until it loses the lease or `release()` is called. An elector runs once: after it stops,
 * make a new one.
 */
export class LeaseElector {
  private readonly store: LeaseStore;
  private readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly options: LeaseElectorOptions;

  private state: ElectorState = 'idle';
  private attemptTimer: ClockTimer | undefined;
  private deadlineTimer: ClockTimer | undefined;
  /** The attempt being made, so that release waits for it (it might acquire the lease). */
  private attempt: Promise<void> | undefined;
  /** The record content we last saw and when, on our clock. */
  private observedContent = '';
  private observedAtMs = 0;
  private reportedLeader = '';

  constructor(options: LeaseElectorOptions) {
    this.options = options;
    this.store = options.store;
    this.identity = options.identity;
    this.leaseDurationMs = options.leaseDurationMs ?? LEASE_DURATION_MS_DEFAULT;
    this.renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS_DEFAULT;
    this.retryPeriodMs = options.retryPeriodMs ?? RETRY_PERIOD_MS_DEFAULT;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.random = options.random ?? Math.random;
    assert(this.identity !== '', 'the elector needs a non-empty identity');
    // client-go's checks: a leader must give up before others may take over, and must get more
    // than one (jittered) try within its deadline.
    assert(
      this.leaseDurationMs > this.renewDeadlineMs,
      'leaseDurationMs must exceed renewDeadlineMs',
    );
    assert(
      this.renewDeadlineMs > RETRY_JITTER_FACTOR * this.retryPeriodMs,
      'renewDeadlineMs must exceed 1.2 × retryPeriodMs',
    );
    assert(this.retryPeriodMs > 0, 'retryPeriodMs must be positive');
  }

  /** True while this process holds the lease (as of its last successful renewal). */
  isLeader(): boolean {
    return this.state === 'leader';
  }

  /** The holder named by the Lease as last read ('' if none or not read yet). */
  leader(): string {
    return this.reportedLeader;
  }

  /** Starts campaigning (at once). Calling it again does nothing. */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'candidate';
    this.schedule(0);
  }

  /**
   * Stops the elector and, if it holds the lease, gives it up (best effort): the Lease is written
   * with no holder, so another candidate takes over at its next try instead of after the lease
   * duration. Waits for an attempt in flight first, so a late success cannot re-take the lease.
   * Resolves whether the lease was released, within `timeoutMs` (a hung API server must not hold
   * up the process's exit; the lease then simply expires). Never rejects.
   */
  async release(timeoutMs = RELEASE_TIMEOUT_MS_DEFAULT): Promise<boolean> {
    this.state = 'stopped';
    this.clearTimers();
    let timer: ClockTimer | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.releaseHeldLease(), timeout]);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private async releaseHeldLease(): Promise<boolean> {
    try {
      await this.attempt;
      const current = await this.store.get();
      if (current === null || current.holderIdentity !== this.identity) return false;
      const nowMs = this.clock.now();
      await this.store.replace({
        ...current,
        holderIdentity: '',
        // client-go writes 1 s; with no holder any candidate takes over regardless.
        leaseDurationSeconds: 1,
        acquireTimeMs: nowMs,
        renewTimeMs: nowMs,
      });
      return true;
    } catch (error) {
      this.options.onError?.(error);
      return false;
    }
  }

  private schedule(delayMs: number): void {
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = undefined;
      this.attempt = this.runAttempt().finally(() => {
        this.attempt = undefined;
      });
    }, delayMs);
  }

  private async runAttempt(): Promise<void> {
    const startedAtMs = this.clock.now();
    const isAcquired = await this.tryAcquireOrRenew();
    // The deadline may have passed, or release been called, while the store answered.
    if (this.state === 'stopped') return;
    if (isAcquired) {
      this.armRenewDeadline(startedAtMs);
      if (this.state === 'candidate') {
        this.state = 'leader';
        this.options.onStartedLeading?.();
      }
    } else if (this.state === 'leader' && this.reportedLeader !== this.identity) {
      this.stopLeading('leaseTaken');
      return;
    }
    if (this.state === 'leader') this.schedule(this.retryPeriodMs);
    else this.schedule(this.retryPeriodMs * (1 + RETRY_JITTER_FACTOR * this.random()));
  }

  /** One client-go `tryAcquireOrRenew`: true if we hold the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    try {
      const current = await this.store.get();
      if (this.state === 'stopped') return false;
      const nowMs = this.clock.now();
      if (current === null) {
        const created = await this.store.create(this.newRecord(nowMs, nowMs, 0));
        this.observe(created, this.clock.now());
        return true;
      }
      this.observe(current, nowMs);
      const isOurs = current.holderIdentity === this.identity;
      const isHeld = current.holderIdentity !== '';
      const expiresAtMs = this.observedAtMs + current.leaseDurationSeconds * 1000;
      if (isHeld && !isOurs && nowMs < expiresAtMs) return false;
      const record = isOurs
        ? this.newRecord(current.acquireTimeMs, nowMs, current.leaseTransitions)
        : this.newRecord(nowMs, nowMs, current.leaseTransitions + 1);
      const replaced = await this.store.replace({
        ...record,
        resourceVersion: current.resourceVersion,
      });
      this.observe(replaced, this.clock.now());
      return true;
    } catch (error) {
      // A conflict means someone wrote between our read and write: the next read shows who.
      if (!(error instanceof LeaseConflictError)) this.options.onError?.(error);
      return false;
    }
  }

  private newRecord(
    acquireTimeMs: number,
    renewTimeMs: number,
    leaseTransitions: number,
  ): Omit<LeaseRecord, 'resourceVersion'> {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTimeMs,
      renewTimeMs,
      leaseTransitions,
    };
  }

  /** Notes `record` as seen at `nowMs`; the expiry clock restarts only if it changed. */
  private observe(record: LeaseRecord, nowMs: number): void {
    const content = recordContent(record);
    if (content !== this.observedContent) {
      this.observedContent = content;
      this.observedAtMs = nowMs;
    }
    if (record.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = record.holderIdentity;
      if (record.holderIdentity !== '') this.options.onNewLeader?.(record.holderIdentity);
    }
  }

  /**
   * (Re)starts the renew deadline after a successful write. It counts from when the attempt
   * began, which is no later than the write others see, so a slow answer cannot stretch our
   * leadership past their expiry. A timer, since a store call may hang past the deadline.
   */
  private armRenewDeadline(attemptStartedAtMs: number): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    const delayMs = Math.max(0, attemptStartedAtMs + this.renewDeadlineMs - this.clock.now());
    this.deadlineTimer = this.clock.setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.state !== 'stopped') this.stopLeading('renewDeadlineExceeded');
    }, delayMs);
  }

  private stopLeading(reason: StoppedLeadingReason): void {
    this.state = 'stopped';
    this.clearTimers();
    this.options.onStoppedLeading?.(reason);
  }

  private clearTimers(): void {
    if (this.attemptTimer !== undefined) this.clock.clearTimeout(this.attemptTimer);
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.attemptTimer = undefined;
    this.deadlineTimer = undefined;
  }
}
