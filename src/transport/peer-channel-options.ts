/**
 * gRPC channel and server options for peer connections on one LAN: keepalive pings that notice
 * a dead or frozen peer within seconds, no gRPC-level retries (Raft resends what matters, and a
 * retry buffer would copy every batch), reconnect backoff aligned with the sender's own, and
 * frame size limits from {@link TransportLimits}.
 */
import type { ChannelOptions, ServerOptions } from '@grpc/grpc-js';

import type { TransportLimits } from './transport-limits.js';

/** Idle time on a connection before an HTTP/2 keepalive ping. */
const KEEPALIVE_TIME_MS = 5_000;
/** How long a keepalive ping may go unanswered before the connection is declared dead. */
const KEEPALIVE_TIMEOUT_MS = 5_000;

/** Options for the channel to one peer. */
export function peerChannelOptions(limits: TransportLimits): ChannelOptions {
  return {
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.enable_retries': 0,
    'grpc.initial_reconnect_backoff_ms': limits.reconnectBackoffMsMin,
    'grpc.max_reconnect_backoff_ms': limits.reconnectBackoffMsMax,
    'grpc.max_receive_message_length': limits.receiveMessageBytesMax,
    // A connection of its own per peer channel, never shared with another transport in the
    // same process (tests run several members in one process).
    'grpc.use_local_subchannel_pool': 1,
  };
}

/** Options for the peer server. */
export function peerServerOptions(limits: TransportLimits): ServerOptions {
  return {
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.max_receive_message_length': limits.receiveMessageBytesMax,
  };
}
