/**
 * The named limits of the peer transport: queue lengths, batch and chunk sizes, timer periods.
 * Owns their defaults and their validation; it does not apply them (the senders and the peer
 * service do).
 */
import { assert } from '../common/index.js';

/** Every bound the transport keeps; each has a default in {@link DEFAULT_TRANSPORT_LIMITS}. */
export interface TransportLimits {
  /**
   * Messages waiting for one peer's stream. A message sent while the queue is full is dropped
   * and the peer reported unreachable (Raft tolerates loss; the leader probes again).
   */
  readonly queuedMessagesMax: number;
  /**
   * Estimated encoded bytes of one outgoing batch; a longer queue is split. A single message
   * larger than this still goes, alone in its batch.
   */
  readonly batchBytesMax: number;
  /** Snapshot data bytes per InstallSnapshot chunk. */
  readonly snapshotChunkBytes: number;
  /** Largest snapshot this node accepts from a peer (the receiver holds it in memory). */
  readonly snapshotBytesMax: number;
  /** Largest frame (batch or chunk) the peer server accepts. */
  readonly receiveMessageBytesMax: number;
  /** Period of the round-trip pings to each peer (only when round trips are observed). */
  readonly pingIntervalMs: number;
  /** Deadline of one ping. */
  readonly pingTimeoutMs: number;
  /** First wait before reopening a failed stream; doubled per failure up to the maximum. */
  readonly reconnectBackoffMsMin: number;
  /** Longest wait before reopening a failed stream. */
  readonly reconnectBackoffMsMax: number;
  /** How long close() lets open calls finish before cutting them. */
  readonly closeGraceMs: number;
}

const MEBIBYTE = 1024 * 1024;

/** Defaults sized for peers on one LAN. */
export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  queuedMessagesMax: 10_000,
  batchBytesMax: 4 * MEBIBYTE,
  snapshotChunkBytes: MEBIBYTE,
  snapshotBytesMax: 2048 * MEBIBYTE,
  receiveMessageBytesMax: 64 * MEBIBYTE,
  pingIntervalMs: 1_000,
  pingTimeoutMs: 5_000,
  reconnectBackoffMsMin: 100,
  reconnectBackoffMsMax: 2_000,
  closeGraceMs: 1_000,
};

/** The defaults overridden by `overrides`; asserts that the result is coherent. */
export function resolveTransportLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits: TransportLimits = { ...DEFAULT_TRANSPORT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    assert(Number.isSafeInteger(value) && value > 0, () => `${name} must be a positive integer`);
  }
  assert(
    limits.reconnectBackoffMsMin <= limits.reconnectBackoffMsMax,
    'reconnectBackoffMsMin must not exceed reconnectBackoffMsMax',
  );
  assert(
    limits.batchBytesMax < limits.receiveMessageBytesMax &&
      limits.snapshotChunkBytes < limits.receiveMessageBytesMax,
    'batches and snapshot chunks must fit below receiveMessageBytesMax',
  );
  return limits;
}
