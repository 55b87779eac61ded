/**
 * One raftkv member, assembled: it decides its identity (member-bootstrap.ts), opens its durable
 * storage, builds the consensus core over the recovered log, starts the peer transport, the loop,
 * the etcd gRPC services and the HTTP health and metrics port, publishes its name and client URL,
 * and stops in order (handing leadership over first when it leads). Owns the wiring only: every
 * behaviour lives in the parts.
 */
import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';

import type { Logger, NodeId } from '../common/index.js';
import { ClusterService, KVService, MaintenanceService } from '../generated/etcdserverpb/rpc.js';
import {
  type ConfigurationState,
  createPrng,
  type HardState,
  EMPTY_CONFIGURATION,
  MemoryStorage,
  memberIds,
  RawNode,
  type Snapshot,
} from '../raft/index.js';
import { DurableStorage, type StorageObserver } from '../storage/index.js';
import { type DiscoverAnswer, discover, PeerTransport } from '../transport/index.js';
import { createClusterService } from './cluster-service.js';
import { encodeEnvelope } from './entry-envelope.js';
import { type HealthCheck, startHttpEndpoints } from './http-endpoints.js';
import { createKvService } from './kv-service.js';
import { createMaintenanceService } from './maintenance-service.js';
import { resolveStartIdentity, type StartIdentity } from './member-bootstrap.js';
import { encodeMemberChange, MemberRegistry } from './member-registry.js';
import { type LoopObserver, RaftLoop } from './raft-loop.js';
import { UnaryGrpcServer } from './unary-grpc-server.js';
import { ReplicatedState } from './replicated-state.js';
import type { RequestLimits, RequestObserver, ServiceContext } from './service-context.js';

/** A founding member of the initial configuration. */
export interface FounderMember {
  readonly id: NodeId;
  readonly peerAddress: string;
  readonly clientAddress: string;
}

/** Everything a member needs to run, resolved from flags and identity by the caller. */
export interface RaftkvNodeOptions {
  readonly name: string;
  readonly dataDirectory: string;
  readonly listenHost: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly httpPort: number;
  /** `host:port` others reach this member's peer and client ports at. */
  readonly advertisedPeerAddress: string;
  readonly advertisedClientAddress: string;
  readonly clusterId: number;
  /** This node's bootstrap id if it is a founding member allowed to bootstrap, else null. */
  readonly founderId: NodeId | null;
  /** The founding members (the initial configuration), in ordinal order. */
  readonly founders: readonly FounderMember[];
  /** Peer addresses to ask whether a cluster exists before bootstrapping. */
  readonly discoveryAddresses: readonly string[];
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly limits: RequestLimits;
  readonly pendingRequestsMax: number;
  readonly clientsMax: number;
  readonly snapshotEntriesThreshold: number;
  readonly snapshotBytesThreshold: number;
  readonly snapshotsRetained: number;
  readonly walSegmentBytes: number;
  readonly logger: Logger;
  readonly observers: NodeObservers;
  /** Called when the member stops on its own: removed from the cluster, or a fatal error. */
  readonly onExit: (reason: 'removed' | 'fatal', error?: unknown) => void;
}

/** The metrics hooks of a member, built by the entry point on its own registry. */
export interface NodeObservers {
  readonly loop: LoopObserver;
  readonly storage: StorageObserver;
  readonly request: RequestObserver;
  readonly roundTrip: (peerId: NodeId, seconds: number) => void;
  readonly metricsText: () => Promise<{ readonly contentType: string; readonly text: string }>;
}

const PUBLISH_RETRY_MS = 200;
/** A loop pass must have run within this long for /livez to pass. */
const LIVENESS_STALL_MS = 10_000;

/** A running member. */
export class RaftkvNode {
  private isStopping = false;
  private publishTimer: NodeJS.Timeout | undefined;
  private lastPeerMap = '';
  private readonly startedAbort: AbortController;

  private constructor(
    private readonly options: RaftkvNodeOptions,
    readonly selfId: NodeId,
    private readonly storage: DurableStorage,
    private readonly state: ReplicatedState,
    readonly loop: RaftLoop,
    private readonly transport: PeerTransport,
    private readonly grpcServer: UnaryGrpcServer,
    private readonly httpServer: HttpServer,
    readonly clientPort: number,
    abort: AbortController,
  ) {
    this.startedAbort = abort;
  }

