/**
 * One simulated node: a core (RawNode) over a simulated disk, the key-value state machine, and
 * the Ready handling of ready.ts done the way the real node loop must do it (persist, then
 * send, then apply, then advance). It reports every step to the cluster's observer. It decides
 * no faults itself: the cluster tells it when to crash and restart.
 */
import { assert } from '../../src/common/index.js';
import {
  type ConfigurationState,
  type Message,
  type Prng,
  type RaftOptions,
  RawNode,
  type Ready,
  type Status,
} from '../../src/raft/index.js';
import { check } from './checkers/violation.js';
import type { ClusterObserver, NodeView } from './cluster-observer.js';
import { SimulatedDisk } from './disk.js';
import { decodeCommand, KvStateMachine } from './state-machine.js';
import type { Trace } from './trace.js';

/** The options a node's core gets, except what the node fills in itself. */
export type CoreOptions = Omit<RaftOptions, 'id' | 'storage' | 'prng'>;

/** What a node needs from the cluster while it handles a Ready. */
export interface NodeEnvironment {
  readonly trace: Trace;
  readonly observer: Required<ClusterObserver>;
  /** Hands the Ready's messages to the network. */
  send(node: SimNode, messages: readonly Message[]): void;
  /** Whether to lose power right after persisting this Ready, before sending anything. */
  shouldCrashBeforeSend(node: SimNode, ready: Ready): boolean;
}

/** The lifecycle of a node. 'removed' is final: it left the membership and was shut down. */
export type NodeState = 'running' | 'crashed' | 'removed';

/** How a Ready's handling ended. */
export type ReadyOutcome = 'handled' | 'crashedBeforeSend';

/** A simulated member: core, disk and state machine. */
export class SimNode implements NodeView {
  readonly id: number;
  state: NodeState = 'crashed';
  incarnation = 0;
  readonly disk: SimulatedDisk;
  readonly stateMachine = new KvStateMachine();
  appliedIndex = 0;
  /** Tick at which a crashed node comes back. */
  restartTick = 0;
  /** Tick at which a node that left the membership is shut down; null while it is a member. */
  shutdownTick: number | null = null;
  private core: RawNode | null = null;
  private readonly environment: NodeEnvironment;

  constructor(id: number, disk: SimulatedDisk, environment: NodeEnvironment) {
    this.id = id;
    this.disk = disk;
    this.environment = environment;
  }

  /** A founding member's node: its disk is bootstrapped with the initial membership. */
  static founding(id: number, configuration: ConfigurationState, environment: NodeEnvironment) {
    return new SimNode(id, SimulatedDisk.bootstrapped(configuration), environment);
  }

