/**
 * The peer transport of one member: the Peer gRPC server that receives, and one sender per known
 * peer that sends. It routes the core's outgoing messages to their peers' senders, flushes all of
 * them once per event-loop turn, and follows the peer list the node gives it.
 *
 * It must never block or throw for I/O in send(), never call back into the core from inside
 * send(), and never interpret Raft messages beyond their addresses and kinds.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';

import { assert, type Logger, NO_NODE, type NodeId } from '../common/index.js';
import { PeerService } from '../generated/raftkv/peer/v1/peer.js';
import type { Message } from '../raft/index.js';
import type { DiscoverAnswer } from './discover.js';
import { InboundPeerService } from './inbound-peer-service.js';
import { peerChannelOptions, peerServerOptions } from './peer-channel-options.js';
import { formatClusterId } from './peer-envelope.js';
import { PeerSender, type PeerSenderContext } from './peer-sender.js';
import { PeerListenError } from './transport-errors.js';
import { resolveTransportLimits, type TransportLimits } from './transport-limits.js';
import { SILENT_TRANSPORT_OBSERVER, type TransportObserver } from './transport-observer.js';

/** How a transport is started. */
export interface PeerTransportOptions {
  readonly selfId: NodeId;
  /** The cluster's id, < 2^53; frames carrying another id are refused. */
  readonly clusterId: number;
  /** Address to listen on, e.g. '127.0.0.1' or '0.0.0.0'. */
  readonly listenHost: string;
  /** Port to listen on; 0 picks a free one (see {@link PeerTransport.port}). */
  readonly listenPort: number;
  readonly logger: Logger;
  /**
   * Receives the messages peers sent to this member, in arrival order per sending peer. Called
   * on the event loop, never re-entrantly from send().
   */
  readonly onMessages: (messages: readonly Message[]) => void;
  /** A peer could not be reached or its queue overflowed (the core then probes it again). */
  readonly onUnreachable: (peerId: NodeId) => void;
  /** A snapshot send to a peer finished or failed. */
  readonly onSnapshotStatus: (peerId: NodeId, isSuccess: boolean) => void;
  /** Round-trip time to a peer, measured every `pingIntervalMs`; no pings without it. */
  readonly onRoundTrip?: (peerId: NodeId, seconds: number) => void;
  /** Answers a joining node's discovery question; without it Discover is UNIMPLEMENTED. */
  readonly onDiscover?: () => DiscoverAnswer;
  /** Overrides of {@link DEFAULT_TRANSPORT_LIMITS}. */
  readonly limits?: Partial<TransportLimits>;
  /** Traffic hooks for metrics and tests. */
  readonly observer?: TransportObserver;
}

/** The peer transport of one member. Create with {@link PeerTransport.start}. */
export class PeerTransport {
  /** The port the peer server is bound to. */
  readonly port: number;
  private readonly selfId: NodeId;
  private readonly logger: Logger;
  private readonly limits: TransportLimits;
  private readonly server: Server;
  private readonly inbound: InboundPeerService;
  private readonly senderContext: PeerSenderContext;
  private readonly senders = new Map<NodeId, PeerSender>();
  /** Senders with something to flush in the next turn (each at most once). */
  private sendersToFlush: PeerSender[] = [];
  private flushImmediate: ReturnType<typeof setImmediate> | undefined;
  private isClosed = false;

  private constructor(
    options: PeerTransportOptions,
    limits: TransportLimits,
    server: Server,
    inbound: InboundPeerService,
    port: number,
  ) {
    this.port = port;
    this.selfId = options.selfId;
    this.logger = options.logger;
    this.limits = limits;
    this.server = server;
    this.inbound = inbound;
    this.senderContext = {
      selfId: options.selfId,
      clusterId: options.clusterId,
      limits,
      logger: options.logger,
      observer: options.observer ?? SILENT_TRANSPORT_OBSERVER,
      channelOptions: peerChannelOptions(limits),
      onUnreachable: options.onUnreachable,
      onSnapshotStatus: options.onSnapshotStatus,
      onRoundTrip: options.onRoundTrip,
      requestFlush: (sender) => this.requestFlush(sender),
    };
  }

