/**
 * Hooks through which the transport reports what it does, for metrics and tests. The transport
 * never imports a metrics library: the node passes an observer built on its own registry. Every
 * hook is optional, is called on the event loop, and must not throw.
 */
import type { NodeId } from '../common/index.js';

/** What the transport reports about its traffic. */
export interface TransportObserver {
  /** One batch (one gRPC frame) of `messages` messages, about `bytes` bytes, went to `peerId`. */
  batchSent?(peerId: NodeId, messages: number, bytes: number): void;
  /** One batch of `messages` messages arrived from `peerId`. */
  batchReceived?(peerId: NodeId, messages: number): void;
  /** `messages` messages for `peerId` were dropped (queue full, stream down, unknown peer). */
  messagesDropped?(peerId: NodeId, messages: number): void;
  /** The stream to `peerId` failed or was closed by the peer. */
  streamFailed?(peerId: NodeId): void;
  /** A snapshot of `bytes` bytes to `peerId` finished, successfully or not. */
  snapshotSent?(peerId: NodeId, bytes: number, isSuccess: boolean): void;
}

/** An observer that records nothing. */
export const SILENT_TRANSPORT_OBSERVER: TransportObserver = {};
