/**
 * The world a scenario runs in: N RawNodes, each over its own MemoryStorage with a durable copy
 * (what survived the last fsync), a record state machine, per-node outboxes of sent but not yet
 * delivered messages, an optional partition, and the transcript being written. Handlers
 * (one file per command) change this world; nothing here delivers messages by itself.
 */
import type { Logger, NodeId } from '../../../src/common/index.js';
import {
  createPrng,
  MemoryStorage,
  type Message,
  RawNode,
  type RaftOptions,
} from '../../../src/raft/index.js';
import { type CommandLine, CommandError } from './command-line.js';
import { RecordStateMachine } from './record-state-machine.js';
import { createTestLogger, type LogLevel } from './test-logger.js';

/** A command handler: reads its arguments, changes the world, writes the transcript. */
export type Handler = (env: InteractionEnv, command: CommandLine) => void;

/** Core options a scenario may set per node with `add-nodes`. */
export type NodeSettings = Omit<RaftOptions, 'id' | 'storage' | 'prng' | 'logger' | 'appliedIndex'>;

/** One member of the scenario cluster. `rawNode` is null while the node is crashed. */
export interface ScenarioNode {
  readonly id: NodeId;
  readonly settings: NodeSettings;
  /** Everything written, synced or not: what the running core reads. */
  storage: MemoryStorage;
  /** What the last fsync made durable: what a restart finds. */
  durable: MemoryStorage;
  rawNode: RawNode | null;
  stateMachine: RecordStateMachine;
}

/** The scenario world. Node ids are 1..N in the order `add-nodes` created them. */
export class InteractionEnv {
  readonly nodes = new Map<NodeId, ScenarioNode>();
  /** Messages each node sent that are not yet delivered, in sending order. */
  readonly outboxes = new Map<NodeId, Message[]>();
  /** Partition group per named node; nodes not named share one more group. Null: healed. */
  partitionGroups: Map<NodeId, number> | null = null;
  logLevel: LogLevel = 'info';
  private lines: string[] = [];
  private indent = '';
  private readonly logger: Logger = createTestLogger(
    () => this.logLevel,
    (line) => this.write(line),
  );

  /** Appends one transcript line at the current indentation. */
  write(line: string): void {
    this.lines.push(this.indent + line);
  }

  /**
   * Appends a line of Ready and delivery tracing: like the core's log lines it is hidden at
   * log level `none`, so that setup steps can run quietly.
   */
  trace(line: string): void {
    if (this.logLevel !== 'none') this.write(line);
  }

  /** Runs `action` with its transcript lines indented by two more spaces. */
  indented(action: () => void): void {
    const saved = this.indent;
    this.indent += '  ';
    try {
      action();
    } finally {
      this.indent = saved;
    }
  }

  /** Takes the transcript written since the last call. */
  takeOutput(): string[] {
    const lines = this.lines;
    this.lines = [];
    this.indent = '';
    return lines;
  }

  /** Node ids in ascending order. */
  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  node(id: NodeId): ScenarioNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new CommandError(`no node ${id}`);
    return node;
  }

  /** The running core of node `id`; a crashed node is an error. */
  rawNode(id: NodeId): RawNode {
    const rawNode = this.node(id).rawNode;
    if (rawNode === null) throw new CommandError(`node ${id} is crashed`);
    return rawNode;
  }

  /** Adds a node over `storage` (already bootstrapped or empty) and starts it. */
  addNode(id: NodeId, settings: NodeSettings, storage: MemoryStorage): void {
    const node: ScenarioNode = {
      id,
      settings,
      storage,
      durable: storage.clone(),
      rawNode: null,
      stateMachine: new RecordStateMachine(),
    };
    this.nodes.set(id, node);
    this.outboxes.set(id, []);
    this.startNode(node);
  }

  /**
   * Starts a core over the node's storage, with state machine and PRNG rebuilt from scratch.
   * With `appliedIndex`, the shell claims its state machine survived up to that index: the
   * harness replays the stored entries up to it into the state machine and tells the core.
   */
  startNode(node: ScenarioNode, appliedIndex?: number): void {
    node.stateMachine = new RecordStateMachine();
    node.stateMachine.restore(node.storage.snapshot().data);
    if (appliedIndex !== undefined) {
      const entries = node.storage.entries(node.storage.firstIndex(), appliedIndex + 1, Infinity);
      if (entries === 'compacted')
        throw new CommandError(`entries up to ${appliedIndex} compacted`);
      for (const entry of entries) node.stateMachine.apply(entry);
    }
    node.rawNode = RawNode.create({
      ...node.settings,
      ...(appliedIndex === undefined ? {} : { appliedIndex }),
      id: node.id,
      storage: node.storage,
      prng: createPrng(node.id),
      logger: this.logger,
    });
  }

  /** Whether a message from `from` reaches `to` under the current partition. */
  isConnected(from: NodeId, to: NodeId): boolean {
    if (this.partitionGroups === null) return true;
    const groupOf = (id: NodeId): number => this.partitionGroups?.get(id) ?? 0;
    return groupOf(from) === groupOf(to);
  }
}
