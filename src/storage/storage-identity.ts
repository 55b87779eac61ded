/**
 * Who a data directory belongs to. Stamped in the identity file and in the header of every WAL
 * segment and snapshot, so that data from another cluster, another member or an earlier life of
 * this member's directory is refused instead of served.
 */
import type { NodeId } from '../common/index.js';

/** The identity of one member's data. */
export interface StorageIdentity {
  /** The cluster's 64-bit id. */
  readonly clusterId: bigint;
  /** This member's id in the cluster. */
  readonly nodeId: NodeId;
  /**
   * A 64-bit value chosen when the data directory was created. A member whose directory was
   * wiped and recreated gets a new incarnation, so its old files cannot be mixed in.
   */
  readonly incarnation: bigint;
}

/** Renders a 64-bit id the way etcd prints ids: lowercase hex, no padding. */
export function formatId(id: bigint): string {
  return id.toString(16);
}

/** One-line description for errors and logs. */
export function describeIdentity(identity: StorageIdentity): string {
  return `cluster ${formatId(identity.clusterId)} node ${identity.nodeId} incarnation ${formatId(identity.incarnation)}`;
}

/** Why `found` is not `expected`, or `undefined` if they match. */
export function identityMismatch(
  expected: StorageIdentity,
  found: StorageIdentity,
): string | undefined {
  if (found.clusterId !== expected.clusterId) {
    return `cluster ${formatId(found.clusterId)}, expected ${formatId(expected.clusterId)}`;
  }
  if (found.nodeId !== expected.nodeId) return `node ${found.nodeId}, expected ${expected.nodeId}`;
  if (found.incarnation !== expected.incarnation) {
    return `incarnation ${formatId(found.incarnation)}, expected ${formatId(expected.incarnation)}`;
  }
  return undefined;
}
