/**
 * The simulation's logical time in ticks: advanced only by the cluster at the start of each
 * step, read by everyone else (trace, workload, liveness probe). There is no other clock in the
 * simulator; wall time appears only in main.ts's summary.
 */

/** A tick counter starting at 0. */
export class LogicalClock {
  private current = 0;

  /** The current tick. */
  get now(): number {
    return this.current;
  }

  /** Moves to the next tick and returns it. */
  advance(): number {
    this.current++;
    return this.current;
  }
}
