/**
 * A simulated cluster: nodes over the simulated network and disks, driven one logical tick at
 * a time. Each tick: partitions may start or heal, crashed nodes come back, a node may crash;
 * the drivers (workload, membership) add their inputs; then due messages are delivered, every
 * running core ticks, every Ready is handled, logs are compacted, and nodes that left the
 * membership are shut down. Every random choice comes from a named PRNG stream of the seed.
 * It checks nothing itself: the checkers observe it through the ClusterObserver callbacks.
 */
import { type Logger, type NodeId } from '../../src/common/index.js';
import {
  type ConfigurationState,
  EMPTY_CONFIGURATION,
  isJoint,
  memberIds,
  type Message,
  type Prng,
  type Ready,
} from '../../src/raft/index.js';
import { check } from './checkers/violation.js';
import type { ClusterObserver } from './cluster-observer.js';
import { describeMessage } from './message-format.js';
import { type DueMessage, SimulatedNetwork } from './network.js';
import { type CoreOptions, type NodeEnvironment, SimNode } from './sim-node.js';
import type { SimulationOptions } from './simulation-options.js';
import { chance, createStream, intBetween, pick } from './seed-streams.js';
import type { LogicalClock } from './logical-clock.js';
import type { Trace } from './trace.js';

/** Readies one node handles per tick at most; the rest wait for the next tick. */
export const READY_HANDLINGS_PER_TICK_MAX = 64;

/**
 * In the liveness phase a round trip must fit this many times into the election timeout (Raft's
 * timing requirement: broadcast time well below the election timeout).
 */
const LIVENESS_ROUND_TRIPS_PER_ELECTION_TIMEOUT = 2.5;

/** Ticks between checks for nodes that left the membership. */
const DECOMMISSION_CHECK_INTERVAL_TICKS = 5;

/** What a cluster is built from. */
export interface ClusterParameters {
  readonly seed: number;
  readonly options: SimulationOptions;
  readonly trace: Trace;
  /** The run's logical time; the cluster advances it. */
  readonly clock: LogicalClock;
  readonly observer: Required<ClusterObserver>;
  /** Receives the cores' own log lines (replays); silent if absent. */
  readonly coreLogger?: Logger;
}

/** Counters for reports. */
export interface ClusterStats {
  crashCount: number;
  crashBeforeSendCount: number;
  restartCount: number;
  unsyncedWritesLostCount: number;
  compactionCount: number;
  removedNodeCount: number;
  readyCount: number;
}

/** The simulated cluster. */
export class Cluster implements NodeEnvironment {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: SimulatedNetwork;
  readonly trace: Trace;
  readonly clock: LogicalClock;
  readonly observer: Required<ClusterObserver>;
  readonly options: SimulationOptions;
  readonly stats: ClusterStats = {
    crashCount: 0,
    crashBeforeSendCount: 0,
    restartCount: 0,
    unsyncedWritesLostCount: 0,
    compactionCount: 0,
    removedNodeCount: 0,
    readyCount: 0,
  };
  /** Off in the liveness phase. */
  private isCrashingEnabled = true;
  private readonly seed: number;
  private readonly coreLogger: Logger | undefined;
  private readonly faultPrng: Prng;
  private readonly diskPrng: Prng;
  private readonly clockPrng: Prng;
  private readonly compactionPrng: Prng;

  constructor(parameters: ClusterParameters) {
    this.seed = parameters.seed;
    this.options = parameters.options;
    this.trace = parameters.trace;
    this.clock = parameters.clock;
    this.observer = parameters.observer;
    this.coreLogger = parameters.coreLogger;
    this.network = new SimulatedNetwork(
      parameters.options.network,
      createStream(this.seed, 'network'),
      this.trace,
    );
    this.faultPrng = createStream(this.seed, 'faults');
    this.diskPrng = createStream(this.seed, 'disk');
    this.clockPrng = createStream(this.seed, 'clock');
    this.compactionPrng = createStream(this.seed, 'compaction');
  }

  /** Founds the cluster: voters 1..votersInitialCount, each disk bootstrapped alike. */
  bootstrap(): void {
    const voters = Array.from(
      { length: this.options.cluster.votersInitialCount },
      (_, position) => position + 1,
    );
    const configuration: ConfigurationState = { ...EMPTY_CONFIGURATION, voters };
    for (const id of voters) {
      const node = SimNode.founding(id, configuration, this);
      this.nodes.set(id, node);
      this.startNode(node);
    }
    this.trace.event(`cluster: bootstrapped voters [${voters.join(',')}]`);
  }

