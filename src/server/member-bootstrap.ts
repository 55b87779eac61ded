/**
 * Decides, before the storage is opened, who this member is (DESIGN.md §7):
 *  - a data directory with an identity stamp restarts as the member it names;
 *  - an empty one first asks its peers; if any belongs to an initialized cluster, this node
 *    joins it under the id the cluster registered for its peer URL, but only if that member has
 *    never started (an empty name: it never published itself); a member that ran before and lost
 *    its data must be removed and added again under a new id, never rejoin with amnesia;
 *  - otherwise a founding ordinal (< initial cluster size, initial state `new`) bootstraps the
 *    first configuration, identically on every founder;
 *  - anything else waits, saying why, until the operator adds it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger, NodeId } from '../common/index.js';
import { readDataDirectoryIdentity } from '../storage/index.js';
import type { DiscoverAnswer } from '../transport/index.js';

/** How this process will run its member. */
export type StartIdentity =
  | { readonly kind: 'restart'; readonly clusterId: number; readonly nodeId: NodeId }
  | { readonly kind: 'bootstrap'; readonly clusterId: number; readonly nodeId: NodeId }
  | {
      readonly kind: 'join';
      readonly clusterId: number;
      readonly nodeId: NodeId;
      readonly answer: DiscoverAnswer;
    };

/** What the decision needs. */
export interface BootstrapInputs {
  readonly dataDirectory: string;
  readonly clusterId: number;
  /** Set when this node may found the cluster: its bootstrap member id. */
  readonly founderId: NodeId | null;
  readonly advertisedPeerUrl: string;
  /** Peer addresses (`host:port`) to ask whether a cluster exists. */
  readonly discoveryAddresses: readonly string[];
  readonly discover: (address: string, timeoutMs: number) => Promise<DiscoverAnswer>;
  readonly logger: Logger;
  /** Stops waiting (the process is shutting down). */
  readonly signal: AbortSignal;
}

const DISCOVERY_TIMEOUT_MS = 1000;
const WAIT_RETRY_MS = 2000;

/** Decides the start identity; may wait (retrying) until the node is added to a cluster. */
export async function resolveStartIdentity(inputs: BootstrapInputs): Promise<StartIdentity> {
  const stamp = await readDataDirectoryIdentity(inputs.dataDirectory);
  if (stamp !== undefined) {
    return { kind: 'restart', clusterId: Number(stamp.clusterId), nodeId: stamp.nodeId };
  }
  let isWaitLogged = false;
  // Once any peer answered for an initialized cluster, this node never founds one: a later
  // round in which nobody answers (peers restarting) must not make it a second cluster.
  let hasSeenCluster = false;
  for (;;) {
    const answers = await askPeers(inputs);
    const initialized = answers.find((answer) => answer.isInitialized);
    if (initialized !== undefined) hasSeenCluster = true;
    if (initialized !== undefined) {
      const member = initialized.members.find((candidate) =>
        candidate.peerUrls.includes(inputs.advertisedPeerUrl),
      );
      if (member !== undefined && member.name === '') {
        return {
          kind: 'join',
          clusterId: initialized.clusterId,
          nodeId: member.id,
          answer: initialized,
        };
      }
      if (!isWaitLogged) {
        isWaitLogged = true;
        inputs.logger.warn(
          {
            peerUrl: inputs.advertisedPeerUrl,
            clusterId: initialized.clusterId.toString(16),
            reason:
              member === undefined
                ? 'no member with this peer URL: add it (etcdctl member add / the operator)'
                : `member ${member.id.toString(16)} with this peer URL ran before; its data is gone, so it must be removed and added again`,
          },
          'empty data directory: waiting to be added to the existing cluster',
        );
      }
    } else if (inputs.founderId !== null && !hasSeenCluster) {
      inputs.logger.info(
        { nodeId: inputs.founderId, clusterId: inputs.clusterId.toString(16) },
        'no initialized peer answered: bootstrapping the initial cluster',
      );
      return { kind: 'bootstrap', clusterId: inputs.clusterId, nodeId: inputs.founderId };
    } else if (!isWaitLogged) {
      isWaitLogged = true;
      inputs.logger.warn(
        { peerUrl: inputs.advertisedPeerUrl },
        'empty data directory and not a founding member: waiting for an initialized cluster to add this node',
      );
    }
    await sleep(WAIT_RETRY_MS, undefined, { signal: inputs.signal });
  }
}

async function askPeers(inputs: BootstrapInputs): Promise<DiscoverAnswer[]> {
  const settled = await Promise.allSettled(
    inputs.discoveryAddresses.map((address) => inputs.discover(address, DISCOVERY_TIMEOUT_MS)),
  );
  const answers: DiscoverAnswer[] = [];
  for (const result of settled) {
    if (result.status === 'fulfilled') answers.push(result.value);
  }
  return answers;
}
