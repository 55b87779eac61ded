/**
 * The members' etcd Cluster and Maintenance APIs as the reconciler uses them, behind an interface
 * the table tests fake. The real one is the raftkv client library (it speaks to etcd as well).
 */
import { RaftkvClient } from '../client/index.js';
import type { MemberAnswer } from './cluster-view.js';

export interface ConfiguredMember {
  readonly id: bigint;
  readonly peerUrls: readonly string[];
  readonly isLearner: boolean;
}

export interface MembershipClient {
  /** The configuration, read through a quorum. */
  list(): Promise<ConfiguredMember[]>;
  /** One endpoint's own answer (no failover). */
  status(endpoint: string): Promise<MemberAnswer>;
  /** Registers a learner at `peerUrl`; resolves with its id. */
  addLearner(peerUrl: string): Promise<bigint>;
  promote(id: bigint): Promise<void>;
  remove(id: bigint): Promise<void>;
  /** Asks the leader to hand leadership to `targetId`. */
  moveLeader(targetId: bigint): Promise<void>;
  close(): void;
}

/** Opens a client of the members at `endpoints` (`host:port`). */
export type MembershipClientFactory = (endpoints: readonly string[]) => Promise<MembershipClient>;

/** Timeouts of the real client: short, since a reconcile pass waits on them. */
export interface RaftkvMembershipOptions {
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** The factory over the raftkv client library. */
export function raftkvMembershipClients(options: RaftkvMembershipOptions): MembershipClientFactory {
  return async (endpoints) => {
    const client = await RaftkvClient.connect({
      endpoints,
      requestTimeoutMs: options.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    return {
      async list() {
        const { members } = await client.memberList();
        return members.map((member) => ({
          id: member.id,
          peerUrls: member.peerUrls,
          isLearner: member.isLearner,
        }));
      },
      async status(endpoint) {
        const status = await client.status(endpoint);
        return {
          clusterId: status.header.clusterId,
          memberId: status.header.memberId,
          leaderId: status.leader,
          term: status.raftTerm,
          commitIndex: status.raftIndex,
          appliedIndex: status.raftAppliedIndex,
          isLearner: status.isLearner,
        };
      },
      async addLearner(peerUrl) {
        const added = await client.memberAdd([peerUrl], { isLearner: true });
        return added.member.id;
      },
      async promote(id) {
        await client.memberPromote(id);
      },
      async remove(id) {
        await client.memberRemove(id);
      },
      async moveLeader(targetId) {
        await client.moveLeader(targetId);
      },
      close: () => client.close(),
    };
  };
}