  /**
   * Starts a member. May wait a long time (until an existing cluster adds this node); `signal`
   * aborts that wait.
   */
  static async start(options: RaftkvNodeOptions, signal: AbortSignal): Promise<RaftkvNode> {
    const logger = options.logger;
    const identity = await resolveStartIdentity({
      dataDirectory: options.dataDirectory,
      clusterId: options.clusterId,
      founderId: options.founderId,
      advertisedPeerUrl: `http://${options.advertisedPeerAddress}`,
      discoveryAddresses: options.discoveryAddresses,
      discover,
      logger,
      signal,
    });
    const selfId = identity.nodeId;
    let fatal: (error: unknown) => void = (error) => options.onExit('fatal', error);
    const storage = await DurableStorage.open({
      directory: options.dataDirectory,
      clusterId: BigInt(identity.clusterId),
      nodeId: selfId,
      incarnationForNewDirectory: randomBytes(8).readBigUInt64LE(),
      logger,
      observer: options.observers.storage,
      onFatal: (error) => fatal(error),
      snapshotEntriesThreshold: options.snapshotEntriesThreshold,
      snapshotBytesThreshold: options.snapshotBytesThreshold,
      snapshotsRetained: options.snapshotsRetained,
      segmentBytesTarget: options.walSegmentBytes,
    });
    const memoryStorage = new MemoryStorage();
    const state = new ReplicatedState({
      txnOpsMax: options.limits.txnOpsMax,
      clientsMax: options.clientsMax,
    });
    storage.loadInto(memoryStorage);
    if (identity.kind === 'bootstrap' && storage.recovered.isNew) {
      const bootstrap = await bootstrapStorage(storage, options);
      memoryStorage.applySnapshot(bootstrap.snapshot);
      memoryStorage.setHardState(bootstrap.hardState);
    }
    const recoveredSnapshot = memoryStorage.snapshot();
    state.restore(recoveredSnapshot.data);
    logger.info(
      {
        nodeId: selfId.toString(16),
        clusterId: identity.clusterId.toString(16),
        start: identity.kind,
        snapshotIndex: recoveredSnapshot.metadata.index,
        lastIndex: memoryStorage.lastIndex(),
        recoverySeconds: storage.recovered.report.durationSeconds,
      },
      'storage opened',
    );
    const rawNode = RawNode.create({
      id: selfId,
      storage: memoryStorage,
      prng: createPrng(randomBytes(4).readUInt32LE()),
      logger,
      electionTimeoutTicks: options.electionTimeoutTicks,
      heartbeatIntervalTicks: options.heartbeatIntervalTicks,
    });
    // The loop and the transport refer to each other; the transport starts first and hands
    // inbound messages to the loop once it exists.
    const wired: { loop?: RaftLoop; node?: RaftkvNode } = {};
    const transport = await PeerTransport.start({
      selfId,
      clusterId: identity.clusterId,
      listenHost: options.listenHost,
      listenPort: options.peerPort,
      logger,
      onMessages: (messages) => wired.loop?.receive(messages),
      onUnreachable: (peerId) => wired.loop?.reportUnreachable(peerId),
      onSnapshotStatus: (peerId, isSuccess) => wired.loop?.reportSnapshotStatus(peerId, isSuccess),
      onRoundTrip: options.observers.roundTrip,
      onDiscover: () => discoverAnswer(identity.clusterId, wired.loop, state),
    });
    const abort = new AbortController();
    const loop = new RaftLoop({
      selfId,
      rawNode,
      memoryStorage,
      storage,
      state,
      send: (messages) => transport.send(messages),
      observer: {
        ...options.observers.loop,
        onConfigurationApplied: (configuration) => {
          options.observers.loop.onConfigurationApplied(configuration);
          wired.node?.updatePeers();
        },
        onApplied: (appliedIndex, entryCount) => {
          options.observers.loop.onApplied(appliedIndex, entryCount);
          wired.node?.updatePeers();
        },
      },
      logger,
      tickIntervalMs: options.tickIntervalMs,
      requestTimeoutMs: options.requestTimeoutMs,
      pendingRequestsMax: options.pendingRequestsMax,
      onRemoved: () => void wired.node?.handleRemoved(),
      onFatal: (error) => fatal(error),
    });
    wired.loop = loop;
    const context: ServiceContext = {
      selfId,
      clusterId: identity.clusterId,
      loop,
      state,
      limits: options.limits,
      logger,
      observeRequest: options.observers.request,
      requestTimeoutMs: options.requestTimeoutMs,
      leaderClientAddress: () => {
        const leaderId = loop.status().leaderId;
        const url = state.members.get(leaderId)?.clientUrls[0];
        return url === undefined ? undefined : addressOfUrl(url);
      },
    };
    const grpcServer = new UnaryGrpcServer();
    grpcServer.addService(KVService, createKvService(context));
    grpcServer.addService(ClusterService, createClusterService(context));
    grpcServer.addService(
      MaintenanceService,
      createMaintenanceService(context, { dataBytes: () => 0 }),
    );
    const clientPort = await grpcServer.listen({
      host: options.listenHost,
      port: options.clientPort,
      receiveMessageBytesMax: options.limits.requestBytesMax + 64 * 1024,
      concurrentStreamsMax: 10_000,
      logger,
    });
    const httpServer = await startHttpEndpoints({
      host: options.listenHost,
      port: options.httpPort,
      live: () => wired.node?.liveness() ?? { isHealthy: true, reason: 'starting' },
      ready: () => wired.node?.readiness() ?? { isHealthy: false, reason: 'starting' },
      metrics: options.observers.metricsText,
    });
    const node = new RaftkvNode(
      options,
      selfId,
      storage,
      state,
      loop,
      transport,
      grpcServer,
      httpServer,
      clientPort,
      abort,
    );
    wired.node = node;
    fatal = (error) => void node.handleFatal(error);
    node.updatePeers(identity);
    loop.start();
    node.schedulePublish();
    logger.info(
      {
        nodeId: selfId.toString(16),
        clientAddress: `${options.listenHost}:${clientPort}`,
        peerAddress: `${options.listenHost}:${transport.port}`,
        httpPort: options.httpPort,
      },
      'member serving',
    );
    return node;
  }

