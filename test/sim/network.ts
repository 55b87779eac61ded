/**
 * The simulated network between cores, in the style of TigerBeetle's PacketSimulator: every
 * message gets a random delay (which reorders them), may be lost or duplicated, and partitions
 * (symmetric, one-way, or isolating the leader) start and heal at random. It draws from its own
 * PRNG stream only. It knows nothing about Raft beyond a message's `from` and `to`; whether the
 * receiver is up is the cluster's business.
 */
import type { NodeId } from '../../src/common/index.js';
import type { Message, Prng } from '../../src/raft/index.js';
import { chance, intBetween, pickWeighted, shuffle } from './seed-streams.js';
import type { Trace } from './trace.js';

/** The ways a partition can cut the cluster. */
export type PartitionMode = 'symmetric' | 'oneWay' | 'leaderIsolation';

/** Fault model of the network. Probabilities are per message or per tick as noted. */
export interface NetworkOptions {
  /** Smallest one-way delay; at least 1 so a message never arrives in the tick it was sent. */
  readonly oneWayDelayMinTicks: number;
  readonly oneWayDelayMaxTicks: number;
  /** Per message: delayed far beyond the usual range (a stale message arriving late). */
  readonly delayLongProbability: number;
  readonly delayLongTicksMax: number;
  /** Per message: lost in transit. */
  readonly lossProbability: number;
  /** Per message: delivered twice (the copy gets its own delay). */
  readonly duplicationProbability: number;
  /** Per tick while healed (and stable for `unpartitionStabilityTicksMin`): a partition starts. */
  readonly partitionProbability: number;
  /** Per tick while partitioned (and stable for `partitionStabilityTicksMin`): it heals. */
  readonly unpartitionProbability: number;
  readonly partitionStabilityTicksMin: number;
  readonly unpartitionStabilityTicksMin: number;
  /** Relative weights of the partition kinds. */
  readonly partitionModeWeights: Readonly<Record<PartitionMode, number>>;
  /** Bound of the in-flight queue; messages beyond it are dropped as if lost. */
  readonly inFlightMessagesMax: number;
}

/** Default bound of messages in flight at once. */
export const IN_FLIGHT_MESSAGES_MAX_DEFAULT = 20_000;

/** What became of a message whose delivery time came. */
export type DeliveryOutcome = 'delivered' | 'lost' | 'partitioned';

/** A message whose delivery time has come, with its fate. */
export interface DueMessage {
  readonly message: Message;
  /** The sender's incarnation when it sent the message (the caller's tag, passed through). */
  readonly senderIncarnation: number;
  readonly outcome: DeliveryOutcome;
}

/** Counters for reports. */
export interface NetworkStats {
  sentCount: number;
  deliveredCount: number;
  lostCount: number;
  partitionedCount: number;
  duplicatedCount: number;
  overflowCount: number;
  partitionCount: number;
}

/** What the network may know about the cluster when it starts a partition. */
export interface PartitionContext {
  readonly nodeIds: readonly NodeId[];
  readonly leaderId: NodeId | null;
}

interface InFlightMessage {
  readonly message: Message;
  readonly senderIncarnation: number;
}

/** Which side of a partition a node is on, and whether side 1 still hears side 0. */
interface Partition {
  readonly mode: PartitionMode;
  readonly sides: ReadonlyMap<NodeId, 0 | 1>;
}

/** The simulated network. */
export class SimulatedNetwork {
  readonly stats: NetworkStats = {
    sentCount: 0,
    deliveredCount: 0,
    lostCount: 0,
    partitionedCount: 0,
    duplicatedCount: 0,
    overflowCount: 0,
    partitionCount: 0,
  };
  private options: NetworkOptions;
  private readonly prng: Prng;
  private readonly trace: Trace;
  private readonly inFlightByTick = new Map<number, InFlightMessage[]>();
  private inFlightCount = 0;
  private partition: Partition | null = null;
  private partitionChangedTick = 0;
  /** Set in liveness mode: only links inside the core work, and no new faults start. */
  private coreIds: ReadonlySet<NodeId> | null = null;
  /** In liveness mode: nodes outside the core whose links to the core still work. */
  private coreReachableIds: ReadonlySet<NodeId> = new Set();

  constructor(options: NetworkOptions, prng: Prng, trace: Trace) {
    this.options = options;
    this.prng = prng;
    this.trace = trace;
  }

  /**
   * Queues a message sent at tick `now` by the given incarnation of its sender, possibly twice,
   * possibly never (overflow).
   */
  send(message: Message, now: number, senderIncarnation: number): void {
    this.stats.sentCount++;
    const inFlight: InFlightMessage = { message, senderIncarnation };
    this.enqueue(inFlight, now);
    if (chance(this.prng, this.options.duplicationProbability)) {
      this.stats.duplicatedCount++;
      this.enqueue(inFlight, now);
    }
  }

  /**
   * Starts or heals partitions at random; call once per tick before delivering. `context` is
   * called only when a partition starts.
   */
  tick(now: number, context: () => PartitionContext): void {
    if (this.coreIds !== null) return;
    const stableTicks = now - this.partitionChangedTick;
    if (this.partition === null) {
      if (stableTicks < this.options.unpartitionStabilityTicksMin) return;
      if (!chance(this.prng, this.options.partitionProbability)) return;
      this.partition = this.createPartition(context);
      if (this.partition === null) return;
      this.stats.partitionCount++;
      this.partitionChangedTick = now;
      this.trace.event(`network: partition ${describePartition(this.partition)}`);
      return;
    }
    if (stableTicks < this.options.partitionStabilityTicksMin) return;
    if (!chance(this.prng, this.options.unpartitionProbability)) return;
    this.partition = null;
    this.partitionChangedTick = now;
    this.trace.event('network: partition healed');
  }

