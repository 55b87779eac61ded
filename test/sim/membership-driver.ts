/**
 * Mixes membership changes and leadership transfers into a run, as an operator would, through
 * whichever node leads: add a learner, promote one, remove a voter (the leader included) or a
 * learner, replace a voter in one joint change, grow or shrink by two voters at once. New
 * members always get fresh ids and start with empty disks. It draws from its own PRNG stream
 * and only proposes: whether a change commits is up to the cluster.
 */
import { assertNever, type NodeId } from '../../src/common/index.js';
import {
  type ConfigurationChange,
  type ConfigurationState,
  describeConfiguration,
  type Entry,
  type MembershipChange,
  type Prng,
} from '../../src/raft/index.js';
import type { Cluster } from './cluster.js';
import type { ClusterObserver, NodeView } from './cluster-observer.js';
import { describeChange, describeEntry } from './message-format.js';
import type { SimNode } from './sim-node.js';
import { chance, pick, pickWeighted } from './seed-streams.js';
import type { ClusterOptions, MembershipAction, MembershipOptions } from './simulation-options.js';
import type { Trace } from './trace.js';

/** Counters for reports. */
export interface MembershipStats {
  proposedCount: number;
  appendedCount: number;
  droppedCount: number;
  appliedCount: number;
  transferCount: number;
}

/** A proposal the driver would make: the change and the fresh ids it brings in. */
interface PlannedChange {
  readonly action: MembershipAction;
  readonly change: ConfigurationChange;
  readonly newIds: readonly NodeId[];
}

/** Proposes membership changes and leadership transfers at random. */
export class MembershipDriver implements ClusterObserver {
  readonly stats: MembershipStats = {
    proposedCount: 0,
    appendedCount: 0,
    droppedCount: 0,
    appliedCount: 0,
    transferCount: 0,
  };
  private isEnabled = true;
  private readonly options: MembershipOptions;
  private readonly clusterOptions: ClusterOptions;
  private readonly prng: Prng;
  private readonly trace: Trace;
  /** Highest configuration entry index traced as applied, to trace each once. */
  private appliedTracedIndex = 0;

  constructor(
    options: MembershipOptions,
    clusterOptions: ClusterOptions,
    prng: Prng,
    trace: Trace,
  ) {
    this.options = options;
    this.clusterOptions = clusterOptions;
    this.prng = prng;
    this.trace = trace;
  }

  /** Stops proposing (liveness phase). */
  stop(): void {
    this.isEnabled = false;
  }

  /** Maybe proposes one change and maybe starts one transfer, through the current leader. */
  tick(cluster: Cluster): void {
    if (!this.isEnabled) return;
    const isChanging = chance(this.prng, this.options.changeProbability);
    const isTransferring = chance(this.prng, this.options.transferProbability);
    if (!isChanging && !isTransferring) return;
    const leader = cluster.leader();
    if (leader === null) return;
    if (isChanging) this.proposeChange(cluster, leader);
    if (isTransferring) this.transfer(leader);
  }

  onEntryApplied(_node: NodeView, entry: Entry): void {
    if (entry.kind !== 'configurationChange' || entry.index <= this.appliedTracedIndex) return;
    this.appliedTracedIndex = entry.index;
    this.stats.appliedCount++;
    this.trace.event(`membership: first applied ${describeEntry(entry)}`);
  }

  private proposeChange(cluster: Cluster, leader: SimNode): void {
    const configuration = leader.status().configuration;
    const planned = this.plan(cluster, configuration);
    if (planned === null) return;
    this.stats.proposedCount++;
    const result = leader.rawNode.proposeConfChange(planned.change);
    this.trace.event(
      `membership: ${planned.action} via leader ${leader.id} [${describeChange(planned.change)}] from ` +
        `${describeConfiguration(configuration)} -> ${result.kind}` +
        (result.kind === 'dropped' ? ` (${result.reason})` : ''),
    );
    if (result.kind !== 'appended') {
      this.stats.droppedCount++;
      return;
    }
    this.stats.appendedCount++;
    for (const id of planned.newIds) cluster.addNode(id);
  }

  private transfer(leader: SimNode): void {
    const status = leader.status();
    const targets = status.configuration.voters.filter((id) => id !== leader.id);
    if (targets.length === 0) return;
    const targetId = pick(this.prng, targets);
    const result = leader.rawNode.transferLeadership(targetId);
    if (result.kind === 'started') this.stats.transferCount++;
    this.trace.event(
      `membership: transfer leadership ${leader.id} -> ${targetId}: ${result.kind}` +
        (result.kind === 'rejected' ? ` (${result.reason})` : ''),
    );
  }

  /** Chooses an action that makes sense for `configuration`, or null if none does now. */
  private plan(cluster: Cluster, configuration: ConfigurationState): PlannedChange | null {
    const action = pickWeighted(this.prng, this.options.actionWeights);
    const { voters, learners } = configuration;
    const memberCount = voters.length + learners.length;
    const { votersMin, membersMax } = this.clusterOptions;
    const build = (steps: MembershipChange[], newIds: NodeId[]): PlannedChange => ({
      action,
      change: { changes: steps },
      newIds,
    });
    switch (action) {
      case 'addLearner': {
        const ids = memberCount < membersMax ? cluster.spareNodeIds(1) : null;
        return ids === null ? null : build(steps('addLearner', ids), ids);
      }
      case 'promoteLearner':
        return learners.length === 0
          ? null
          : build(steps('addVoter', [pick(this.prng, learners)]), []);
      case 'removeVoter':
        return voters.length <= votersMin
          ? null
          : build(steps('removeNode', [pick(this.prng, voters)]), []);
      case 'removeLearner':
        return learners.length === 0
          ? null
          : build(steps('removeNode', [pick(this.prng, learners)]), []);
      case 'replaceVoter': {
        const ids = cluster.spareNodeIds(1);
        if (ids === null) return null;
        return build(
          [...steps('addVoter', ids), ...steps('removeNode', [pick(this.prng, voters)])],
          ids,
        );
      }
      case 'addTwoVoters': {
        const ids = memberCount + 2 <= membersMax ? cluster.spareNodeIds(2) : null;
        return ids === null ? null : build(steps('addVoter', ids), ids);
      }
      case 'removeTwoVoters': {
        if (voters.length - 2 < votersMin) return null;
        const first = pick(this.prng, voters);
        const second = pick(
          this.prng,
          voters.filter((id) => id !== first),
        );
        return build(steps('removeNode', [first, second]), []);
      }
      default:
        return assertNever(action, 'membership action');
    }
  }
}

function steps(kind: MembershipChange['kind'], ids: readonly NodeId[]): MembershipChange[] {
  return ids.map((nodeId) => ({ kind, nodeId }));
}
