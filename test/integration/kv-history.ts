/**
 * Records the history of a concurrent key-value workload run against real members, in the form
 * the linearizability checker of the simulator reads (test/sim/checkers/linearizability.ts):
 * invocation and completion times from performance.now(), and every write that failed in any
 * way recorded as an unknown outcome (completedAt null), since a failed write may still have
 * been applied. A read that failed is dropped (it observed nothing).
 */
import type { RaftkvClient } from '../../src/client/index.js';
import {
  checkLinearizability,
  formatHistory,
  type HistoryOperation,
  type KvOperation,
  type KvOutput,
} from '../sim/checkers/linearizability.js';
import { sleep } from './test-cluster.js';

const decoder = new TextDecoder();

/** Counts of what the workload saw. */
export interface WorkloadCounts {
  readonly acknowledgedWrites: number;
  readonly unknownWrites: number;
  readonly completedReads: number;
  readonly failedReads: number;
}

/** A history under construction, shared by every client of a test. */
export class KvHistory {
  readonly operations: HistoryOperation[] = [];
  private nextId = 0;
  private counts = { acknowledgedWrites: 0, unknownWrites: 0, completedReads: 0, failedReads: 0 };
  /** Error messages seen, with how often (for the report when something goes wrong). */
  readonly errors = new Map<string, number>();

  get tally(): WorkloadCounts {
    return { ...this.counts };
  }

  /** Runs `operation` through `client` and records it. Never throws for a call that failed. */
  async run(
    clientId: number,
    client: RaftkvClient,
    operation: KvOperation,
    options: { readonly serializable?: boolean } = {},
  ): Promise<KvOutput | null> {
    const id = this.nextId++;
    const invokedAt = performance.now();
    let output: KvOutput | null = null;
    try {
      output = await perform(client, operation, options.serializable ?? false);
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      const shortened = (message ?? '').slice(0, 120);
      this.errors.set(shortened, (this.errors.get(shortened) ?? 0) + 1);
    }
    const completedAt = output === null ? null : performance.now();
    if (operation.kind === 'get') {
      if (output === null) {
        this.counts.failedReads++;
        return null;
      }
      this.counts.completedReads++;
    } else if (output === null) {
      this.counts.unknownWrites++;
    } else {
      this.counts.acknowledgedWrites++;
    }
    this.operations.push({ id, clientId, operation, invokedAt, completedAt, output });
    return output;
  }

  /** Checks the history; throws with the failing key's sub-history if it is not linearizable. */
  assertLinearizable(): void {
    const result = checkLinearizability(this.operations);
    if (result.kind === 'linearizable') return;
    if (result.kind === 'unknown') throw new Error(`linearizability undecided: ${result.reason}`);
    const shown = result.operations.slice(-80);
    throw new Error(
      `history not linearizable: ${result.explanation}\n` +
        `last ${shown.length} of ${result.operations.length} operations on the key:\n` +
        formatHistory(shown),
    );
  }
}

async function perform(
  client: RaftkvClient,
  operation: KvOperation,
  serializable: boolean,
): Promise<KvOutput> {
  switch (operation.kind) {
    case 'put':
      await client.put(operation.key, operation.value);
      return { kind: 'ok' };
    case 'delete':
      await client.delete(operation.key);
      return { kind: 'ok' };
    case 'get': {
      const result = await client.get(operation.key, { serializable });
      const [found] = result.kvs;
      return { kind: 'value', value: found === undefined ? null : decoder.decode(found.value) };
    }
  }
}

/** Options of {@link runRandomWorkload}. */
export interface WorkloadOptions {
  readonly history: KvHistory;
  /** One client per simulated user; each runs its operations one after the other. */
  readonly clients: readonly RaftkvClient[];
  readonly keys: readonly string[];
  /** The workload stops starting operations once this is aborted. */
  readonly signal: AbortSignal;
  /** Share of puts, deletes (the rest are linearizable gets). */
  readonly putShare?: number;
  readonly deleteShare?: number;
  /** Pause between one client's operations (ms), to leave CPU to the members. */
  readonly pauseMs?: number;
}

/**
 * Random puts (values unique per write), deletes and linearizable gets on a small key set, from
 * every client concurrently, until `signal` aborts; resolves when every call has ended.
 */
export async function runRandomWorkload(options: WorkloadOptions): Promise<void> {
  const putShare = options.putShare ?? 0.45;
  const deleteShare = options.deleteShare ?? 0.1;
  await Promise.all(
    options.clients.map(async (client, clientId) => {
      let sequence = 0;
      while (!options.signal.aborted) {
        const key = options.keys[Math.floor(Math.random() * options.keys.length)] ?? 'k';
        const draw = Math.random();
        let operation: KvOperation;
        if (draw < putShare) operation = { kind: 'put', key, value: `c${clientId}-${sequence++}` };
        else if (draw < putShare + deleteShare) operation = { kind: 'delete', key };
        else operation = { kind: 'get', key };
        const output = await options.history.run(clientId, client, operation);
        // Back off a little after a failure so that an election is not flooded with retries.
        await sleep(output === null ? 50 : (options.pauseMs ?? 0));
      }
    }),
  );
}
