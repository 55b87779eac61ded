/**
 * Membership changes by joint consensus (thesis §4.3): proposing a change, applying committed
 * configuration entries, leaving the joint configuration automatically, and what a leader does
 * when it is no longer a voter. A change takes effect when its entry is applied; only one change
 * is in flight at a time.
 */
import { assert } from '../common/index.js';
import { type ConfigurationChange, isJoint } from './configuration.js';
import { describeConfiguration, enterJoint, leaveJoint } from './confchange/index.js';
import type { Raft } from './raft.js';
import { dropped, type ProposeResult } from './results.js';
import { appendEntries, leaderDropReason } from './roles/leader.js';
import { broadcastAppend, maybeCommit } from './roles/replication.js';

/**
 * Leader side of `proposeConfChange`. `isAutomatic` marks the leader's own leave-joint entry,
 * which must not wait for a leadership transfer or the uncommitted-bytes limit.
 */
export function proposeConfigurationChange(
  raft: Raft,
  change: ConfigurationChange,
  isAutomatic = false,
): ProposeResult {
  if (raft.role !== 'leader')
    return dropped(raft.leaderId === 0 ? 'noLeader' : 'notLeader', raft.leaderId);
  const refusal = leaderDropReason(raft);
  if (refusal !== null && !isAutomatic) return dropped(refusal, raft.leaderId);
  if (raft.pendingConfigurationIndex > raft.log.applied) {
    return dropped('configurationChangeInProgress', raft.leaderId);
  }
  const current = raft.tracker.configuration;
  if (change.changes.length === 0) {
    if (!isJoint(current)) return dropped('invalidConfigurationChange', raft.leaderId);
  } else {
    if (isJoint(current)) return dropped('configurationChangeInProgress', raft.leaderId);
    const next = enterJoint(current, change);
    if ('kind' in next) return dropped('invalidConfigurationChange', raft.leaderId);
  }
  const appended = appendEntries(raft, [{ kind: 'configurationChange', change }], !isAutomatic);
  if (appended === null) return dropped('uncommittedBytesLimit', raft.leaderId);
  raft.pendingConfigurationIndex = appended.lastIndex;
  raft.logger.info(
    { nodeId: raft.id, term: raft.term, index: appended.lastIndex, change: describeChange(change) },
    'configuration change proposed',
  );
  return { kind: 'appended', index: appended.lastIndex, term: raft.term };
}

/** Applies a committed configuration entry (called in order as entries are applied). */
export function applyConfigurationChange(raft: Raft, change: ConfigurationChange): void {
  const current = raft.tracker.configuration;
  const next = change.changes.length === 0 ? leaveJoint(current) : enterJoint(current, change);
  if ('kind' in next) assert(false, `committed configuration change is invalid: ${next.message}`);
  raft.tracker.setConfiguration(next, raft.log.lastIndex());
  raft.logger.info(
    {
      nodeId: raft.id,
      term: raft.term,
      change: describeChange(change),
      configuration: describeConfiguration(next),
    },
    isJoint(next) ? 'entered joint configuration' : 'configuration applied',
  );
  if (raft.role !== 'leader') return;
  if (!raft.isPromotable() && !isJoint(next)) {
    // A leader removed from the voters steps down once the removal is in force (thesis §4.2.2).
    raft.becomeFollower(raft.term, 0, 'removedFromConfiguration');
    return;
  }
  if (raft.leadershipTransfereeId !== 0 && !raft.tracker.isVoter(raft.leadershipTransfereeId)) {
    raft.leadershipTransfereeId = 0;
  }
  // The quorum changed: the commit index may move.
  if (maybeCommit(raft)) broadcastAppend(raft);
}

/** After applying, a leader in an auto-leave joint configuration proposes leaving it. */
export function maybeLeaveJoint(raft: Raft): void {
  const { configuration } = raft.tracker;
  if (raft.role !== 'leader' || !isJoint(configuration) || !configuration.isAutoLeave) return;
  if (raft.pendingConfigurationIndex > raft.log.applied) return;
  const result = proposeConfigurationChange(raft, { changes: [] }, true);
  if (result.kind !== 'appended') {
    raft.logger.warn({ nodeId: raft.id, term: raft.term, result }, 'leaving joint postponed');
  }
}

function describeChange(change: ConfigurationChange): string {
  if (change.changes.length === 0) return 'leaveJoint';
  return change.changes.map((step) => `${step.kind}(${step.nodeId})`).join(' ');
}
