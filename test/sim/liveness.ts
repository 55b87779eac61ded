/**
 * The liveness phase (TigerBeetle's transition_to_liveness_mode): crashes stop and crashed
 * nodes restart; then a majority "core" of the current voters is healed and kept up, and a new
 * proposal must commit within a bounded number of ticks. The core is a random majority of the
 * voters when every node agrees on a settled (non-joint, nothing pending) membership;
 * otherwise every member is healed, since no single majority is then known to suffice (a node
 * campaigns under the membership it has applied, which may still be an older one). It only
 * proposes a probe command and watches for it being applied; the caller enforces the bound.
 */
import type { NodeId } from '../../src/common/index.js';
import { type ConfigurationState, memberIds, type Entry, type Prng } from '../../src/raft/index.js';
import type { Cluster } from './cluster.js';
import type { ClusterObserver, NodeView } from './cluster-observer.js';
import { encodeCommand, type KvCommand } from './state-machine.js';
import { pick, shuffle } from './seed-streams.js';
import type { LogicalClock } from './logical-clock.js';
import type { Trace } from './trace.js';

/** Ticks between stopping crashes and choosing the core (restarted nodes re-apply first). */
const LIVENESS_SETTLE_TICKS = 3;

/** The client id of the probe (workload clients count from 1). */
export const LIVENESS_CLIENT_ID = 0;

/** The probe: one put, re-proposed until applied; client sessions make it apply once. */
const PROBE_COMMAND: KvCommand = {
  clientId: LIVENESS_CLIENT_ID,
  requestId: 1,
  operation: { kind: 'put', key: '__liveness', value: 'probe' },
};

/** Proposes the probe to the core until a core node applies it. */
export class LivenessProbe implements ClusterObserver {
  /** Tick the phase started; null before. */
  startTick: number | null = null;
  /** Tick a core node first applied the probe; null until then. */
  committedTick: number | null = null;
  coreIds: readonly NodeId[] = [];
  /** Whether the core was a bare majority (settled membership) rather than every member. */
  isMajorityCore = false;
  /** The bound on the phase, set when the core is chosen (see {@link livenessTicksAllowed}). */
  ticksAllowed = Number.POSITIVE_INFINITY;
  private readonly prng: Prng;
  private readonly trace: Trace;
  private readonly clock: LogicalClock;
  private readonly retryIntervalTicks: number;
  private lastProposalTick = Number.NEGATIVE_INFINITY;

  constructor(prng: Prng, trace: Trace, clock: LogicalClock, retryIntervalTicks: number) {
    this.prng = prng;
    this.trace = trace;
    this.clock = clock;
    this.retryIntervalTicks = retryIntervalTicks;
  }

  /**
   * Starts the phase: crashes stop and crashed nodes restart. The core is chosen a few ticks
   * later, once the restarted nodes have re-applied their committed entries and so show the
   * membership they will campaign under.
   */
  start(cluster: Cluster): void {
    this.startTick = cluster.now;
    cluster.stopCrashes();
    this.trace.event('liveness: crashes stopped, every node restarted');
  }

  /** Chooses the core when due, then re-proposes the probe every retry interval. */
  tick(cluster: Cluster): void {
    if (this.startTick === null || this.committedTick !== null) return;
    if (this.coreIds.length === 0) {
      if (cluster.now - this.startTick >= LIVENESS_SETTLE_TICKS) this.chooseCore(cluster);
      return;
    }
    if (cluster.now - this.lastProposalTick < this.retryIntervalTicks) return;
    const nodes = cluster.runningNodes().filter((node) => this.coreIds.includes(node.id));
    if (nodes.length === 0) return;
    this.lastProposalTick = cluster.now;
    const node = pick(this.prng, nodes);
    const result = node.rawNode.propose(encodeCommand(PROBE_COMMAND));
    this.trace.event(`liveness: probe proposed at node ${node.id}: ${result.kind}`);
  }

  private chooseCore(cluster: Cluster): void {
    const settled = settledConfiguration(cluster);
    if (settled !== null) {
      const voters = shuffle(this.prng, settled.voters);
      this.coreIds = voters.slice(0, Math.floor(voters.length / 2) + 1).sort((a, b) => a - b);
      this.isMajorityCore = true;
    } else {
      this.coreIds = [...cluster.nodes.values()]
        .filter((node) => node.isInService)
        .map((node) => node.id);
    }
    this.ticksAllowed = livenessTicksAllowed(cluster, this.coreIds);
    const kind = this.isMajorityCore ? 'majority of settled voters' : 'all members';
    this.trace.event(
      `liveness: core [${this.coreIds.join(',')}] (${kind}), ${this.ticksAllowed} ticks allowed`,
    );
    cluster.healCore(this.coreIds);
  }

  onEntryApplied(node: NodeView, _entry: Entry, command: KvCommand | null): void {
    if (this.committedTick !== null || this.startTick === null) return;
    if (command?.clientId !== LIVENESS_CLIENT_ID || !this.coreIds.includes(node.id)) return;
    this.committedTick = this.clock.now;
    this.trace.event(`liveness: probe applied at node ${node.id}`);
  }
}

/** Entry size assumed when turning a per-message byte cap into entries per message. */
const ENTRY_BYTES_TYPICAL = 128;

/**
 * The liveness bound: LIVENESS_ELECTION_TIMEOUTS_MAX election timeouts, plus the time to move
 * the uncommitted backlog (entries some core node holds past the lowest core commit index) at
 * the configured flow-control rate, one window of append requests per round trip. With a
 * one-entry byte cap and a one-message window, a long backlog legitimately takes a while.
 */
function livenessTicksAllowed(cluster: Cluster, coreIds: readonly NodeId[]): number {
  const statuses = cluster
    .runningNodes()
    .filter((node) => coreIds.includes(node.id))
    .map((node) => node.status());
  const commitIndexMin = Math.min(...statuses.map((status) => status.commitIndex));
  const lastIndexMax = Math.max(...statuses.map((status) => status.lastIndex));
  const backlogEntries = Math.max(0, lastIndexMax - commitIndexMin);
  const { inflightMessagesMax, appendRequestBytesMax } = cluster.options.cluster;
  const entriesPerMessage = Math.max(1, Math.floor(appendRequestBytesMax / ENTRY_BYTES_TYPICAL));
  const roundTripTicks = 2 * cluster.livenessDelayTicksMax() + 1;
  const roundTrips = Math.ceil(backlogEntries / (inflightMessagesMax * entriesPerMessage));
  return cluster.options.livenessTicksMax + roundTrips * roundTripTicks;
}

/**
 * The membership every running node has applied, if they all agree, it is not joint, and no
 * disk holds a configuration entry past the furthest applied index.
 */
function settledConfiguration(cluster: Cluster): ConfigurationState | null {
  const membership = cluster.appliedMembership();
  if (membership === null || membership.pendingIds.size > 0) return null;
  const { configuration } = membership;
  const members = memberIds(configuration);
  for (const node of cluster.runningNodes()) {
    // Nodes outside the membership (departed, or never joined) do not decide elections.
    if (!members.includes(node.id)) continue;
    const other = node.status().configuration;
    if (
      !arraysEqual(memberIds(other), members) ||
      !arraysEqual(other.voters, configuration.voters)
    ) {
      return null;
    }
  }
  for (const id of configuration.voters) {
    const node = cluster.nodes.get(id);
    if (node === undefined || !node.isInService) return null;
  }
  return configuration;
}

function arraysEqual(left: readonly NodeId[], right: readonly NodeId[]): boolean {
  return left.length === right.length && left.every((id, position) => id === right[position]);
}
