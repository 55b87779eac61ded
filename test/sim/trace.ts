/**
 * The simulator's event trace: a bounded ring of recent notable events (kept for violation
 * reports) and, when a sink is attached (replaying one seed), a verbose stream of every event
 * and optionally every message. It formats nothing unless someone will read it.
 */
import type { LogicalClock } from './logical-clock.js';

/** How many recent events the ring keeps; reports show a tail of it. */
export const TRACE_EVENTS_MAX = 256;

/** Receives verbose trace lines as they happen. */
export type TraceSink = (line: string) => void;

/** Options for {@link Trace}. */
export interface TraceOptions {
  /** Where verbose lines go; null keeps only the ring of recent events. */
  readonly sink: TraceSink | null;
  /** Also send every message delivery and drop to the sink (very verbose). */
  readonly isMessageTraced: boolean;
}

/** A bounded ring of recent events stamped with the logical tick. */
export class Trace {
  private readonly ring: string[] = [];
  private ringStart = 0;
  private readonly options: TraceOptions;
  private readonly clock: LogicalClock;

  constructor(options: TraceOptions, clock: LogicalClock) {
    this.options = options;
    this.clock = clock;
  }

  /** Whether `detail` lines are wanted at all (callers skip expensive formatting otherwise). */
  get isDetailed(): boolean {
    return this.options.sink !== null && this.options.isMessageTraced;
  }

  /** Records a notable event (crash, election, partition, membership change, ...). */
  event(text: string): void {
    const line = `[${this.clock.now}] ${text}`;
    if (this.ring.length < TRACE_EVENTS_MAX) {
      this.ring.push(line);
    } else {
      this.ring[this.ringStart] = line;
      this.ringStart = (this.ringStart + 1) % TRACE_EVENTS_MAX;
    }
    this.options.sink?.(line);
  }

  /** Sends a high-volume line (one per message) to the sink only; formatted lazily. */
  detail(produce: () => string): void {
    if (!this.isDetailed) return;
    this.options.sink?.(`[${this.clock.now}]   ${produce()}`);
  }

  /** The last `count` events, oldest first. */
  tail(count: number): string[] {
    const ordered = [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
    return ordered.slice(Math.max(0, ordered.length - count));
  }
}
