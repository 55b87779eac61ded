/**
 * The clients of a run: each issues one operation at a time (put, delete and get on a few keys,
 * put values unique) to a random running node, and records invocations and completions for the
 * linearizability checker. Writes are proposals carrying (clientId, requestId) and complete when
 * the node asked has applied them; reads use ReadIndex and are served from that node's state
 * machine once it has applied up to the read index (a few reads go through the log instead).
 * A client that hears nothing before its timeout, or whose node crashes, gives up: the
 * operation stays incomplete. Times are a logical counter of client events, so the history's
 * order is exactly the simulation's order. Draws from its own PRNG stream only.
 */
import { assert, assertNever } from '../../src/common/index.js';
import type { Prng, ReadState } from '../../src/raft/index.js';
import type { HistoryOperation, KvOperation, KvOutput } from './checkers/linearizability.js';
import type { Cluster } from './cluster.js';
import type { ClusterObserver, NodeView } from './cluster-observer.js';
import { encodeCommand, type KvCommandOperation } from './state-machine.js';
import { intBetween, pick, pickWeighted } from './seed-streams.js';
import type { OperationKind, WorkloadOptions } from './simulation-options.js';
import type { LogicalClock } from './logical-clock.js';

/**
 * Operations the history holds at most; clients stop invoking new ones beyond it (the
 * linearizability search grows with the history).
 */
export const HISTORY_OPERATIONS_MAX = 100_000;

/** Counters for reports. */
export interface WorkloadStats {
  invokedCount: number;
  completedCount: number;
  timedOutCount: number;
  abandonedOnCrashCount: number;
  droppedCount: number;
}

/** One history entry while it may still change. */
interface HistoryRecord {
  id: number;
  clientId: number;
  operation: KvOperation;
  invokedAt: number;
  completedAt: number | null;
  output: KvOutput | null;
}

/** An operation a client is waiting for. */
interface PendingOperation {
  readonly record: HistoryRecord;
  readonly kind: OperationKind;
  readonly requestId: number;
  readonly nodeId: number;
  readonly incarnation: number;
  readonly deadlineTick: number;
  /** Set for ReadIndex reads. */
  readonly readContext: string | null;
  /** The confirmed read index, once the node's Ready carried it. */
  readIndex: number | null;
}

interface Client {
  readonly id: number;
  lastRequestId: number;
  pending: PendingOperation | null;
  nextOperationTick: number;
}

/** The simulated clients and their history. */
export class Workload implements ClusterObserver {
  readonly stats: WorkloadStats = {
    invokedCount: 0,
    completedCount: 0,
    timedOutCount: 0,
    abandonedOnCrashCount: 0,
    droppedCount: 0,
  };
  private readonly options: WorkloadOptions;
  private readonly prng: Prng;
  private readonly clock: LogicalClock;
  private readonly clients: Client[];
  private readonly records: HistoryRecord[] = [];
  /** Logical time of client events: every invocation and completion gets the next value. */
  private historyClock = 0;

  constructor(options: WorkloadOptions, prng: Prng, clock: LogicalClock) {
    this.options = options;
    this.prng = prng;
    this.clock = clock;
    this.clients = Array.from({ length: options.clientsCount }, (_, position) => ({
      id: position + 1,
      lastRequestId: 0,
      pending: null,
      nextOperationTick: 1,
    }));
  }

  /** The history so far, for the linearizability checker. */
  history(): HistoryOperation[] {
    return this.records.map((record) => ({ ...record }));
  }

  /** Gives up on overdue operations and starts new ones. */
  tick(cluster: Cluster): void {
    for (const client of this.clients) {
      const pending = client.pending;
      if (pending !== null && cluster.now >= pending.deadlineTick) {
        this.stats.timedOutCount++;
        this.giveUp(client, cluster.now);
      }
      const isHistoryFull = this.records.length >= HISTORY_OPERATIONS_MAX;
      if (client.pending === null && cluster.now >= client.nextOperationTick && !isHistoryFull) {
        this.startOperation(client, cluster);
      }
    }
  }

