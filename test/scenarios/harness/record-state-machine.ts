/**
 * The state machine each scenario node applies committed entries to: the list of commands in
 * the order they were applied (no-ops and configuration entries add nothing). Enough to show
 * that every node applies the same commands in the same order, including across snapshots and
 * restarts. Snapshot data is the list as JSON. It never sees the log, only applied entries.
 */
import type { Entry } from '../../../src/raft/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Applied commands, oldest first. Lives in memory only: a crash loses it. */
export class RecordStateMachine {
  private records: string[] = [];

  /** Applies one committed entry. */
  apply(entry: Entry): void {
    if (entry.kind === 'normal' && entry.data.byteLength > 0) {
      this.records.push(decoder.decode(entry.data));
    }
  }

  /** The state as snapshot data. */
  snapshotData(): Uint8Array {
    return encoder.encode(JSON.stringify(this.records));
  }

  /** Replaces the state with a snapshot's data (empty data is the bootstrap's empty state). */
  restore(data: Uint8Array): void {
    this.records = data.byteLength === 0 ? [] : (JSON.parse(decoder.decode(data)) as string[]);
  }

  /** `records=(x,y)` for status lines. */
  describe(): string {
    return `records=(${this.records.map((record) => JSON.stringify(record)).join(',')})`;
  }
}
