/**
 * The discovery question a node with an empty data directory asks its future peers before it
 * bootstraps (DESIGN.md §7): "do you belong to an initialized cluster, and who is in it?". The
 * transport only carries it: the answering side's server passes a handler, the asking side calls
 * {@link discover}. It does not decide whether to bootstrap.
 */
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';

import type { NodeId } from '../common/index.js';
import { type DiscoverResponse, PeerClient } from '../generated/raftkv/peer/v1/peer.js';
import { DiscoverFailedError } from './transport-errors.js';

/** One member as the answering node knows it. */
export interface DiscoveredMember {
  readonly id: NodeId;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

/** A member's answer to a discovery question. */
export interface DiscoverAnswer {
  /** Whether the answering node belongs to an initialized cluster; if false the rest is empty. */
  readonly isInitialized: boolean;
  /** The cluster's id (< 2^53); 0 when not initialized. */
  readonly clusterId: number;
  /** The leader the answering node knows, 0 for none. */
  readonly leaderId: NodeId;
  readonly members: readonly DiscoveredMember[];
}

/** The wire form of `answer`. */
export function encodeDiscoverAnswer(answer: DiscoverAnswer): DiscoverResponse {
  return {
    isInitialized: answer.isInitialized,
    clusterId: answer.clusterId,
    leaderId: answer.leaderId,
    members: answer.members.map((member) => ({
      id: member.id,
      name: member.name,
      peerUrls: [...member.peerUrls],
      clientUrls: [...member.clientUrls],
      isLearner: member.isLearner,
    })),
  };
}

/** The answer a peer sent. */
export function decodeDiscoverAnswer(response: DiscoverResponse): DiscoverAnswer {
  return {
    isInitialized: response.isInitialized,
    clusterId: response.clusterId,
    leaderId: response.leaderId,
    members: response.members.map((member) => ({
      id: member.id,
      name: member.name,
      peerUrls: member.peerUrls,
      clientUrls: member.clientUrls,
      isLearner: member.isLearner,
    })),
  };
}

/** Channel options for a one-off call: its own connection, no retries. */
const DISCOVER_CHANNEL_OPTIONS = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.enable_retries': 0,
} as const;

/**
 * Asks the member at `address` ('host:port' of its peer server) the discovery question. Fails
 * fast with a {@link DiscoverFailedError} when nobody listens there, and after `timeoutMs` when
 * nobody answers; the caller decides whether to ask again.
 */
export function discover(address: string, timeoutMs: number): Promise<DiscoverAnswer> {
  return new Promise<DiscoverAnswer>((resolve, reject) => {
    let client: PeerClient;
    try {
      client = new PeerClient(address, credentials.createInsecure(), DISCOVER_CHANNEL_OPTIONS);
    } catch (error) {
      const detail = `invalid address: ${String(error)}`;
      reject(new DiscoverFailedError(address, status.INVALID_ARGUMENT, detail, { cause: error }));
      return;
    }
    const onAnswer = (error: ServiceError | null, response: DiscoverResponse): void => {
      client.close();
      if (error === null) resolve(decodeDiscoverAnswer(response));
      else reject(new DiscoverFailedError(address, error.code, error.details, { cause: error }));
    };
    client.discover({}, new Metadata(), { deadline: Date.now() + timeoutMs }, onAnswer);
  });
}
