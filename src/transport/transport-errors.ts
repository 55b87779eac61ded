/**
 * Typed errors of the peer transport. The transport never throws them at its callers for I/O on
 * the hot path (send() drops and reports instead); they describe what a peer sent that the
 * protocol does not allow, and why a discovery call failed.
 */
import { RaftkvError } from '../common/index.js';

/** A peer sent a frame that decodes but breaks the peer protocol (peer.proto). */
export class PeerProtocolError extends RaftkvError {
  readonly code = 'PEER_PROTOCOL_VIOLATION';
  constructor(detail: string) {
    super(
      `peer protocol violation: ${detail}`,
      'Check that every member runs a compatible raftkv version.',
    );
  }
}

/** A Discover call to a peer did not produce an answer. */
export class DiscoverFailedError extends RaftkvError {
  readonly code = 'PEER_DISCOVER_FAILED';
  /** The peer address asked. */
  readonly address: string;
  /** The gRPC status code of the failed call (14 = UNAVAILABLE: nobody listens there yet). */
  readonly grpcCode: number;
  constructor(address: string, grpcCode: number, detail: string, options?: { cause?: unknown }) {
    super(
      `discovery call to ${address} failed: ${detail}`,
      'Check that the peer address is right and the member is running; the caller may ask again.',
      options,
    );
    this.address = address;
    this.grpcCode = grpcCode;
  }
}

/** The peer server could not bind its address. */
export class PeerListenError extends RaftkvError {
  readonly code = 'PEER_LISTEN_FAILED';
  constructor(address: string, options?: { cause?: unknown }) {
    super(
      `peer server could not listen on ${address}`,
      'Check that no other process uses the peer port and that the host address is local.',
      options,
    );
  }
}