  /** A node being added: empty disk; it learns everything from the leader's snapshot. */
  static joining(id: number, environment: NodeEnvironment): SimNode {
    return new SimNode(id, SimulatedDisk.empty(), environment);
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Neither removed nor scheduled to shut down after leaving the membership. */
  get isInService(): boolean {
    return this.state !== 'removed' && this.shutdownTick === null;
  }

  /** The core; only while running. */
  get rawNode(): RawNode {
    assert(this.core !== null && this.state === 'running', `node ${this.id} is not running`);
    return this.core;
  }

  status(): Status {
    return this.rawNode.status();
  }

  /**
   * Starts (or restarts) the core over the storage as it is now: the state machine restores
   * the snapshot and committed entries after it are handed out again.
   */
  start(coreOptions: CoreOptions, prng: Prng): void {
    assert(this.state !== 'running', 'start needs a stopped node');
    const snapshot = this.disk.storage.snapshot();
    this.stateMachine.restore(snapshot.data);
    this.appliedIndex = snapshot.metadata.index;
    this.incarnation++;
    this.core = RawNode.create({ ...coreOptions, id: this.id, storage: this.disk.storage, prng });
    this.state = 'running';
  }

  /** Loses power: the core and the state machine are gone, unsynced writes may be lost. */
  crash(prng: Prng, survivalProbability: number): number {
    assert(this.state === 'running', 'crash needs a running node');
    this.core = null;
    this.state = 'crashed';
    return this.disk.crash(prng, survivalProbability);
  }

  /** Shuts the node down for good (it left the membership). */
  remove(): void {
    this.core = null;
    this.state = 'removed';
  }

  /** Handles one Ready in the order ready.ts demands. */
  handleReady(): ReadyOutcome {
    const observer = this.environment.observer;
    const ready = this.rawNode.ready();
    check(
      !isEmptyReady(ready),
      'readyContract',
      () => `node ${this.id}: hasReady() was true but the Ready holds nothing`,
    );
    this.persist(ready);
    if (ready.softState !== null) observer.onSoftState(this, ready.softState);
    if (this.environment.shouldCrashBeforeSend(this, ready)) return 'crashedBeforeSend';
    if (ready.messages.length > 0) {
      observer.onMessagesSending(this, ready.messages);
      this.environment.send(this, ready.messages);
    }
    this.apply(ready);
    if (ready.readStates.length > 0) observer.onReadStates(this, ready.readStates);
    this.rawNode.advance();
    observer.onReadyHandled(this);
    return 'handled';
  }

  /** Compacts the log up to the applied index into a snapshot of the state machine. */
  compact(): void {
    const configuration = this.rawNode.status().configuration;
    const snapshot = this.disk.createSnapshot(
      this.appliedIndex,
      configuration,
      this.stateMachine.serialize(),
    );
    this.environment.trace.event(`node ${this.id}: compacted through ${this.appliedIndex}`);
    this.environment.observer.onSnapshotPersisted(this, snapshot, 'compaction');
  }

  /** Steps 1 and 2: snapshot, entries and hard state, synced when required. */
  private persist(ready: Ready): void {
    const observer = this.environment.observer;
    const { snapshot } = ready;
    if (snapshot !== null) {
      this.disk.applySnapshot(snapshot);
      this.stateMachine.restore(snapshot.data);
      this.appliedIndex = snapshot.metadata.index;
      this.environment.trace.event(
        `node ${this.id}: installed snapshot ${snapshot.metadata.index}/${snapshot.metadata.term}`,
      );
      observer.onSnapshotPersisted(this, snapshot, 'received');
    }
    this.disk.append(ready.entries);
    if (ready.hardState !== null) this.disk.setHardState(ready.hardState);
    const isSynced = ready.mustSync || snapshot !== null;
    if (isSynced) this.disk.sync();
    if (ready.entries.length > 0) observer.onEntriesPersisted(this, ready.entries);
    if (ready.hardState !== null) observer.onHardStatePersisted(this, ready.hardState, isSynced);
  }

  /** Step 4: applies committed entries in order; configuration entries need nothing here. */
  private apply(ready: Ready): void {
    const observer = this.environment.observer;
    for (const entry of ready.committedEntries) {
      check(
        entry.index === this.appliedIndex + 1,
        'readyContract',
        () => `node ${this.id} was handed entry ${entry.index} to apply after ${this.appliedIndex}`,
      );
      this.appliedIndex = entry.index;
      if (entry.kind !== 'normal' || entry.data.byteLength === 0) {
        observer.onEntryApplied(this, entry, null, null);
        continue;
      }
      const command = decodeCommand(entry.data);
      const result = this.stateMachine.apply(command);
      observer.onEntryApplied(this, entry, command, result);
    }
  }
}

/** Whether a Ready asks nothing of the shell (hasReady() must then have been false). */
function isEmptyReady(ready: Ready): boolean {
  return (
    ready.softState === null &&
    ready.hardState === null &&
    ready.snapshot === null &&
    ready.entries.length === 0 &&
    ready.messages.length === 0 &&
    ready.committedEntries.length === 0 &&
    ready.readStates.length === 0
  );
}