  /**
   * Binds the peer server and returns the running transport. Rejects with a
   * {@link PeerListenError} when the address cannot be bound.
   */
  static async start(options: PeerTransportOptions): Promise<PeerTransport> {
    assert(
      Number.isSafeInteger(options.selfId) && options.selfId > NO_NODE,
      'selfId must be a positive safe integer',
    );
    assert(
      Number.isSafeInteger(options.clusterId) && options.clusterId >= 0,
      'clusterId must be a non-negative safe integer',
    );
    const limits = resolveTransportLimits(options.limits);
    const inbound = new InboundPeerService({
      selfId: options.selfId,
      clusterId: options.clusterId,
      limits,
      logger: options.logger,
      observer: options.observer ?? SILENT_TRANSPORT_OBSERVER,
      onMessages: options.onMessages,
      onDiscover: options.onDiscover,
    });
    const server = new Server(peerServerOptions(limits));
    server.addService(PeerService, inbound.implementation());
    const port = await bindServer(server, options.listenHost, options.listenPort);
    options.logger.info(
      {
        nodeId: options.selfId,
        clusterId: formatClusterId(options.clusterId),
        host: options.listenHost,
        port,
      },
      'peer transport listening',
    );
    return new PeerTransport(options, limits, server, inbound, port);
  }

  /**
   * Sets the peers messages may go to: id -> 'host:port' of its peer server. New peers get a
   * sender (connected on first use), peers whose address changed get a fresh one, and removed
   * peers' streams are closed (a snapshot in flight to them is reported failed). This member's
   * own id is ignored.
   */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.isClosed) return;
    for (const [peerId, sender] of this.senders) {
      if (peers.get(peerId) === sender.address) continue;
      if (sender.close()) this.reportSnapshotAbandoned(peerId);
      this.senders.delete(peerId);
      this.logger.info({ peerId, address: sender.address }, 'peer removed');
    }
    for (const [peerId, address] of peers) {
      if (peerId === this.selfId || this.senders.has(peerId)) continue;
      this.senders.set(peerId, new PeerSender(this.senderContext, peerId, address));
      this.logger.info({ peerId, address }, 'peer added');
    }
  }

  /**
   * Queues `messages` for their peers; they leave in the next event-loop turn, one batch per
   * peer where the byte cap allows. Never blocks and never throws for I/O: messages to unknown
   * peers, or beyond a peer's queue limit, are dropped (and reported through `onUnreachable`).
   */
  send(messages: readonly Message[]): void {
    if (this.isClosed) return;
    let peerId = NO_NODE;
    let sender: PeerSender | undefined;
    for (const message of messages) {
      if (message.to !== peerId) {
        peerId = message.to;
        sender = this.senders.get(peerId);
      }
      if (sender === undefined) {
        this.logger.debug({ peerId, kind: message.kind }, 'message to unknown peer dropped');
        this.senderContext.observer.messagesDropped?.(peerId, 1);
        continue;
      }
      sender.enqueue(message);
    }
  }

  /**
   * Ends every stream, cancels snapshots and timers, answers open inbound calls and stops the
   * server (cutting calls still open after `closeGraceMs`). Reports nothing afterwards.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearImmediate(this.flushImmediate);
    this.sendersToFlush = [];
    for (const sender of this.senders.values()) sender.close();
    this.senders.clear();
    this.inbound.endOpenCalls();
    await shutdownServer(this.server, this.limits.closeGraceMs);
    this.logger.info({ nodeId: this.selfId }, 'peer transport closed');
  }

  /** A snapshot to a removed or moved peer will never finish: say so, in a later turn. */
  private reportSnapshotAbandoned(peerId: NodeId): void {
    setImmediate(() => {
      if (!this.isClosed) this.senderContext.onSnapshotStatus(peerId, false);
    });
  }

  private requestFlush(sender: PeerSender): void {
    this.sendersToFlush.push(sender);
    this.flushImmediate ??= setImmediate(() => this.flush());
  }

  /** Flushes every sender that asked; those asking again meanwhile wait for the next turn. */
  private flush(): void {
    this.flushImmediate = undefined;
    const senders = this.sendersToFlush;
    this.sendersToFlush = [];
    for (const sender of senders) sender.flush();
  }
}

/** 'host:port', with IPv6 hosts in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bindServer(server: Server, host: string, port: number): Promise<number> {
  const address = hostPort(host, port);
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error === null) resolve(boundPort);
      else reject(new PeerListenError(address, { cause: error }));
    });
  });
}

/** Stops `server` gracefully, or by force once `graceMs` has passed. */
function shutdownServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
