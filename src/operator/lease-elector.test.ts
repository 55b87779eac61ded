import { describe, expect, it } from 'vitest';

import {
  LeaseElector,
  type LeaseElectorOptions,
  type StoppedLeadingReason,
} from './lease-elector.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from './platform.js';
import type { Clock, ClockTimer } from './work-queue.js';

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told to. `skewed(offsetMs)` gives a view of it whose wall time is
 * off by `offsetMs` (another pod's clock) but whose timers fire on the same schedule.
 */
class ManualClock implements Clock {
  private nowMs = 1_700_000_000_000;
  private nextTimerId = 1;
  private readonly timers = new Map<number, { atMs: number; callback: () => void }>();

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    const id = this.nextTimerId++;
    this.timers.set(id, { atMs: this.nowMs + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer as number);
  }

  skewed(offsetMs: number): Clock {
    return {
      now: () => this.nowMs + offsetMs,
      setTimeout: (callback, delayMs) => this.setTimeout(callback, delayMs),
      clearTimeout: (timer) => this.clearTimeout(timer),
    };
  }

  async advance(delayMs: number): Promise<void> {
    const targetMs = this.nowMs + delayMs;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.atMs <= targetMs)
        .sort(([idA, a], [idB, b]) => a.atMs - b.atMs || idA - idB)[0];
      if (due === undefined) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.nowMs = timer.atMs;
      timer.callback();
    }
    this.nowMs = targetMs;
    await settle();
  }

  /** Advances in `stepMs` steps until `condition` holds; the time it first held. */
  async advanceUntil(condition: () => boolean, limitMs: number, stepMs = 100): Promise<number> {
    for (let elapsedMs = 0; elapsedMs <= limitMs; elapsedMs += stepMs) {
      if (condition()) return this.nowMs;
      await this.advance(stepMs);
    }
    throw new Error(`condition not met within ${limitMs} ms`);
  }
}

/** A Lease in memory with the API server's optimistic concurrency. */
class MemoryLeaseStore implements LeaseStore {
  record: LeaseRecord | null = null;
  private version = 0;
  /** Runs before each replace is applied (to let someone else write first). */
  beforeReplace: (() => void) | undefined;

  async get(): Promise<LeaseRecord | null> {
    return this.record;
  }

  async create(record: Omit<LeaseRecord, 'resourceVersion'>): Promise<LeaseRecord> {
    if (this.record !== null) throw new LeaseConflictError();
    return this.write(record);
  }

  async replace(record: LeaseRecord): Promise<LeaseRecord> {
    this.beforeReplace?.();
    if (this.record === null || this.record.resourceVersion !== record.resourceVersion) {
      throw new LeaseConflictError();
    }
    return this.write(record);
  }

  /** Writes unconditionally (another writer). */
  write(record: Omit<LeaseRecord, 'resourceVersion'>): LeaseRecord {
    this.version += 1;
    this.record = { ...record, resourceVersion: String(this.version) };
    return this.record;
  }
}

type StoreMode = 'ok' | 'fail' | 'hang';

/** One elector's view of the store: it may lose its connection (`fail`) or get no answers. */
class ConnectionStore implements LeaseStore {
  mode: StoreMode = 'ok';
  calls = 0;
  constructor(private readonly store: MemoryLeaseStore) {}

  get(): Promise<LeaseRecord | null> {
    return this.pass(() => this.store.get());
  }

  create(record: Omit<LeaseRecord, 'resourceVersion'>): Promise<LeaseRecord> {
    return this.pass(() => this.store.create(record));
  }

  replace(record: LeaseRecord): Promise<LeaseRecord> {
    return this.pass(() => this.store.replace(record));
  }

  private pass<T>(call: () => Promise<T>): Promise<T> {
    this.calls += 1;
    if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise<T>(() => {});
    return call();
  }
}

/** An elector on `store` recording its callbacks. */
function candidate(
  identity: string,
  store: LeaseStore,
  clock: Clock,
  overrides: Partial<LeaseElectorOptions> = {},
) {
  const events = {
    startedAtMs: [] as number[],
    stopped: [] as StoppedLeadingReason[],
    leaders: [] as string[],
    errors: [] as unknown[],
  };
  const elector = new LeaseElector({
    store,
    identity,
    clock,
    random: () => 0,
    onStartedLeading: () => events.startedAtMs.push(clock.now()),
    onStoppedLeading: (reason) => events.stopped.push(reason),
    onNewLeader: (leader) => events.leaders.push(leader),
    onError: (error) => events.errors.push(error),
    ...overrides,
  });
  return { elector, events };
}

