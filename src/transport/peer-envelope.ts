/**
 * The addressing every batch and snapshot carries (cluster id, sender, receiver) and the
 * receiver's check of it. A member serves only its own cluster and only frames addressed to
 * itself; anything else is a misconfiguration (a reused address, a stale peer list) that must be
 * refused loudly rather than fed to Raft. Pure: no I/O.
 */
import type { NodeId } from '../common/index.js';

/** Who sends a frame to whom, in which cluster. */
export interface PeerEnvelope {
  readonly clusterId: number;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** Cluster ids print as etcd prints them (lowercase hex); member ids in decimal, as in logs. */
export function formatClusterId(clusterId: number): string {
  return clusterId.toString(16);
}

/**
 * Why a member with `selfId` in `clusterId` must refuse a frame with `envelope`, or undefined
 * when it may accept it. The reason names both sides' ids.
 */
export function envelopeRejection(
  envelope: PeerEnvelope,
  clusterId: number,
  selfId: NodeId,
): string | undefined {
  if (envelope.clusterId !== clusterId) {
    return (
      `member ${envelope.from} of cluster ${formatClusterId(envelope.clusterId)} sent to ` +
      `member ${selfId} of cluster ${formatClusterId(clusterId)}: cluster ids differ`
    );
  }
  if (envelope.to !== selfId) {
    return (
      `member ${envelope.from} sent a frame for member ${envelope.to} to member ${selfId} ` +
      `of cluster ${formatClusterId(clusterId)}: wrong receiver`
    );
  }
  return undefined;
}