  /** /livez: the loop keeps running passes. */
  liveness(): HealthCheck {
    const sinceMs = performance.now() - this.loop.lastPassStartedAt();
    if (sinceMs > LIVENESS_STALL_MS) {
      return { isHealthy: false, reason: `loop stalled for ${Math.round(sinceMs)} ms` };
    }
    return { isHealthy: true, reason: 'loop running' };
  }

  /** /readyz: a leader is known and the committed log is applied. Never "is leader". */
  readiness(): HealthCheck {
    if (this.isStopping) return { isHealthy: false, reason: 'stopping' };
    const status = this.loop.status();
    if (status.leaderId === 0) return { isHealthy: false, reason: 'no leader known' };
    if (this.loop.applied() < status.commitIndex) {
      return {
        isHealthy: false,
        reason: `applying: ${this.loop.applied()} of ${status.commitIndex} committed`,
      };
    }
    return { isHealthy: true, reason: `leader ${status.leaderId.toString(16)}` };
  }

  /**
   * Stops the member: hands leadership to the most caught-up voter if it leads, stops taking
   * requests, lets calls in flight finish, then closes the loop, transport and storage, all
   * within the shutdown timeout.
   */
  async stop(): Promise<void> {
    if (this.isStopping) return;
    this.isStopping = true;
    this.startedAbort.abort();
    clearTimeout(this.publishTimer);
    const deadline = performance.now() + this.options.shutdownTimeoutMs;
    await this.handOverLeadership(Math.min(this.options.shutdownTimeoutMs / 2, 3000));
    await this.grpcServer.close(Math.max(0, deadline - performance.now()) / 2);
    await this.loop.stop();
    await this.transport.close();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    this.httpServer.closeAllConnections();
    await this.storage.close();
    this.options.logger.info({ nodeId: this.selfId.toString(16) }, 'member stopped');
  }

