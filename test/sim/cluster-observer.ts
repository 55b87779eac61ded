/**
 * The events a simulated cluster reports while it handles each node's Ready, and the read-only
 * view of a node that observers (checkers, the workload, the liveness probe) get. Observers
 * must not change the cluster from these callbacks; they may only record and throw a violation.
 */
import type {
  Entry,
  HardState,
  Message,
  ReadState,
  Snapshot,
  SoftState,
  Status,
} from '../../src/raft/index.js';
import type { NodeId } from '../../src/common/index.js';
import { type CheckerName, InvariantViolation } from './checkers/violation.js';
import type { SimulatedDisk } from './disk.js';
import type { ApplyResult, KvCommand, KvStateMachine } from './state-machine.js';

/** What observers may read about a node. */
export interface NodeView {
  readonly id: NodeId;
  /** Increases by one at every restart; events of an old incarnation are stale. */
  readonly incarnation: number;
  readonly disk: SimulatedDisk;
  readonly stateMachine: KvStateMachine;
  /** Index of the last entry applied to `stateMachine` (or of the snapshot it restored). */
  readonly appliedIndex: number;
  /** Whether the node runs (not crashed, not removed). */
  readonly isRunning: boolean;
  /** The core's status; only while running. */
  status(): Status;
}

/** Where a persisted snapshot came from. */
export type SnapshotOrigin = 'received' | 'compaction';

/**
 * Callbacks, in the order the cluster makes them while handling one Ready: snapshot, entries,
 * hard state (all persisted, and synced if the Ready required it), soft state, messages (about
 * to be sent), applied entries, read states, then `onReadyHandled` after `advance()`.
 */
export interface ClusterObserver {
  onSnapshotPersisted?(node: NodeView, snapshot: Snapshot, origin: SnapshotOrigin): void;
  onEntriesPersisted?(node: NodeView, entries: readonly Entry[]): void;
  onHardStatePersisted?(node: NodeView, hardState: HardState, isSynced: boolean): void;
  onSoftState?(node: NodeView, softState: SoftState): void;
  onMessagesSending?(node: NodeView, messages: readonly Message[]): void;
  /** A command entry was applied (`command` is null for the leader's empty no-op). */
  onEntryApplied?(
    node: NodeView,
    entry: Entry,
    command: KvCommand | null,
    result: ApplyResult | null,
  ): void;
  onReadStates?(node: NodeView, readStates: readonly ReadState[]): void;
  onReadyHandled?(node: NodeView): void;
  /** The node lost power; its live storage is now the durable image. */
  onCrash?(node: NodeView): void;
  /** The node runs again (new incarnation) over its recovered storage. */
  onRestart?(node: NodeView): void;
  /** A node started for the first time (founding member or one being added). */
  onStart?(node: NodeView): void;
  /** The end of one simulated tick, after every Ready was handled. */
  onTickEnd?(nodes: readonly NodeView[], tick: number): void;
}

type HookName = keyof ClusterObserver;

/**
 * Calls every observer, in order, for each event. Violations of the checkers named in
 * `ignoredCheckers` are swallowed (they keep observing, since others read their state).
 */
export function combineObservers(
  observers: readonly ClusterObserver[],
  ignoredCheckers: ReadonlySet<CheckerName> = new Set(),
): Required<ClusterObserver> {
  const call =
    <K extends HookName>(name: K) =>
    (...args: Parameters<Required<ClusterObserver>[K]>): void => {
      for (const observer of observers) {
        const hook = observer[name] as ((...hookArgs: typeof args) => void) | undefined;
        if (hook === undefined) continue;
        try {
          hook.apply(observer, args);
        } catch (error) {
          if (!(error instanceof InvariantViolation) || !ignoredCheckers.has(error.checker)) {
            throw error;
          }
        }
      }
    };
  return {
    onSnapshotPersisted: call('onSnapshotPersisted'),
    onEntriesPersisted: call('onEntriesPersisted'),
    onHardStatePersisted: call('onHardStatePersisted'),
    onSoftState: call('onSoftState'),
    onMessagesSending: call('onMessagesSending'),
    onEntryApplied: call('onEntryApplied'),
    onReadStates: call('onReadStates'),
    onReadyHandled: call('onReadyHandled'),
    onCrash: call('onCrash'),
    onRestart: call('onRestart'),
    onStart: call('onStart'),
    onTickEnd: call('onTickEnd'),
  };
}
