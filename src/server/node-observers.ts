/**
 * Connects the member's parts to its metrics and its log: the loop's, the storage's and the
 * services' hooks become metric updates, and every membership change and every new leader seen
 * by a follower becomes one info line (the core logs its own role changes with term and reason).
 */
import type { Logger, NodeId } from '../common/index.js';
import type { NodeMetrics } from '../metrics/index.js';
import {
  type ConfigurationState,
  describeConfiguration,
  memberIds,
  type Role,
  type Status,
} from '../raft/index.js';
import type { NodeObservers } from './raftkv-node.js';

/** The hooks of one member, feeding `metrics` and `logger`. */
export function createNodeObservers(
  metrics: NodeMetrics,
  logger: Logger,
): NodeObservers & {
  /** Samples the core's status (term, indexes, follower progress); call about once a second. */
  sample(status: Status, appliedIndex: number): void;
} {
  let role: Role = 'follower';
  let currentTerm = 0;
  let leaderId: NodeId = 0;
  let members: NodeId[] = [];
  return {
    loop: {
      onSoftState: (softState, term) => {
        currentTerm = term;
        metrics.setTerm(term);
        metrics.setLeader(softState.leaderId);
        if (softState.role !== role) {
          if (softState.role === 'preCandidate' && role === 'follower') {
            metrics.electionStarted('electionTimeout');
          } else if (softState.role === 'candidate' && role === 'follower') {
            metrics.electionStarted('leadershipTransfer');
          }
          role = softState.role;
          metrics.setRole(role);
          if (role !== 'leader') {
            metrics.clearFollowerMatchIndexes();
          }
        } else if (softState.leaderId !== leaderId && softState.leaderId !== 0) {
          logger.info(
            { term, leaderId: softState.leaderId.toString(16), reason: 'new leader elected' },
            'leader changed',
          );
        }
        leaderId = softState.leaderId;
      },
      onCommitIndex: (commitIndex) => metrics.setCommitIndex(commitIndex),
      onApplied: (appliedIndex, entryCount) => {
        metrics.setAppliedIndex(appliedIndex);
        metrics.proposalsCommitted(entryCount);
      },
      onProposalsFailed: (count) => metrics.proposalsFailed(count),
      onPendingProposals: (count) => metrics.setProposalsPending(count),
      onSnapshotSaved: (seconds) => logger.info({ seconds }, 'local snapshot saved'),
      onReadRetried: (count) => metrics.readIndexRetried(count),
      onConfigurationApplied: (configuration: ConfigurationState) => {
        const next = memberIds(configuration);
        for (const gone of members.filter((id) => !next.includes(id))) metrics.removePeer(gone);
        members = next;
        logger.info(
          {
            configuration: describeConfiguration(configuration),
            term: currentTerm,
            reason: 'membership change applied',
          },
          'membership changed',
        );
      },
    },
    storage: {
      walSynced: (seconds) => metrics.observeFsyncSeconds(seconds),
      snapshotSaved: (_bytes, seconds) => metrics.observeSnapshotSaveSeconds(seconds),
    },
    request: (method, code, seconds) => metrics.grpcHandled(method, code, seconds),
    roundTrip: (peerId, seconds) => metrics.observePeerRoundTripSeconds(peerId, seconds),
    metricsText: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
    sample: (status, appliedIndex) => {
      currentTerm = status.term;
      metrics.setTerm(status.term);
      metrics.setCommitIndex(status.commitIndex);
      metrics.setAppliedIndex(appliedIndex);
      metrics.setLastLogIndex(status.lastIndex);
      if (status.progress === null) return;
      for (const [id, progress] of status.progress) {
        if (id === status.id) continue;
        metrics.setFollowerMatchIndex(id, progress.matchIndex);
      }
    },
  };
}