  private async handOverLeadership(waitMs: number): Promise<void> {
    const status = this.loop.status();
    if (status.role !== 'leader' || status.progress === null) return;
    let targetId = 0;
    let bestMatch = -1;
    for (const [id, progress] of status.progress) {
      if (id === this.selfId || progress.isLearner || !progress.isRecentlyActive) continue;
      if (!status.configuration.voters.includes(id)) continue;
      if (progress.matchIndex > bestMatch) {
        bestMatch = progress.matchIndex;
        targetId = id;
      }
    }
    if (targetId === 0) return;
    this.options.logger.info(
      { targetId: targetId.toString(16), term: status.term, reason: 'shutdown' },
      'handing leadership over before stopping',
    );
    try {
      await this.loop.transferLeadership(targetId);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'leadership hand-over refused');
      return;
    }
    const deadline = performance.now() + waitMs;
    while (this.loop.status().role === 'leader' && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private async handleRemoved(): Promise<void> {
    this.options.logger.warn(
      { nodeId: this.selfId.toString(16), reason: 'removed from the cluster' },
      'this member was removed: marking the data directory and stopping',
    );
    try {
      await this.storage.markRemoved();
    } catch (error) {
      this.options.logger.error({ err: error }, 'could not mark the data directory removed');
    }
    await this.stop();
    this.options.onExit('removed');
  }

  private async handleFatal(error: unknown): Promise<void> {
    this.options.logger.error({ err: error }, 'fatal error: stopping');
    this.options.onExit('fatal', error);
  }

  /** Points the transport at every member of the configuration, from the registry. */
  private updatePeers(identity?: StartIdentity): void {
    const registry = this.state.members;
    const configuration = this.loop.status().configuration;
    const peers = new Map<NodeId, string>();
    const ids = memberIds(configuration);
    for (const id of ids) {
      if (id === this.selfId) continue;
      const url = registry.get(id)?.peerUrls[0];
      if (url !== undefined) peers.set(id, addressOfUrl(url));
    }
    if (identity?.kind === 'join') {
      for (const member of identity.answer.members) {
        const url = member.peerUrls[0];
        if (member.id !== this.selfId && url !== undefined && !peers.has(member.id)) {
          peers.set(member.id, addressOfUrl(url));
        }
      }
    }
    const key = JSON.stringify([...peers]);
    if (key === this.lastPeerMap) return;
    this.lastPeerMap = key;
    this.transport.setPeers(peers);
    this.options.logger.info(
      { peers: Object.fromEntries([...peers].map(([id, address]) => [id.toString(16), address])) },
      'peer addresses updated',
    );
  }

  /** Publishes this member's name and client URL in the registry until it is there. */
  private schedulePublish(): void {
    this.publishTimer = setTimeout(() => void this.publish(), PUBLISH_RETRY_MS / 10);
  }

  private async publish(): Promise<void> {
    if (this.isStopping) return;
    const record = this.state.members.get(this.selfId);
    const clientUrl = `http://${this.options.advertisedClientAddress}`;
    if (
      record !== undefined &&
      record.name === this.options.name &&
      record.clientUrls.length === 1 &&
      record.clientUrls[0] === clientUrl
    ) {
      return;
    }
    if (record !== undefined && this.loop.status().leaderId !== 0) {
      const requestNumber = this.loop.allocateRequestNumber();
      const data = encodeEnvelope({
        kind: 'memberChange',
        originId: this.selfId,
        requestNumber,
        session: undefined,
        command: encodeMemberChange({
          kind: 'publish',
          id: this.selfId,
          name: this.options.name,
          clientUrls: [clientUrl],
        }),
      });
      try {
        await this.loop.propose(requestNumber, data);
        this.options.logger.info({ name: this.options.name, clientUrl }, 'member published');
        return;
      } catch (error) {
        this.options.logger.debug({ err: error }, 'publish failed; retrying');
      }
    }
    if (!this.isStopping) {
      this.publishTimer = setTimeout(() => void this.publish(), PUBLISH_RETRY_MS);
    }
  }
}

/** Writes the initial configuration and registry as the snapshot at index 1, term 1. */
async function bootstrapStorage(
  storage: DurableStorage,
  options: RaftkvNodeOptions,
): Promise<{ readonly snapshot: Snapshot; readonly hardState: HardState }> {
  const registry = new MemberRegistry();
  for (const founder of options.founders) {
    registry.set({
      id: founder.id,
      name: '',
      peerUrls: [`http://${founder.peerAddress}`],
      clientUrls: [`http://${founder.clientAddress}`],
    });
  }
  const state = new ReplicatedState({}, undefined, registry);
  const configuration: ConfigurationState = {
    ...EMPTY_CONFIGURATION,
    voters: options.founders.map((founder) => founder.id).sort((a, b) => a - b),
  };
  const snapshot: Snapshot = {
    metadata: { index: 1, term: 1, configuration },
    data: state.snapshot(),
  };
  const hardState: HardState = { term: 1, votedFor: 0, commitIndex: 1 };
  await storage.persist({ snapshot, entries: [], hardState, mustSync: true });
  return { snapshot, hardState };
}

function discoverAnswer(
  clusterId: number,
  loop: RaftLoop | undefined,
  state: ReplicatedState,
): DiscoverAnswer {
  const status = loop?.status();
  const configuration = status?.configuration ?? EMPTY_CONFIGURATION;
  return {
    isInitialized: configuration.voters.length > 0,
    clusterId,
    leaderId: status?.leaderId ?? 0,
    members: memberIds(configuration).map((id) => {
      const record = state.members.get(id);
      return {
        id,
        name: record?.name ?? '',
        peerUrls: [...(record?.peerUrls ?? [])],
        clientUrls: [...(record?.clientUrls ?? [])],
        isLearner: configuration.learners.includes(id),
      };
    }),
  };
}

/** `host:port` of an `http://host:port` URL. */
export function addressOfUrl(url: string): string {
  const parsed = new URL(url);
  return parsed.host;
}
