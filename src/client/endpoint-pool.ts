/**
 * One gRPC channel per endpoint, opened on first use and shared by every service, and the
 * knowledge failover needs about them: which endpoint answered last (tried first next time),
 * which are failing (tried last), and whether a connection can be had before a deadline. Knows
 * nothing of requests or retries (failover-call.ts).
 */
import {
  type ChannelOptions,
  Client,
  connectivityState,
  credentials,
  status as GrpcStatus,
} from '@grpc/grpc-js';

import { ClientError } from './client-error.js';

/**
 * Largest response accepted. grpc-js defaults to 4 MiB, which a wide range read exceeds;
 * etcd's own client accepts up to 2 GiB. 256 MiB bounds memory while covering etcd's 8 GiB
 * store only with a limit or pagination, which large reads need anyway.
 */
export const RESPONSE_BYTES_MAX = 256 * 1024 * 1024;

const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': RESPONSE_BYTES_MAX,
  // grpc-js backs off up to 120 s between reconnects by default; a member that comes back must
  // become usable within about a second.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

/** How waiting for a connection ended. */
export type ConnectionOutcome = 'ready' | 'failed' | 'timedOut' | 'closed';

/**
 * `endpoints` starting at `preferred` and wrapping around, endpoints whose connection is failing
 * moved to the end. Pure.
 */
export function orderEndpoints(
  endpoints: readonly string[],
  preferred: number,
  isFailing: (endpoint: string) => boolean,
): string[] {
  const rotated = [...endpoints.slice(preferred), ...endpoints.slice(0, preferred)];
  return [
    ...rotated.filter((endpoint) => !isFailing(endpoint)),
    ...rotated.filter((endpoint) => isFailing(endpoint)),
  ];
}

export class EndpointPool {
  private readonly clients = new Map<string, Client>();
  private preferred = 0;
  private isClosed = false;

  /** @param endpoints normalized `host:port` addresses, at least one */
  constructor(readonly endpoints: readonly string[]) {}

  /** The order in which to try the configured endpoints for the next call. */
  attemptOrder(): string[] {
    return orderEndpoints(this.endpoints, this.preferred, (endpoint) => {
      const client = this.clients.get(endpoint);
      const state = client?.getChannel().getConnectivityState(false);
      return state === connectivityState.TRANSIENT_FAILURE;
    });
  }

  /** Remembers that `endpoint` answered, so that the next call starts there. */
  markAnswered(endpoint: string): void {
    const position = this.endpoints.indexOf(endpoint);
    if (position >= 0) this.preferred = position;
  }

  /** The client of `endpoint` (any address, configured or not), opened on first use. */
  clientFor(endpoint: string): Client {
    if (this.isClosed) throw new ClientError(GrpcStatus.CANCELLED, 'the client was closed');
    let client = this.clients.get(endpoint);
    if (client === undefined) {
      client = new Client(endpoint, credentials.createInsecure(), CHANNEL_OPTIONS);
      this.clients.set(endpoint, client);
    }
    return client;
  }

  /**
   * Waits until the channel of `endpoint` is connected ('ready'), fails to connect ('failed'),
   * or `deadline` passes ('timedOut'). A channel already failing answers 'failed' at once: grpc-js
   * keeps reconnecting it in the background (backoff at most a second), and reports READY when
   * the member is back, so a later call finds it.
   */
  async awaitConnection(endpoint: string, deadline: number): Promise<ConnectionOutcome> {
    if (this.isClosed) return 'closed';
    const channel = this.clientFor(endpoint).getChannel();
    for (;;) {
      const state = channel.getConnectivityState(true);
      switch (state) {
        case connectivityState.READY:
          return 'ready';
        case connectivityState.TRANSIENT_FAILURE:
          return 'failed';
        case connectivityState.SHUTDOWN:
          return 'closed';
        case connectivityState.IDLE:
        case connectivityState.CONNECTING:
          break;
      }
      const hasChanged = await new Promise<boolean>((resolve) => {
        channel.watchConnectivityState(state, deadline, (error) => resolve(error === undefined));
      });
      if (!hasChanged) return 'timedOut';
    }
  }

  /** Closes every channel; calls in flight fail with CANCELLED. */
  close(): void {
    this.isClosed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  get closed(): boolean {
    return this.isClosed;
  }
}