  /** Creates and starts a node with an empty disk, for a member being added. */
  addNode(id: NodeId): SimNode {
    check(!this.nodes.has(id), 'exception', () => `node id ${id} reused`);
    const node = SimNode.joining(id, this);
    this.nodes.set(id, node);
    this.startNode(node);
    this.trace.event(`node ${id}: created empty`);
    return node;
  }

  /** `count` ids never used before (ids are handed out in order), or null if too few remain. */
  spareNodeIds(count: number): NodeId[] | null {
    const first = Math.max(0, ...this.nodes.keys()) + 1;
    if (first + count - 1 > this.options.cluster.nodeIdsMax) return null;
    return Array.from({ length: count }, (_, position) => first + position);
  }

  /** The current tick. */
  get now(): number {
    return this.clock.now;
  }

  /** Nodes that run now, in id order. */
  runningNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.isRunning);
  }

  /** The running leader of the highest term, if any. */
  leader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const node of this.runningNodes()) {
      const status = node.status();
      if (status.role === 'leader' && status.term > bestTerm) {
        best = node;
        bestTerm = status.term;
      }
    }
    return best;
  }

  /** First half of a tick: time moves, partitions change, nodes crash and restart. */
  beginTick(): void {
    this.clock.advance();
    this.network.tick(this.now, () => ({
      nodeIds: [...this.nodes.values()].filter((n) => n.state !== 'removed').map((n) => n.id),
      leaderId: this.leader()?.id ?? null,
    }));
    this.restartDueNodes();
    this.maybeCrashNode();
  }

  /** Second half of a tick, after the drivers' inputs: deliver, tick, handle Readies. */
  finishTick(): void {
    for (const due of this.network.takeDue(this.now)) this.deliver(due);
    for (const node of this.runningNodes()) {
      if (!chance(this.clockPrng, this.options.faults.tickSkipProbability)) node.rawNode.tick();
    }
    this.handleReadies();
    this.compactLogs();
    if (this.now % DECOMMISSION_CHECK_INTERVAL_TICKS === 0) this.removeDepartedNodes();
    this.observer.onTickEnd([...this.nodes.values()], this.now);
  }

  /** Liveness phase, first step: crashes stop and every crashed node restarts now. */
  stopCrashes(): void {
    this.isCrashingEnabled = false;
    for (const node of this.nodes.values()) {
      if (node.state === 'crashed') this.restartNode(node);
    }
  }

  /**
   * Liveness phase, second step: the network heals among `coreIds` (with delays that satisfy
   * Raft's timing requirement); other members stay cut off. Nodes that left the membership and
   * still linger may reach the core when PreVote or CheckQuorum runs: then they must not disrupt
   * it (thesis §4.2.3); without either, Raft does not promise that, and they stay cut off too.
   */
  healCore(coreIds: readonly NodeId[]): void {
    const { isPreVoteEnabled, isCheckQuorumEnabled } = this.options.cluster;
    const reachableIds = isPreVoteEnabled || isCheckQuorumEnabled ? this.departedNodeIds() : [];
    this.network.enterLivenessMode(coreIds, reachableIds, this.livenessDelayTicksMax());
  }

  /** The one-way delay bound of the liveness phase. */
  livenessDelayTicksMax(): number {
    const electionTimeoutTicks = this.options.cluster.electionTimeoutTicks;
    const roundTripTicksMax = electionTimeoutTicks / LIVENESS_ROUND_TRIPS_PER_ELECTION_TIMEOUT;
    return Math.max(1, Math.floor(roundTripTicksMax / 2));
  }

  /** NodeEnvironment: queue a Ready's messages on the network. */
  send(node: SimNode, messages: readonly Message[]): void {
    for (const message of messages) this.network.send(message, this.now, node.incarnation);
  }

  /** NodeEnvironment: the crash-between-persist-and-send fault. */
  shouldCrashBeforeSend(_node: SimNode, ready: Ready): boolean {
    if (!this.isCrashingEnabled || ready.messages.length === 0) return false;
    if (this.crashedCount() >= this.options.faults.crashedNodesMax) return false;
    return chance(this.faultPrng, this.options.faults.crashBeforeSendProbability);
  }

  private coreOptions(): CoreOptions {
    const cluster = this.options.cluster;
    const options: CoreOptions = {
      electionTimeoutTicks: cluster.electionTimeoutTicks,
      heartbeatIntervalTicks: cluster.heartbeatIntervalTicks,
      isPreVoteEnabled: cluster.isPreVoteEnabled,
      isCheckQuorumEnabled: cluster.isCheckQuorumEnabled,
      inflightMessagesMax: cluster.inflightMessagesMax,
      appendRequestBytesMax: cluster.appendRequestBytesMax,
      committedEntriesBytesMax: cluster.committedEntriesBytesMax,
      uncommittedBytesMax: cluster.uncommittedBytesMax,
      pendingReadRequestsMax: cluster.pendingReadRequestsMax,
      deliberateBugs: cluster.deliberateBugs,
    };
    return this.coreLogger === undefined ? options : { ...options, logger: this.coreLogger };
  }

  private startNode(node: SimNode): void {
    const prng = createStream(this.seed, `election-jitter-${node.id}-${node.incarnation + 1}`);
    const isRestart = node.incarnation > 0;
    node.start(this.coreOptions(), prng);
    if (isRestart) this.observer.onRestart(node);
    else this.observer.onStart(node);
  }

  private crashedCount(): number {
    let count = 0;
    for (const node of this.nodes.values()) if (node.state === 'crashed') count++;
    return count;
  }

  private maybeCrashNode(): void {
    if (!this.isCrashingEnabled) return;
    if (this.crashedCount() >= this.options.faults.crashedNodesMax) return;
    if (!chance(this.faultPrng, this.options.faults.crashProbability)) return;
    const running = this.runningNodes();
    if (running.length === 0) return;
    this.crashNode(pick(this.faultPrng, running), 'crashed');
  }

  private crashNode(node: SimNode, how: string): void {
    const faults = this.options.faults;
    const lostCount = node.crash(this.diskPrng, faults.unsyncedWriteSurvivalProbability);
    node.restartTick =
      this.now +
      intBetween(this.faultPrng, faults.restartDelayTicksMin, faults.restartDelayTicksMax);
    this.stats.crashCount++;
    this.stats.unsyncedWritesLostCount += lostCount;
    this.trace.event(
      `node ${node.id}: ${how}, ${lostCount} unsynced writes lost, back at ${node.restartTick}`,
    );
    this.observer.onCrash(node);
  }

  private restartNode(node: SimNode): void {
    this.startNode(node);
    this.stats.restartCount++;
    const hardState = node.disk.durableHardState();
    this.trace.event(
      `node ${node.id}: restarted (incarnation ${node.incarnation}) term ${hardState.term} ` +
        `vote ${hardState.votedFor} commit ${hardState.commitIndex} ` +
        `log ${node.disk.storage.firstIndex()}..${node.disk.storage.lastIndex()}`,
    );
  }

  private restartDueNodes(): void {
    for (const node of this.nodes.values()) {
      if (node.state !== 'crashed') continue;
      if (node.restartTick <= this.now) this.restartNode(node);
    }
  }

  private deliver(due: DueMessage): void {
    const { message } = due;
    const target = this.nodes.get(message.to);
    const isDelivered = due.outcome === 'delivered' && target !== undefined && target.isRunning;
    this.trace.detail(() => {
      const fate = isDelivered
        ? ''
        : ` DROPPED (${due.outcome === 'delivered' ? 'down' : due.outcome})`;
      return `${describeMessage(message)}${fate}`;
    });
    if (isDelivered) target.rawNode.step(message);
    const sender = this.nodes.get(message.from);
    if (sender === undefined || !sender.isRunning) return;
    if (sender.incarnation !== due.senderIncarnation) return;
    // The transport reports what it can know: a snapshot stream's end, a broken connection.
    if (message.kind === 'installSnapshotRequest') {
      sender.rawNode.reportSnapshotStatus(message.to, isDelivered);
    } else if (!isDelivered && due.outcome !== 'lost') {
      sender.rawNode.reportUnreachable(message.to);
    }
  }

  /**
   * Handles each node's Readies until it has none, or until READY_HANDLINGS_PER_TICK_MAX (the
   * rest waits for the next tick, as a real loop would interleave other work).
   */
  private handleReadies(): void {
    for (const node of this.nodes.values()) {
      let handledCount = 0;
      while (
        node.isRunning &&
        handledCount < READY_HANDLINGS_PER_TICK_MAX &&
        node.rawNode.hasReady()
      ) {
        handledCount++;
        this.stats.readyCount++;
        if (node.handleReady() === 'crashedBeforeSend') {
          this.stats.crashBeforeSendCount++;
          this.crashNode(node, 'crashed after persisting, before sending');
        }
      }
    }
  }

  private compactLogs(): void {
    const { entriesThreshold, probability } = this.options.compaction;
    for (const node of this.runningNodes()) {
      const snapshotIndex = node.disk.storage.firstIndex() - 1;
      if (node.appliedIndex - snapshotIndex < entriesThreshold) continue;
      if (!chance(this.compactionPrng, probability)) continue;
      node.compact();
      this.stats.compactionCount++;
    }
  }

  /**
   * Shuts down nodes that left the membership for good, as the operator deletes their pods,
   * after a random lingering time: not a member of the configuration applied furthest, which is
   * not joint, and no entry past that point on any disk mentions them.
   */
  private removeDepartedNodes(): void {
    for (const id of this.newlyDepartedNodeIds()) {
      const node = this.nodes.get(id);
      if (node === undefined) continue;
      const lingerTicks = this.faultPrng.nextInt(
        this.options.membership.departedLingerTicksMax + 1,
      );
      node.shutdownTick = this.now + lingerTicks;
      this.trace.event(`node ${node.id}: left the membership, shut down at ${node.shutdownTick}`);
    }
    for (const node of this.nodes.values()) {
      if (node.state === 'removed' || node.shutdownTick === null) continue;
      if (node.shutdownTick > this.now) continue;
      node.remove();
      this.stats.removedNodeCount++;
      this.trace.event(`node ${node.id}: shut down`);
    }
  }

  /**
   * Nodes not yet known to have departed that are not members of the configuration applied
   * furthest (when it is not joint), and that no entry past that point on any disk mentions.
   */
  private newlyDepartedNodeIds(): NodeId[] {
    const membership = this.appliedMembership();
    if (membership === null) return [];
    const members = new Set(memberIds(membership.configuration));
    return [...this.nodes.values()]
      .filter((node) => node.isInService)
      .filter((node) => !members.has(node.id) && !membership.pendingIds.has(node.id))
      .map((node) => node.id);
  }

  /**
   * The configuration applied furthest (see furthestAppliedNode) and the ids named by
   * configuration entries past that point on any disk; null if no running node knows a
   * membership or that configuration is joint.
   */
  appliedMembership(): {
    configuration: ConfigurationState;
    pendingIds: Set<NodeId>;
  } | null {
    const furthest = this.furthestAppliedNode();
    if (furthest === null) return null;
    const status = furthest.status();
    if (isJoint(status.configuration)) return null;
    return {
      configuration: status.configuration,
      pendingIds: this.idsInConfigurationEntriesAfter(status.appliedIndex),
    };
  }

  /** Running nodes that left the membership and linger until their shutdown. */
  departedNodeIds(): NodeId[] {
    return this.runningNodes()
      .filter((node) => node.shutdownTick !== null)
      .map((node) => node.id);
  }

  /**
   * The running node that applied furthest, among those that know a membership (a member
   * still waiting for its first snapshot knows none), if any.
   */
  private furthestAppliedNode(): SimNode | null {
    let best: SimNode | null = null;
    for (const node of this.runningNodes()) {
      if (node.status().configuration.voters.length === 0) continue;
      if (best === null || node.appliedIndex > best.appliedIndex) best = node;
    }
    return best;
  }

  /** Ids named by configuration entries past `index` on any disk (changes possibly pending). */
  private idsInConfigurationEntriesAfter(index: number): Set<NodeId> {
    const ids = new Set<NodeId>();
    for (const node of this.nodes.values()) {
      if (node.state === 'removed') continue;
      const storage = node.disk.storage;
      const low = Math.max(index + 1, storage.firstIndex());
      if (low > storage.lastIndex()) continue;
      const entries = storage.entries(low, storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
      if (entries === 'compacted') continue;
      for (const entry of entries) {
        if (entry.kind !== 'configurationChange') continue;
        for (const step of entry.change.changes) ids.add(step.nodeId);
      }
    }
    return ids;
  }
}