describe('LeaseElector', () => {
  it('elects exactly one of two candidates, which keeps renewing', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const a = candidate('a', store, clock);
    const b = candidate('b', store, clock);
    a.elector.start();
    b.elector.start();
    await clock.advance(1_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(store.record).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(b.events.leaders).toEqual(['a']);
    expect(b.elector.leader()).toBe('a');
    const acquiredAtMs = store.record?.acquireTimeMs;
    await clock.advance(60_000);
    expect(a.events.startedAtMs).toHaveLength(1);
    expect(a.events.stopped).toEqual([]);
    expect(b.events.startedAtMs).toEqual([]);
    expect(store.record?.acquireTimeMs).toBe(acquiredAtMs);
    // Renewed every retry period (2 s).
    expect(store.record?.renewTimeMs).toBeGreaterThan(clock.now() - 2_000);
    await a.elector.release();
    await b.elector.release();
  });

  it('lets another take over only a lease duration after the leader stopped renewing', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const aConnection = new ConnectionStore(store);
    const a = candidate('a', aConnection, clock);
    const b = candidate('b', store, clock);
    a.elector.start();
    await clock.advance(100);
    b.elector.start();
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);

    aConnection.mode = 'fail';
    const lastRenewMs = store.record?.renewTimeMs ?? 0;
    const stoppedAtMs = await clock.advanceUntil(() => a.events.stopped.length > 0, 20_000);
    expect(a.events.stopped).toEqual(['renewDeadlineExceeded']);
    expect(a.elector.isLeader()).toBe(false);
    expect(stoppedAtMs - lastRenewMs).toBeLessThanOrEqual(10_000);
    expect(a.events.errors.length).toBeGreaterThan(0);

    const takeoverMs = await clock.advanceUntil(() => b.elector.isLeader(), 30_000);
    // b saw the last change at its first poll after it, at most one retry period later.
    expect(takeoverMs - lastRenewMs).toBeGreaterThanOrEqual(15_000);
    expect(takeoverMs - lastRenewMs).toBeLessThanOrEqual(15_000 + 2_000 + 100);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(b.events.leaders).toEqual(['a', 'b']);
    await b.elector.release();
  });

  it('measures expiry on its own clock, not by the holder renewTime', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    // A holder that renewed long ago by our clock (or whose clock is far behind ours).
    store.write({
      holderIdentity: 'ghost',
      leaseDurationSeconds: 15,
      acquireTimeMs: 0,
      renewTimeMs: 0,
      leaseTransitions: 4,
    });
    // b's clock is an hour behind the candidate c's below.
    const b = candidate('b', store, clock.skewed(-3_600_000));
    const startMs = clock.now();
    b.elector.start();
    await clock.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    const takeoverMs = await clock.advanceUntil(() => b.elector.isLeader(), 5_000);
    // First seen at 0, expired at 15 s, taken at the next try (every 2 s).
    expect(takeoverMs - startMs).toBe(16_000);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });

    // A live leader whose renewTime looks an hour old to c keeps its lease.
    const c = candidate('c', store, clock);
    c.elector.start();
    await clock.advance(120_000);
    expect(c.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(true);
    await b.elector.release();
    await c.elector.release();
  });

  it('loses a race on replace without error, and waits for the winner to expire', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    store.write({
      holderIdentity: 'ghost',
      leaseDurationSeconds: 15,
      acquireTimeMs: 0,
      renewTimeMs: 0,
      leaseTransitions: 0,
    });
    const b = candidate('b', store, clock);
    store.beforeReplace = () => {
      store.beforeReplace = undefined;
      store.write({
        holderIdentity: 'c',
        leaseDurationSeconds: 15,
        acquireTimeMs: clock.now(),
        renewTimeMs: clock.now(),
        leaseTransitions: 1,
      });
    };
    b.elector.start();
    await clock.advanceUntil(() => store.record?.holderIdentity === 'c', 20_000);
    const conflictAtMs = clock.now();
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader()).toBe('c');
    expect(b.events.errors).toEqual([]);
    const takeoverMs = await clock.advanceUntil(() => b.elector.isLeader(), 30_000);
    expect(takeoverMs - conflictAtMs).toBeGreaterThanOrEqual(15_000);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 2 });
    expect(b.events.leaders).toEqual(['ghost', 'c', 'b']);
    await b.elector.release();
  });

  it('stops leading when no renewal succeeds within the renew deadline (store hangs)', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const connection = new ConnectionStore(store);
    const a = candidate('a', connection, clock);
    a.elector.start();
    await clock.advance(5_000);
    expect(a.elector.isLeader()).toBe(true);
    connection.mode = 'hang';
    const hungAtMs = clock.now();
    const stoppedAtMs = await clock.advanceUntil(() => a.events.stopped.length > 0, 20_000);
    expect(a.events.stopped).toEqual(['renewDeadlineExceeded']);
    expect(stoppedAtMs - hungAtMs).toBeLessThanOrEqual(10_000);
    const callsAtStop = connection.calls;
    await clock.advance(60_000);
    expect(connection.calls).toBe(callsAtStop);
    expect(a.events.stopped).toHaveLength(1);
  });

  it('stops leading at once when the Lease names another holder', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const a = candidate('a', store, clock);
    a.elector.start();
    await clock.advance(1_000);
    expect(a.elector.isLeader()).toBe(true);
    store.write({
      holderIdentity: 'usurper',
      leaseDurationSeconds: 15,
      acquireTimeMs: clock.now(),
      renewTimeMs: clock.now(),
      leaseTransitions: 1,
    });
    await clock.advance(2_000);
    expect(a.events.stopped).toEqual(['leaseTaken']);
    expect(a.elector.isLeader()).toBe(false);
    expect(store.record?.holderIdentity).toBe('usurper');
  });

  it('hands over at once on release', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const a = candidate('a', store, clock);
    const b = candidate('b', store, clock);
    a.elector.start();
    await clock.advance(100);
    b.elector.start();
    await clock.advance(10_000);
    expect(await a.elector.release()).toBe(true);
    expect(store.record).toMatchObject({ holderIdentity: '', leaseTransitions: 0 });
    const releasedAtMs = clock.now();
    const takeoverMs = await clock.advanceUntil(() => b.elector.isLeader(), 5_000);
    expect(takeoverMs - releasedAtMs).toBeLessThanOrEqual(2_000);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(a.events.stopped).toEqual([]);
    expect(a.elector.isLeader()).toBe(false);
    expect(await a.elector.release()).toBe(false);
    await b.elector.release();
  });

  it('releases a lease that an attempt in flight acquires during release', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    let letCreate: () => void = () => {};
    const slowStore: LeaseStore = {
      get: () => store.get(),
      create: async (record) => {
        await new Promise<void>((resolve) => {
          letCreate = resolve;
        });
        return store.create(record);
      },
      replace: (record) => store.replace(record),
    };
    const a = candidate('a', slowStore, clock);
    a.elector.start();
    await clock.advance(0);
    const released = a.elector.release();
    letCreate();
    expect(await released).toBe(true);
    expect(store.record?.holderIdentity).toBe('');
    expect(a.events.startedAtMs).toEqual([]);
  });

  it('gives up releasing after its timeout when the API server does not answer', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const connection = new ConnectionStore(store);
    const a = candidate('a', connection, clock);
    a.elector.start();
    await clock.advance(1_000);
    expect(a.elector.isLeader()).toBe(true);
    connection.mode = 'hang';
    let result: boolean | undefined;
    void a.elector.release().then((released) => (result = released));
    await clock.advance(4_900);
    expect(result).toBeUndefined();
    await clock.advance(100);
    expect(result).toBe(false);
    expect(a.elector.isLeader()).toBe(false);
    expect(store.record?.holderIdentity).toBe('a');
  });

  it('refuses timings that would let two leaders overlap', () => {
    const store = new MemoryLeaseStore();
    const options = { store, identity: 'a' };
    expect(() => new LeaseElector({ ...options, renewDeadlineMs: 15_000 })).toThrow(
      /renewDeadline/,
    );
    expect(() => new LeaseElector({ ...options, retryPeriodMs: 9_000 })).toThrow(/retryPeriod/);
    expect(() => new LeaseElector({ ...options, identity: '' })).toThrow(/identity/);
  });
});