  /** Removes and returns the messages due at `now`, in random order, each with its fate. */
  takeDue(now: number): DueMessage[] {
    const due = this.inFlightByTick.get(now);
    if (due === undefined) return [];
    this.inFlightByTick.delete(now);
    this.inFlightCount -= due.length;
    return shuffle(this.prng, due).map((inFlight) => this.decide(inFlight));
  }

  /** Whether a message from `from` to `to` would pass the partition now. */
  isLinkUp(from: NodeId, to: NodeId): boolean {
    if (this.coreIds !== null) return this.isLivenessLinkUp(from, to, this.coreIds);
    const partition = this.partition;
    if (partition === null) return true;
    const fromSide = partition.sides.get(from);
    const toSide = partition.sides.get(to);
    if (fromSide === undefined || toSide === undefined || fromSide === toSide) return true;
    return partition.mode === 'oneWay' ? fromSide === 1 : false;
  }

  /**
   * Liveness mode (TigerBeetle's transition_to_liveness_mode): the core's links heal and stay
   * healthy (no loss, no long delays, no new partitions, one-way delays capped at
   * `oneWayDelayMaxTicks` so that Raft's timing requirement, broadcast time well below the
   * election timeout, holds); the rest stay cut off from the core, except `reachableIds`.
   */
  enterLivenessMode(
    coreIds: readonly NodeId[],
    reachableIds: readonly NodeId[],
    oneWayDelayMaxTicks: number,
  ): void {
    this.coreIds = new Set(coreIds);
    this.coreReachableIds = new Set(reachableIds);
    this.partition = null;
    const delayMaxTicks = Math.min(this.options.oneWayDelayMaxTicks, oneWayDelayMaxTicks);
    this.options = {
      ...this.options,
      lossProbability: 0,
      delayLongProbability: 0,
      oneWayDelayMinTicks: Math.min(this.options.oneWayDelayMinTicks, delayMaxTicks),
      oneWayDelayMaxTicks: delayMaxTicks,
    };
    this.trace.event(
      `network: liveness mode, core [${coreIds.join(',')}]` +
        (reachableIds.length === 0 ? '' : `, reachable from [${reachableIds.join(',')}]`),
    );
  }

  /** Links inside the core, and between the core and the nodes allowed to reach it. */
  private isLivenessLinkUp(from: NodeId, to: NodeId, coreIds: ReadonlySet<NodeId>): boolean {
    const isFromCore = coreIds.has(from);
    const isToCore = coreIds.has(to);
    if (isFromCore && isToCore) return true;
    if (isFromCore) return this.coreReachableIds.has(to);
    if (isToCore) return this.coreReachableIds.has(from);
    return true;
  }

  private enqueue(inFlight: InFlightMessage, now: number): void {
    if (this.inFlightCount >= this.options.inFlightMessagesMax) {
      this.stats.overflowCount++;
      return;
    }
    const deliverTick = now + this.drawDelay();
    const bucket = this.inFlightByTick.get(deliverTick);
    if (bucket === undefined) this.inFlightByTick.set(deliverTick, [inFlight]);
    else bucket.push(inFlight);
    this.inFlightCount++;
  }

  private drawDelay(): number {
    const { oneWayDelayMinTicks, oneWayDelayMaxTicks } = this.options;
    if (chance(this.prng, this.options.delayLongProbability)) {
      return intBetween(this.prng, oneWayDelayMaxTicks, this.options.delayLongTicksMax);
    }
    return intBetween(this.prng, oneWayDelayMinTicks, oneWayDelayMaxTicks);
  }

  private decide(inFlight: InFlightMessage): DueMessage {
    const { message } = inFlight;
    let outcome: DeliveryOutcome = 'delivered';
    if (!this.isLinkUp(message.from, message.to)) outcome = 'partitioned';
    else if (chance(this.prng, this.options.lossProbability)) outcome = 'lost';
    if (outcome === 'delivered') this.stats.deliveredCount++;
    else if (outcome === 'lost') this.stats.lostCount++;
    else this.stats.partitionedCount++;
    return { ...inFlight, outcome };
  }

  private createPartition(buildContext: () => PartitionContext): Partition | null {
    const context = buildContext();
    const nodeIds = context.nodeIds;
    if (nodeIds.length < 2) return null;
    let mode = pickWeighted(this.prng, this.options.partitionModeWeights);
    if (mode === 'leaderIsolation' && context.leaderId === null) mode = 'symmetric';
    const sides = new Map<NodeId, 0 | 1>();
    if (mode === 'leaderIsolation') {
      for (const id of nodeIds) sides.set(id, id === context.leaderId ? 1 : 0);
      return { mode, sides };
    }
    // Side 1 gets between 1 and n-1 nodes, chosen at random.
    const order = shuffle(this.prng, nodeIds);
    const sideOneCount = intBetween(this.prng, 1, nodeIds.length - 1);
    order.forEach((id, position) => sides.set(id, position < sideOneCount ? 1 : 0));
    return { mode, sides };
  }
}

function describePartition(partition: Partition): string {
  const side = (which: 0 | 1): string =>
    [...partition.sides]
      .filter(([, s]) => s === which)
      .map(([id]) => id)
      .join(',');
  const arrow = partition.mode === 'oneWay' ? '-x>' : '<x>';
  return `${partition.mode} [${side(0)}] ${arrow} [${side(1)}]`;
}
