/**
 * Exactly-once sessions (DESIGN.md §6): per client, the last applied sequence number and its
 * response, so a retried write returns the first answer instead of applying twice. The table is
 * bounded; when full it forgets the client that wrote least recently (by store revision). Being
 * part of the replicated state, it must evolve identically on every member: its order is the
 * order of the writes, kept by a Map, and it travels in snapshots.
 */
import { assert } from '../common/index.js';
import type { WriteResponse } from './kv-types.js';

/** etcd has no such table; 10,000 clients keeps a snapshot's session part around a few MB. */
export const CLIENTS_MAX_DEFAULT = 10_000;

/** Identifies one request of one client; `sequence` rises by one per new request. */
export interface SessionKey {
  readonly clientId: string;
  readonly sequence: number;
}

/** What the table remembers about one client. */
export interface SessionRecord {
  readonly clientId: string;
  readonly sequence: number;
  readonly response: WriteResponse;
  /** The store revision after the client's last write: the recency that eviction goes by. */
  readonly revision: number;
}

/** The bounded, least-recently-written-first session table. */
export class SessionTable {
  private readonly records = new Map<string, SessionRecord>();

  constructor(readonly clientsMax: number) {
    assert(Number.isInteger(clientsMax) && clientsMax >= 1, `bad clientsMax ${clientsMax}`);
  }

  /** The record of `clientId`, if the table still holds it. */
  get(clientId: string): SessionRecord | undefined {
    return this.records.get(clientId);
  }

  /** Records a client's applied request; evicts the least recent client when over the bound. */
  record(record: SessionRecord): void {
    // Delete first so that re-insertion moves the client to the most recent end.
    this.records.delete(record.clientId);
    this.records.set(record.clientId, record);
    for (const oldest of this.records.keys()) {
      if (this.records.size <= this.clientsMax) {
        break;
      }
      this.records.delete(oldest);
    }
  }

  /** Every record, least recent first (the order a restore must replay). */
  list(): SessionRecord[] {
    return [...this.records.values()];
  }

  get size(): number {
    return this.records.size;
  }
}