  onReadStates(node: NodeView, readStates: readonly ReadState[]): void {
    for (const client of this.clients) {
      const pending = client.pending;
      if (pending === null || pending.readContext === null || !isOn(pending, node)) continue;
      const readState = readStates.find((state) => state.readContext === pending.readContext);
      if (readState !== undefined && pending.readIndex === null) {
        pending.readIndex = readState.index;
      }
    }
  }

  onReadyHandled(node: NodeView): void {
    for (const client of this.clients) {
      const pending = client.pending;
      if (pending !== null && isOn(pending, node)) this.maybeComplete(client, pending, node);
    }
  }

  onCrash(node: NodeView): void {
    for (const client of this.clients) {
      if (client.pending?.nodeId !== node.id) continue;
      this.stats.abandonedOnCrashCount++;
      // The connection broke: the client cannot know whether the operation took effect.
      this.giveUp(client, this.clock.now);
    }
  }

  private startOperation(client: Client, cluster: Cluster): void {
    const nodes = cluster.runningNodes();
    if (nodes.length === 0) return;
    const node = pick(this.prng, nodes);
    const kind = pickWeighted(this.prng, this.options.operationWeights);
    const key = `k${this.prng.nextInt(this.options.keysCount)}`;
    const requestId = ++client.lastRequestId;
    const operation = this.operationFor(kind, key, client.id, requestId);
    const record: HistoryRecord = {
      id: this.records.length + 1,
      clientId: client.id,
      operation,
      invokedAt: ++this.historyClock,
      completedAt: null,
      output: null,
    };
    const readContext = kind === 'get' ? `read-${client.id}.${requestId}` : null;
    const result =
      readContext !== null
        ? node.rawNode.readIndex(readContext)
        : node.rawNode.propose(
            encodeCommand({
              clientId: client.id,
              requestId,
              operation: toCommand(kind, operation),
            }),
          );
    if (result.kind === 'dropped') {
      // Refused on the spot: the operation had no effect and the client knows it.
      this.stats.droppedCount++;
      client.nextOperationTick = cluster.now + 1 + this.prng.nextInt(3);
      return;
    }
    this.stats.invokedCount++;
    this.records.push(record);
    client.pending = {
      record,
      kind,
      requestId,
      nodeId: node.id,
      incarnation: node.incarnation,
      deadlineTick: cluster.now + this.options.operationTimeoutTicks,
      readContext,
      readIndex: null,
    };
  }

  private operationFor(kind: OperationKind, key: string, clientId: number, requestId: number) {
    switch (kind) {
      case 'put':
        return { kind: 'put', key, value: `v${clientId}.${requestId}` } as const;
      case 'delete':
        return { kind: 'delete', key } as const;
      case 'get':
      case 'getThroughLog':
        return { kind: 'get', key } as const;
      default:
        return assertNever(kind, 'operation kind');
    }
  }

  /** Completes `pending` if the node it was sent to has now applied or served it. */
  private maybeComplete(client: Client, pending: PendingOperation, node: NodeView): void {
    if (pending.readContext !== null) {
      if (pending.readIndex === null || node.appliedIndex < pending.readIndex) return;
      const value = node.stateMachine.get(pending.record.operation.key);
      this.complete(client, { kind: 'value', value });
      return;
    }
    const session = node.stateMachine.session(client.id);
    if (session === undefined || session.requestId < pending.requestId) return;
    assert(session.requestId === pending.requestId, 'a client request applied before it was sent');
    this.complete(client, session.output);
  }

  private complete(client: Client, output: KvOutput): void {
    const pending = client.pending;
    assert(pending !== null, 'complete needs a pending operation');
    pending.record.completedAt = ++this.historyClock;
    pending.record.output = output;
    client.pending = null;
    client.nextOperationTick =
      this.clock.now + intBetween(this.prng, 0, this.options.thinkTicksMax);
    this.stats.completedCount++;
  }

  private giveUp(client: Client, now: number): void {
    client.pending = null;
    client.nextOperationTick = now + 1;
  }
}

function isOn(pending: PendingOperation, node: NodeView): boolean {
  return pending.nodeId === node.id && pending.incarnation === node.incarnation;
}

function toCommand(kind: OperationKind, operation: KvOperation): KvCommandOperation {
  assert(kind !== 'get', 'ReadIndex reads are not commands');
  return operation;
}
