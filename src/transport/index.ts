/**
 * The public surface of the peer transport: Raft messages between members over gRPC streams
 * (proto/raftkv/peer/v1/peer.proto). Other modules import only from here.
 */
export { type DiscoverAnswer, type DiscoveredMember, discover } from './discover.js';
export { PeerTransport, type PeerTransportOptions } from './peer-transport.js';
export { DiscoverFailedError, PeerListenError, PeerProtocolError } from './transport-errors.js';
export { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from './transport-limits.js';
export { SILENT_TRANSPORT_OBSERVER, type TransportObserver } from './transport-observer.js';
