import { describe, expect, it } from 'vitest';

import { type Clock, type ClockTimer, type WorkResult, WorkQueue } from './work-queue.js';

/** Lets pending promise callbacks run (several turns: handlers await more than once). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** A clock that moves only when told to, firing due timers in time order. */
class ManualClock implements Clock {
  private nowMs = 0;
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

  pendingTimers(): number {
    return this.timers.size;
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
}

/** A promise and its resolve function, to hold a handler until the test lets it go. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

const DONE: WorkResult = { kind: 'done' };

describe('WorkQueue', () => {
  it('runs an added key once, however often it is added while queued', async () => {
    const clock = new ManualClock();
    const gate = deferred<WorkResult>();
    const runs: string[] = [];
    const queue = new WorkQueue({
      clock,
      handler: async (key) => {
        runs.push(key);
        return key === 'busy' ? gate.promise : DONE;
      },
    });
    queue.add('busy');
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth()).toBe(2);
    gate.resolve(DONE);
    await settle();
    expect(runs).toEqual(['busy', 'a', 'b']);
    expect(queue.stats()).toEqual({ queued: 0, inFlight: 0, waiting: 0, dropped: 0 });
    await queue.shutdown();
  });

  it('runs one handler per key at a time and re-runs a key added while in flight, once', async () => {
    const clock = new ManualClock();
    const gates = [deferred<WorkResult>(), deferred<WorkResult>()];
    let running = 0;
    let runningMax = 0;
    let runs = 0;
    const queue = new WorkQueue({
      clock,
      concurrency: 4,
      handler: async () => {
        const gate = gates[runs++];
        running += 1;
        runningMax = Math.max(runningMax, running);
        const result = await (gate?.promise ?? Promise.resolve(DONE));
        running -= 1;
        return result;
      },
    });
    queue.add('a');
    await settle();
    queue.add('a');
    queue.add('a');
    expect(queue.stats()).toMatchObject({ queued: 0, inFlight: 1 });
    gates[0]?.resolve(DONE);
    await settle();
    expect(runs).toBe(2);
    gates[1]?.resolve(DONE);
    await settle();
    expect(runs).toBe(2);
    expect(runningMax).toBe(1);
    await queue.shutdown();
  });

  it('runs at most `concurrency` keys at once', async () => {
    const clock = new ManualClock();
    const gate = deferred<WorkResult>();
    let running = 0;
    let runningMax = 0;
    const done: string[] = [];
    const queue = new WorkQueue({
      clock,
      concurrency: 2,
      handler: async (key) => {
        running += 1;
        runningMax = Math.max(runningMax, running);
        await gate.promise;
        running -= 1;
        done.push(key);
        return DONE;
      },
    });
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
    await settle();
    expect(queue.stats()).toMatchObject({ queued: 3, inFlight: 2 });
    gate.resolve(DONE);
    await settle();
    expect(done.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(runningMax).toBe(2);
    await queue.shutdown();
  });

  it('backs off exponentially per key up to the maximum, and a success resets it', async () => {
    const clock = new ManualClock();
    const results: WorkResult[] = [
      ...Array.from({ length: 5 }, () => ({ kind: 'error', error: new Error('x') }) as const),
      DONE,
      { kind: 'error', error: new Error('again') },
    ];
    const runTimesMs: number[] = [];
    const queue = new WorkQueue({
      clock,
      baseDelayMs: 5,
      maxDelayMs: 40,
      random: () => 0,
      handler: async () => {
        runTimesMs.push(clock.now());
        return results.shift() ?? DONE;
      },
    });
    queue.add('a');
    await clock.advance(1_000);
    // Failures at 0, 5, 15, 35, 75: delays 5, 10, 20, 40 (capped), 40; the success at 115.
    expect(runTimesMs.slice(0, 6)).toEqual([0, 5, 15, 35, 75, 115]);
    expect(queue.failureCount('a')).toBe(0);
    queue.add('a');
    await settle();
    expect(queue.failureCount('a')).toBe(1);
    await clock.advance(5);
    expect(runTimesMs.slice(-2)).toEqual([1_000, 1_005]);
    await queue.shutdown();
  });

  it('defaults to client-go delays (5 ms doubling, at most 1000 s) plus jitter', async () => {
    const clock = new ManualClock();
    const runTimesMs: number[] = [];
    const queue = new WorkQueue({
      clock,
      random: () => 0.5,
      handler: async () => {
        runTimesMs.push(clock.now());
        return { kind: 'error', error: new Error('x') };
      },
    });
    queue.add('a');
    await clock.advance(16);
    // 5 ms + 5% (half of the 10% jitter), then 10 ms + 5%.
    expect(runTimesMs).toEqual([0, 5.25, 15.75]);
    for (let failure = 3; failure < 40; failure++) await clock.advance(1_100_000);
    const gapsMs = runTimesMs.slice(1).map((timeMs, index) => timeMs - (runTimesMs[index] ?? 0));
    expect(Math.max(...gapsMs)).toBe(1_050_000);
    await queue.shutdown();
  });

  it('treats a rejected handler as an error and backs off', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const queue = new WorkQueue({
      clock,
      random: () => 0,
      handler: async () => {
        runs += 1;
        throw new Error('boom');
      },
    });
    queue.add('a');
    await settle();
    expect(runs).toBe(1);
    expect(queue.stats().waiting).toBe(1);
    await clock.advance(4);
    expect(runs).toBe(1);
    await clock.advance(1);
    expect(runs).toBe(2);
    await queue.shutdown();
  });

  it('requeues after the asked delay without counting a failure', async () => {
    const clock = new ManualClock();
    const runTimesMs: number[] = [];
    const queue = new WorkQueue({
      clock,
      handler: async () => {
        runTimesMs.push(clock.now());
        return runTimesMs.length < 3 ? { kind: 'requeueAfter', delayMs: 10_000 } : DONE;
      },
    });
    queue.add('a');
    await clock.advance(60_000);
    expect(runTimesMs).toEqual([0, 10_000, 20_000]);
    expect(queue.failureCount('a')).toBe(0);
    await queue.shutdown();
  });

  it('keeps the earlier time when a waiting key is added after a delay again', async () => {
    const clock = new ManualClock();
    const runTimesMs: number[] = [];
    const queue = new WorkQueue({
      clock,
      handler: async () => {
        runTimesMs.push(clock.now());
        return DONE;
      },
    });
    queue.addAfter('a', 1_000);
    queue.addAfter('a', 5_000);
    queue.addAfter('a', 300);
    expect(queue.stats().waiting).toBe(1);
    await clock.advance(10_000);
    expect(runTimesMs).toEqual([300]);
    await queue.shutdown();
  });

  it('drops and counts keys beyond its limit', async () => {
    const clock = new ManualClock();
    const gate = deferred<WorkResult>();
    const dropped: string[] = [];
    const runs: string[] = [];
    const queue = new WorkQueue({
      clock,
      keysMax: 2,
      onDrop: (key) => dropped.push(key),
      handler: async (key) => {
        runs.push(key);
        return key === 'busy' ? gate.promise : DONE;
      },
    });
    queue.add('busy');
    queue.add('a');
    queue.add('b');
    queue.add('c');
    queue.addAfter('w1', 10);
    queue.addAfter('w2', 10);
    queue.addAfter('w3', 10);
    expect(dropped).toEqual(['c', 'w3']);
    expect(queue.stats()).toMatchObject({ queued: 2, waiting: 2, dropped: 2 });
    gate.resolve(DONE);
    await clock.advance(10);
    expect(runs).toEqual(['busy', 'a', 'b', 'w1', 'w2']);
    await queue.shutdown();
  });

  it('shuts down after the handlers in flight return, cancelling waits and later adds', async () => {
    const clock = new ManualClock();
    const gate = deferred<WorkResult>();
    const runs: string[] = [];
    const queue = new WorkQueue({
      clock,
      handler: async (key) => {
        runs.push(key);
        return gate.promise;
      },
    });
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 100);
    await settle();
    let isShutDown = false;
    const shutdown = queue.shutdown().then(() => {
      isShutDown = true;
    });
    await settle();
    expect(isShutDown).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    queue.add('d');
    gate.resolve({ kind: 'requeueAfter', delayMs: 5 });
    await shutdown;
    await clock.advance(1_000);
    expect(runs).toEqual(['a']);
    expect(clock.pendingTimers()).toBe(0);
    expect(queue.stats()).toEqual({ queued: 0, inFlight: 0, waiting: 0, dropped: 0 });
  });

  it('refuses a concurrency below one', () => {
    expect(() => new WorkQueue({ concurrency: 0, handler: async () => DONE })).toThrow(
      /concurrency/,
    );
  });
});
