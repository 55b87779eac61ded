/**
 * Membership changes by joint consensus (Raft thesis §4.3): computing the joint configuration a
 * change enters, the configuration left afterwards, and the invariants every configuration must
 * satisfy. Pure functions over plain data. This module must not track progress, touch the log or
 * decide when a change may be proposed; the leader does that.
 */
import { assert, assertNever, type NodeId } from '../../common/index.js';
import {
  type ConfigurationChange,
  type ConfigurationState,
  isJoint,
  type MembershipChange,
} from '../configuration.js';

/** Why a proposed configuration change cannot be applied. An operational error, not a bug. */
export type ConfigurationChangeError = {
  readonly kind: 'invalidConfigurationChange';
  readonly message: string;
};

/** The incoming side of a configuration while a change is applied to it. */
interface IncomingSides {
  readonly voters: Set<NodeId>;
  readonly learners: Set<NodeId>;
  readonly learnersNext: Set<NodeId>;
}

function invalid(message: string): ConfigurationChangeError {
  return { kind: 'invalidConfigurationChange', message };
}

function sortedIds(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

function sameIds(left: readonly NodeId[], right: readonly NodeId[]): boolean {
  return left.length === right.length && left.every((id, i) => id === right[i]);
}

/**
 * Checks what can be checked of `change` before applying it: it is non-empty, every id is a
 * positive integer, and no id appears twice (the order of two steps on one id would matter in a
 * way nobody means). Returns an error or undefined.
 */
function validateChange(change: ConfigurationChange): ConfigurationChangeError | undefined {
  if (change.changes.length === 0) {
    return invalid('a configuration change needs at least one membership change');
  }
  const seenIds = new Set<NodeId>();
  for (const { kind, nodeId } of change.changes) {
    if (!Number.isSafeInteger(nodeId) || nodeId <= 0) {
      return invalid(`${kind}: node id ${nodeId} must be a positive integer`);
    }
    if (seenIds.has(nodeId)) {
      return invalid(`node ${nodeId} appears more than once in one change`);
    }
    seenIds.add(nodeId);
  }
  return undefined;
}

/**
 * Applies one membership change to the incoming side. A learner that is still an outgoing voter
 * waits in learnersNext, because an id may not be a voter and a learner at once.
 */
function applyMembershipChange(
  sides: IncomingSides,
  outgoingVoters: ReadonlySet<NodeId>,
  membershipChange: MembershipChange,
): void {
  const { kind, nodeId } = membershipChange;
  switch (kind) {
    case 'addVoter':
      sides.learners.delete(nodeId);
      sides.learnersNext.delete(nodeId);
      sides.voters.add(nodeId);
      return;
    case 'addLearner':
      sides.voters.delete(nodeId);
      if (outgoingVoters.has(nodeId)) {
        sides.learnersNext.add(nodeId);
      } else {
        sides.learners.add(nodeId);
      }
      return;
    case 'removeNode':
      sides.voters.delete(nodeId);
      sides.learners.delete(nodeId);
      sides.learnersNext.delete(nodeId);
      return;
    default:
      assertNever(kind, 'membership change kind');
  }
}

/**
 * Computes the joint configuration that `change` enters from `current`: the current voters
 * become the outgoing side and every membership change applies, in order, to the incoming side.
 *
 * `current` must be a valid non-joint configuration with at least one voter (a cluster is
 * bootstrapped with a plain configuration, not through a joint one). Returns a typed error,
 * never throws, when `change` is empty, names an id <= 0 or the same id twice, would remove
 * every voter, or alters nothing. The result has `isAutoLeave` set, sorted arrays, and
 * satisfies {@link checkConfigurationInvariants}.
 */
export function enterJoint(
  current: ConfigurationState,
  change: ConfigurationChange,
): ConfigurationState | ConfigurationChangeError {
  checkConfigurationInvariants(current);
  if (isJoint(current)) {
    return invalid('already in a joint configuration');
  }
  if (current.voters.length === 0) {
    return invalid('cannot enter a joint configuration from one without voters');
  }
  const changeError = validateChange(change);
  if (changeError !== undefined) {
    return changeError;
  }
  const outgoingVoters: ReadonlySet<NodeId> = new Set(current.voters);
  const sides: IncomingSides = {
    voters: new Set(current.voters),
    learners: new Set(current.learners),
    learnersNext: new Set<NodeId>(),
  };
  for (const membershipChange of change.changes) {
    applyMembershipChange(sides, outgoingVoters, membershipChange);
  }
  if (sides.voters.size === 0) {
    return invalid('removing every voter');
  }
  const next: ConfigurationState = {
    voters: sortedIds(sides.voters),
    votersOutgoing: [...current.voters],
    learners: sortedIds(sides.learners),
    learnersNext: sortedIds(sides.learnersNext),
    isAutoLeave: true,
  };
  if (
    sameIds(next.voters, current.voters) &&
    sameIds(next.learners, current.learners) &&
    next.learnersNext.length === 0
  ) {
    return invalid('the change alters nothing');
  }
  checkConfigurationInvariants(next);
  return next;
}

/**
 * Computes the configuration left after the joint configuration `current`: the outgoing voters
 * are dropped and learnersNext join the learners. `current` must be joint (asserted); leaving is
 * always possible, since entering already validated the change.
 */
export function leaveJoint(current: ConfigurationState): ConfigurationState {
  assert(isJoint(current), 'leaveJoint: configuration is not joint');
  checkConfigurationInvariants(current);
  const next: ConfigurationState = {
    voters: [...current.voters],
    votersOutgoing: [],
    learners: sortedIds(new Set([...current.learners, ...current.learnersNext])),
    learnersNext: [],
    isAutoLeave: false,
  };
  checkConfigurationInvariants(next);
  return next;
}

function assertSortedPositiveUnique(ids: readonly NodeId[], what: string): void {
  let previous = 0;
  for (const id of ids) {
    assert(Number.isSafeInteger(id) && id > 0, () => `configuration: ${what} id ${id} invalid`);
    assert(id > previous, () => `configuration: ${what} (${ids.join(',')}) not sorted, unique`);
    previous = id;
  }
}

/**
 * Asserts the invariants of `ConfigurationState`: every list sorted ascending without
 * duplicates and holding ids > 0; no id both a voter (either side) and a learner; learnersNext a
 * subset of the outgoing voters and disjoint from the incoming voters; learnersNext empty and
 * isAutoLeave false outside a joint configuration. A violation is a programmer error.
 */
export function checkConfigurationInvariants(configuration: ConfigurationState): void {
  const { voters, votersOutgoing, learners, learnersNext } = configuration;
  assertSortedPositiveUnique(voters, 'voters');
  assertSortedPositiveUnique(votersOutgoing, 'votersOutgoing');
  assertSortedPositiveUnique(learners, 'learners');
  assertSortedPositiveUnique(learnersNext, 'learnersNext');
  for (const id of learners) {
    assert(
      !voters.includes(id) && !votersOutgoing.includes(id),
      () => `configuration: ${id} is both a voter and a learner`,
    );
  }
  for (const id of learnersNext) {
    assert(votersOutgoing.includes(id), () => `configuration: next learner ${id} not outgoing`);
    assert(!voters.includes(id), () => `configuration: next learner ${id} is an incoming voter`);
  }
  if (!isJoint(configuration)) {
    assert(learnersNext.length === 0, 'configuration: learnersNext outside a joint configuration');
    assert(!configuration.isAutoLeave, 'configuration: isAutoLeave outside a joint configuration');
  }
}

/**
 * Renders a configuration for logs and transcripts, e.g.
 * `voters=(1,2,3)&&(1,2) learners=(4) next=(3) autoLeave`. The outgoing side, learners, next
 * learners and the auto-leave flag appear only when present.
 */
export function describeConfiguration(configuration: ConfigurationState): string {
  const list = (ids: readonly NodeId[]): string => `(${ids.join(',')})`;
  let text = `voters=${list(configuration.voters)}`;
  if (configuration.votersOutgoing.length > 0) {
    text += `&&${list(configuration.votersOutgoing)}`;
  }
  if (configuration.learners.length > 0) {
    text += ` learners=${list(configuration.learners)}`;
  }
  if (configuration.learnersNext.length > 0) {
    text += ` next=${list(configuration.learnersNext)}`;
  }
  if (configuration.isAutoLeave) {
    text += ' autoLeave';
  }
  return text;
}
