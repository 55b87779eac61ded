/**
 * The node's loop (DESIGN.md §4): the only owner of the consensus core. gRPC handlers, the peer
 * transport and the ticker never touch the core; they put work in the inbox and wait on
 * promises. Each pass drains the inbox into the core, then handles every Ready in the order the
 * core demands: persist (one write and at most one fsync for the whole batch: group commit),
 * send, apply committed entries and answer waiting callers, serve confirmed reads, advance.
 * Work arriving while a pass waits on the disk forms the next batch.
 *
 * Owns: the inbox and its limits, proposal and read waiters with their deadlines, the local
 * snapshot schedule. Must not: block the event loop for long, call the core between ready() and
 * advance(), acknowledge anything before it is durable.
 */
import { randomBytes } from 'node:crypto';

import { type Logger, type LogIndex, type NodeId, NO_NODE, type Term } from '../common/index.js';
import type { KvError, WriteResponse } from '../kv/index.js';
import {
  type ConfigurationChange,
  type ConfigurationState,
  type DropReason,
  type Entry,
  isJoint,
  memberIds,
  type HardState,
  type MemoryStorage,
  type Message,
  type RawNode,
  type Ready,
  type Snapshot,
  type SoftState,
  type Status,
} from '../raft/index.js';
import type { ReplicatedState } from './replicated-state.js';
import { ServerError } from './server-error.js';

/** The parts of DurableStorage the loop uses (a narrow port, so tests can pass their own). */
export interface LoopStorage {
  persist(request: {
    readonly snapshot?: Snapshot | undefined;
    readonly entries: readonly Entry[];
    readonly hardState?: HardState | undefined;
    readonly mustSync: boolean;
  }): Promise<void>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  shouldSnapshot(appliedIndex: LogIndex): boolean;
}

/** What the loop reports as it goes, for metrics and logs. Implementations must not throw. */
export interface LoopObserver {
  onSoftState(softState: SoftState, term: Term): void;
  onCommitIndex(commitIndex: LogIndex): void;
  onApplied(appliedIndex: LogIndex, entryCount: number): void;
  onProposalsFailed(count: number): void;
  onPendingProposals(count: number): void;
  onSnapshotSaved(seconds: number): void;
  /** `count` reads forwarded to the leader went unanswered and were sent again. */
  onReadRetried(count: number): void;
  onConfigurationApplied(configuration: ConfigurationState): void;
}

/** The outcome a proposer's caller receives. */
export type WriteOutcome =
  | { readonly kind: 'applied'; readonly response: WriteResponse | undefined; readonly term: Term }
  | { readonly kind: 'refused'; readonly error: KvError };

/** Construction options of {@link RaftLoop}. */
export interface RaftLoopOptions {
  readonly selfId: NodeId;
  readonly rawNode: RawNode;
  /** The core's in-memory log; the loop writes it after each persist. */
  readonly memoryStorage: MemoryStorage;
  readonly storage: LoopStorage;
  readonly state: ReplicatedState;
  /** Hands messages to the transport; never blocks. */
  readonly send: (messages: readonly Message[]) => void;
  readonly observer: LoopObserver;
  readonly logger: Logger;
  readonly tickIntervalMs: number;
  /** How long a caller waits for its write or read before `request timed out`. */
  readonly requestTimeoutMs: number;
  /** Proposals and reads waiting in the loop at once; more are refused with TOO_MANY_REQUESTS. */
  readonly pendingRequestsMax: number;
  /** Called (once) when the node learns it was removed from the cluster. */
  readonly onRemoved: () => void;
  /** Called when the loop cannot go on (a storage failure); the node must exit. */
  readonly onFatal: (error: unknown) => void;
}

interface ProposalWaiter {
  readonly data: Uint8Array;
  readonly resolve: (outcome: WriteOutcome) => void;
  readonly reject: (error: ServerError) => void;
  readonly timer: NodeJS.Timeout;
  /** False while held for a leader; true once the core took it (appended or forwarded). */
  isProposed: boolean;
}

interface ReadWaiter {
  readonly resolve: () => void;
  readonly reject: (error: ServerError) => void;
  readonly timer: NodeJS.Timeout;
  settled: boolean;
}

interface ReadRound {
  readonly waiters: ReadWaiter[];
  /** Set when the core confirmed the round; served once applied reaches it. */
  readIndex: LogIndex | null;
  /** Whether the request went to the leader as a message (which the network may lose). */
  readonly isForwarded: boolean;
  /** Ticks since the round started; a forwarded round unanswered for long is sent again. */
  ticksWaiting: number;
}

/**
 * Ticks a read forwarded to the leader may wait for its answer before it is asked again under a
 * new context: the request or its answer may have been dropped by a full peer queue or a
 * reconnecting stream, and nothing else would ever answer it (etcd retries after 500 ms too).
 */
const READ_RETRY_TICKS = 5;

interface ConfigurationWaiter {
  readonly change: ConfigurationChange;
  readonly resolve: (index: LogIndex) => void;
  readonly reject: (error: ServerError) => void;
  readonly timer: NodeJS.Timeout;
  /** Where the core appended it; null until proposed. */
  appended: { readonly index: LogIndex; readonly term: Term } | null;
}

type InboxItem =
  | { readonly kind: 'messages'; readonly messages: readonly Message[] }
  | { readonly kind: 'unreachable'; readonly peerId: NodeId }
  | { readonly kind: 'snapshotStatus'; readonly peerId: NodeId; readonly isSuccess: boolean }
  | { readonly kind: 'transfer'; readonly targetId: NodeId; readonly done: TransferCallback }
  | { readonly kind: 'campaign' }
  | { readonly kind: 'campaignIfLeaderless'; readonly term: Term };

type TransferCallback = (error: ServerError | null) => void;

/** The proposal drop reasons that clear up once a leader is known: hold and retry those. */
const RETRYABLE_DROPS: ReadonlySet<DropReason> = new Set([
  'noLeader',
  'leadershipTransferInProgress',
]);

/** The loop owning one member's consensus core. */
export class RaftLoop {
  private readonly options: RaftLoopOptions;
  private readonly rawNode: RawNode;
  private inbox: InboxItem[] = [];
  private pendingTicks = 0;
  /** Proposals by request number, in proposal order. */
  private readonly proposals = new Map<number, ProposalWaiter>();
  private heldProposalCount = 0;
  /**
   * Proposals and reads that arrived since the core last saw them. Only these make another pass
   * run at once; work the core refused for want of a leader waits for the next tick or message
   * (re-offering it in a tight loop would starve timers and I/O).
   */
  private isNewWorkWaiting = false;
  private nextRequestNumber = 1;
  /** Reads waiting to be sent in the next round. */
  private readBatch: ReadWaiter[] = [];
  private readonly readRounds = new Map<string, ReadRound>();
  /**
   * Read contexts must be unique across the cluster and across restarts: the leader keys its
   * pending reads by context, so a follower reusing another member's (or its own previous
   * life's) context would never be answered, or be answered with an older read index.
   */
  private readonly readContextPrefix: string;
  private nextReadRound = 1;
  private readonly configurationWaiters: ConfigurationWaiter[] = [];
  private isPassScheduled = false;
  private isPassRunning = false;
  private isStopped = false;
  private isSnapshotSaving = false;
  private ticker: NodeJS.Timeout | undefined;
  private appliedIndex: LogIndex;
  private lastSoftState: SoftState;
  private configuration: ConfigurationState;
  private isRemovedReported = false;
  /** Whether a configuration including this member has been in force here. */
  private wasMember = false;
  private passStartedAt = performance.now();
  /** Resolves when the loop is idle; used by stop(). */
  private idleWaiters: (() => void)[] = [];

  constructor(options: RaftLoopOptions) {
    this.options = options;
    this.rawNode = options.rawNode;
    const status = this.rawNode.status();
    this.appliedIndex = status.appliedIndex;
    this.lastSoftState = { leaderId: status.leaderId, role: status.role };
    this.configuration = status.configuration;
    this.wasMember = memberIds(status.configuration).includes(options.selfId);
    this.readContextPrefix = `${options.selfId}.${randomBytes(6).toString('hex')}.`;
  }

  /** Starts ticking. */
  start(): void {
    this.ticker = setInterval(() => {
      this.pendingTicks++;
      this.schedulePass();
    }, this.options.tickIntervalMs);
    this.schedulePass();
  }

  /** A fresh request number for an envelope this member proposes. */
  allocateRequestNumber(): number {
    return this.nextRequestNumber++;
  }

  /** The core's status now (safe at any time: it only reads). */
  status(): Status {
    return this.rawNode.status();
  }

  /** When the last pass started (performance.now() milliseconds), for the liveness check. */
  lastPassStartedAt(): number {
    return this.isPassRunning || this.isPassScheduled ? this.passStartedAt : performance.now();
  }

  /** The index the state machine has applied. */
  applied(): LogIndex {
    return this.appliedIndex;
  }

  /** Peer messages from the transport. */
  receive(messages: readonly Message[]): void {
    if (this.isStopped) return;
    this.inbox.push({ kind: 'messages', messages });
    this.schedulePass();
  }

  /** The transport could not reach `peerId`. */
  reportUnreachable(peerId: NodeId): void {
    this.inbox.push({ kind: 'unreachable', peerId });
    this.schedulePass();
  }

  /** The transport finished sending a snapshot to `peerId`. */
  reportSnapshotStatus(peerId: NodeId, isSuccess: boolean): void {
    this.inbox.push({ kind: 'snapshotStatus', peerId, isSuccess });
    this.schedulePass();
  }

  /** Asks the core to campaign now (used after a leader hands over on shutdown). */
  campaign(): void {
    this.inbox.push({ kind: 'campaign' });
    this.schedulePass();
  }

  /**
   * Proposes an envelope built with {@link allocateRequestNumber}'s number; resolves when the
   * entry is applied on this member. Held (not failed) while there is no leader, up to the
   * request timeout.
   */
  propose(requestNumber: number, data: Uint8Array): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      const refusal = this.admissionRefusal();
      if (refusal !== null) {
        reject(refusal);
        return;
      }
      const timer = setTimeout(
        () => this.failProposal(requestNumber, timeoutError()),
        this.options.requestTimeoutMs,
      );
      this.proposals.set(requestNumber, { data, resolve, reject, timer, isProposed: false });
      this.heldProposalCount++;
      this.isNewWorkWaiting = true;
      this.options.observer.onPendingProposals(this.proposals.size);
      this.schedulePass();
    });
  }

  /** Resolves once a linearizable read may be served from the local state machine. */
  readBarrier(): Promise<void> {
    return new Promise((resolve, reject) => {
      const refusal = this.admissionRefusal();
      if (refusal !== null) {
        reject(refusal);
        return;
      }
      const waiter: ReadWaiter = {
        resolve,
        reject,
        settled: false,
        timer: setTimeout(() => settleRead(waiter, timeoutError()), this.options.requestTimeoutMs),
      };
      this.readBatch.push(waiter);
      this.isNewWorkWaiting = true;
      this.schedulePass();
    });
  }

  /**
   * Proposes a membership change on the leader; resolves with its index once applied. Refused
   * at once on a follower (the Cluster service forwards to the leader).
   */
  proposeConfigurationChange(change: ConfigurationChange): Promise<LogIndex> {
    return new Promise((resolve, reject) => {
      if (this.isStopped) {
        reject(new ServerError('STOPPING', 'etcdserver: server stopped'));
        return;
      }
      const waiter: ConfigurationWaiter = {
        change,
        resolve,
        reject,
        appended: null,
        timer: setTimeout(() => {
          this.removeConfigurationWaiter(waiter);
          reject(timeoutError());
        }, this.options.requestTimeoutMs),
      };
      this.configurationWaiters.push(waiter);
      this.schedulePass();
    });
  }

  /** Starts a leadership transfer; the callback reports whether the core accepted it. */
  transferLeadership(targetId: NodeId): Promise<void> {
    return new Promise((resolve, reject) => {
      this.inbox.push({
        kind: 'transfer',
        targetId,
        done: (error) => (error === null ? resolve() : reject(error)),
      });
      this.schedulePass();
    });
  }

  /** Stops ticking, fails every waiting caller and waits for the pass in progress to end. */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    clearInterval(this.ticker);
    if (this.isPassRunning || this.isPassScheduled) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    const stopped = new ServerError('STOPPING', 'etcdserver: server stopped');
    for (const requestNumber of [...this.proposals.keys()]) {
      this.failProposal(requestNumber, stopped);
    }
    for (const waiter of this.readBatch) settleRead(waiter, stopped);
    for (const round of this.readRounds.values()) {
      for (const waiter of round.waiters) settleRead(waiter, stopped);
    }
    for (const waiter of [...this.configurationWaiters]) {
      clearTimeout(waiter.timer);
      waiter.reject(stopped);
    }
    this.configurationWaiters.length = 0;
  }

  /**
   * The leader's connection broke (its process is likely gone): campaign soon instead of after
   * a whole election timeout. The survivors take turns by rank (their position among the other
   * voters, one tick apart, plus up to half a tick of jitter): two survivors that campaigned at
   * once would split the vote and then wait a whole randomized election timeout
   * (bench:failover measured 1.5 s for such a kill with purely random delays).
   */
  private scheduleEarlyCampaign(lostLeaderId: NodeId): void {
    const voters = this.rawNode
      .status()
      .configuration.voters.filter((id) => id !== lostLeaderId)
      .sort((a, b) => a - b);
    const rank = Math.max(0, voters.indexOf(this.options.selfId));
    const tickMs = this.options.tickIntervalMs;
    const delayMs = rank * tickMs + Math.random() * (tickMs / 2);
    const term = this.rawNode.status().term;
    const timer = setTimeout(() => {
      this.inbox.push({ kind: 'campaignIfLeaderless', term });
      this.schedulePass();
    }, delayMs);
    timer.unref();
  }

  private admissionRefusal(): ServerError | null {
    if (this.isStopped) return new ServerError('STOPPING', 'etcdserver: server stopped');
    if (this.proposals.size + this.readBatch.length >= this.options.pendingRequestsMax) {
      return new ServerError('TOO_MANY_REQUESTS', 'etcdserver: too many requests');
    }
    return null;
  }

  private schedulePass(): void {
    if (this.isPassScheduled || this.isPassRunning) return;
    this.isPassScheduled = true;
    setImmediate(() => {
      this.isPassScheduled = false;
      void this.runPasses();
    });
  }

  private async runPasses(): Promise<void> {
    if (this.isPassRunning) return;
    this.isPassRunning = true;
    this.passStartedAt = performance.now();
    try {
      do {
        if (!this.isStopped) this.drainInbox();
        while (this.rawNode.hasReady()) {
          await this.handleReady(this.rawNode.ready());
        }
        this.maybeSnapshot();
      } while (!this.isStopped && this.hasInput());
    } catch (error) {
      this.isStopped = true;
      clearInterval(this.ticker);
      this.options.onFatal(error);
    } finally {
      this.isPassRunning = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private hasInput(): boolean {
    return (
      this.inbox.length > 0 ||
      this.pendingTicks > 0 ||
      this.isNewWorkWaiting ||
      this.configurationWaiters.some((waiter) => waiter.appended === null)
    );
  }

  /** Feeds everything waiting into the core, ticks and peer messages first. */
  private drainInbox(): void {
    const rawNode = this.rawNode;
    if (this.pendingTicks > 0) this.retryUnansweredReads(this.pendingTicks);
    for (; this.pendingTicks > 0; this.pendingTicks--) rawNode.tick();
    const inbox = this.inbox;
    this.inbox = [];
    for (const item of inbox) {
      switch (item.kind) {
        case 'messages':
          for (const message of item.messages) rawNode.step(message);
          break;
        case 'unreachable':
          rawNode.reportUnreachable(item.peerId);
          if (rawNode.reportLeaderLost(item.peerId)) this.scheduleEarlyCampaign(item.peerId);
          break;
        case 'campaignIfLeaderless': {
          // Only if no one else started an election meanwhile (the term would have moved):
          // a second campaign would disrupt the first and cost a whole election timeout.
          const status = rawNode.status();
          const isStillLeaderless = status.role === 'follower' && status.leaderId === NO_NODE;
          if (isStillLeaderless && status.term === item.term) rawNode.campaign();
          break;
        }
        case 'snapshotStatus':
          rawNode.reportSnapshotStatus(item.peerId, item.isSuccess);
          break;
        case 'campaign':
          rawNode.campaign();
          break;
        case 'transfer':
          item.done(transferError(rawNode.transferLeadership(item.targetId)));
          break;
      }
    }
    this.isNewWorkWaiting = false;
    this.proposeHeld();
    this.proposeConfigurationChanges();
    this.startReadRound();
  }

  /** Hands held proposals to the core, in order, until it drops one it may take later. */
  private proposeHeld(): void {
    if (this.heldProposalCount === 0) return;
    for (const [requestNumber, waiter] of this.proposals) {
      if (waiter.isProposed) continue;
      const result = this.rawNode.propose(waiter.data);
      if (result.kind === 'dropped') {
        if (RETRYABLE_DROPS.has(result.reason)) return;
        this.failProposal(requestNumber, dropError(result.reason));
        continue;
      }
      waiter.isProposed = true;
      this.heldProposalCount--;
    }
  }

  private proposeConfigurationChanges(): void {
    for (const waiter of [...this.configurationWaiters]) {
      if (waiter.appended !== null) continue;
      const result = this.rawNode.proposeConfChange(waiter.change);
      if (result.kind === 'appended') {
        waiter.appended = { index: result.index, term: result.term };
        continue;
      }
      this.removeConfigurationWaiter(waiter);
      clearTimeout(waiter.timer);
      waiter.reject(
        result.kind === 'forwarded'
          ? new ServerError('NOT_LEADER', 'etcdserver: not leader')
          : dropError(result.reason),
      );
    }
  }

  /** Starts one ReadIndex round for every read that arrived since the last one. */
  private startReadRound(): void {
    const waiters = this.readBatch.filter((waiter) => !waiter.settled);
    this.readBatch = [];
    if (waiters.length === 0) return;
    const readContext = `${this.readContextPrefix}${this.nextReadRound++}`;
    const result = this.rawNode.readIndex(readContext);
    if (result.kind === 'dropped') {
      if (RETRYABLE_DROPS.has(result.reason)) {
        // Wait for a leader: these reads go into the next round.
        this.readBatch = waiters;
        return;
      }
      for (const waiter of waiters) settleRead(waiter, dropError(result.reason));
      return;
    }
    this.readRounds.set(readContext, {
      waiters,
      readIndex: null,
      isForwarded: result.kind === 'forwarded',
      ticksWaiting: 0,
    });
  }

  /** Puts reads whose forwarded request went unanswered for too long into the next round. */
  private retryUnansweredReads(ticks: number): void {
    for (const [readContext, round] of this.readRounds) {
      if (!round.isForwarded || round.readIndex !== null) continue;
      round.ticksWaiting += ticks;
      if (round.ticksWaiting < READ_RETRY_TICKS) continue;
      this.readRounds.delete(readContext);
      const waiting = round.waiters.filter((waiter) => !waiter.settled);
      if (waiting.length === 0) continue;
      this.readBatch.push(...waiting);
      this.isNewWorkWaiting = true;
      this.options.observer.onReadRetried(waiting.length);
    }
  }

  private async handleReady(ready: Ready): Promise<void> {
    const { snapshot, entries, hardState } = ready;
    // A leader's own messages promise nothing about its disk, so they may go out while it
    // writes (Raft thesis §10.2.1): follower and leader writes then overlap. It counts itself
    // toward a commit only in a later pass, after this write is durable, because the loop
    // handles acknowledgements only once this pass is over.
    const isSentEarly = ready.messages.length > 0 && ready.messages.every(isLeaderMessage);
    if (isSentEarly) this.options.send(ready.messages);
    if (snapshot !== null || entries.length > 0 || hardState !== null) {
      await this.options.storage.persist({
        snapshot: snapshot ?? undefined,
        entries,
        hardState: hardState ?? undefined,
        mustSync: ready.mustSync,
      });
      const memoryStorage = this.options.memoryStorage;
      if (snapshot !== null) {
        memoryStorage.applySnapshot(snapshot);
        this.options.state.restore(snapshot.data);
        this.appliedIndex = snapshot.metadata.index;
        this.options.logger.info(
          { index: snapshot.metadata.index, term: snapshot.metadata.term },
          'installed snapshot from leader',
        );
      }
      memoryStorage.append(entries);
      if (hardState !== null) {
        memoryStorage.setHardState(hardState);
        this.options.observer.onCommitIndex(hardState.commitIndex);
      }
    }
    if (!isSentEarly && ready.messages.length > 0) this.options.send(ready.messages);
    this.applyCommitted(ready.committedEntries);
    for (const readState of ready.readStates) {
      const round = this.readRounds.get(readState.readContext);
      if (round !== undefined) round.readIndex = readState.index;
    }
    this.serveReads();
    this.rawNode.advance();
    this.afterAdvance(ready);
  }

  private applyCommitted(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const selfId = this.options.selfId;
    let failedCount = 0;
    for (const entry of entries) {
      if (entry.kind === 'normal') {
        const outcome = this.options.state.apply(entry.data);
        if (outcome.kind === 'unreadable') {
          this.options.logger.error(
            { index: entry.index, detail: outcome.detail },
            'skipped an unreadable committed entry',
          );
        } else if (outcome.kind !== 'noop' && outcome.originId === selfId) {
          const waiter = this.proposals.get(outcome.requestNumber);
          if (waiter !== undefined) {
            this.forgetProposal(outcome.requestNumber, waiter);
            if (outcome.kind === 'applied') {
              waiter.resolve({ kind: 'applied', response: outcome.response, term: entry.term });
            } else {
              failedCount++;
              waiter.resolve({ kind: 'refused', error: outcome.error });
            }
          }
        }
      } else {
        this.resolveConfigurationWaiters(entry);
      }
      this.appliedIndex = entry.index;
    }
    if (failedCount > 0) this.options.observer.onProposalsFailed(failedCount);
    this.options.observer.onApplied(this.appliedIndex, entries.length);
  }

  private resolveConfigurationWaiters(entry: Entry): void {
    for (const waiter of [...this.configurationWaiters]) {
      const appended = waiter.appended;
      if (appended === null || appended.index !== entry.index) continue;
      this.removeConfigurationWaiter(waiter);
      clearTimeout(waiter.timer);
      if (appended.term === entry.term) waiter.resolve(entry.index);
      else waiter.reject(new ServerError('PROPOSAL_LOST', 'etcdserver: leader changed'));
    }
  }

  /** Serves confirmed read rounds the state machine has caught up with. */
  private serveReads(): void {
    for (const [readContext, round] of this.readRounds) {
      if (round.readIndex === null || round.readIndex > this.appliedIndex) continue;
      this.readRounds.delete(readContext);
      for (const waiter of round.waiters) settleRead(waiter, null);
    }
  }

  private afterAdvance(ready: Ready): void {
    const status = this.rawNode.status();
    if (ready.softState !== null) this.onSoftStateChange(ready.softState, status.term);
    if (status.configuration !== this.configuration) {
      this.forgetRemovedMembers(this.configuration, status.configuration);
      this.configuration = status.configuration;
      this.options.observer.onConfigurationApplied(status.configuration);
      this.checkRemoved(status);
    }
    this.serveReads();
  }

  /**
   * Deletes the registry records of members the applied configuration no longer holds, once no
   * joint configuration needs them. Every member applies the same configuration entries, so the
   * registry stays identical everywhere; a removed member's peer URL becomes free at once.
   */
  private forgetRemovedMembers(previous: ConfigurationState, next: ConfigurationState): void {
    if (isJoint(next)) return;
    const remaining = new Set(memberIds(next));
    for (const id of memberIds(previous)) {
      if (!remaining.has(id)) this.options.state.members.delete(id);
    }
  }

  private onSoftStateChange(softState: SoftState, term: Term): void {
    const previous = this.lastSoftState;
    this.lastSoftState = softState;
    this.options.observer.onSoftState(softState, term);
    if (previous.leaderId === softState.leaderId) return;
    // Held proposals and reads can go to the new leader now.
    if (softState.leaderId !== NO_NODE) this.isNewWorkWaiting = true;
    // Reads sent to a leader that is gone would never be confirmed; reads are idempotent, so
    // send them again to the new leader.
    for (const [readContext, round] of this.readRounds) {
      if (round.readIndex !== null) continue;
      this.readRounds.delete(readContext);
      this.readBatch.push(...round.waiters.filter((waiter) => !waiter.settled));
    }
  }

  /**
   * Reports the removal of this member once a configuration without it is applied after one
   * with it. A member being added first installs a snapshot older than its own addition (a
   * configuration without it), which is not a removal.
   */
  private checkRemoved(status: Status): void {
    const isMember = memberIds(status.configuration).includes(this.options.selfId);
    if (isMember) {
      this.wasMember = true;
      return;
    }
    if (!this.wasMember || this.isRemovedReported) return;
    this.isRemovedReported = true;
    this.options.onRemoved();
  }

  /** Takes a local snapshot when the storage's thresholds say so (one at a time). */
  private maybeSnapshot(): void {
    const storage = this.options.storage;
    if (this.isSnapshotSaving || !storage.shouldSnapshot(this.appliedIndex)) return;
    if (this.appliedIndex < this.options.memoryStorage.firstIndex()) return;
    this.isSnapshotSaving = true;
    const started = performance.now();
    const snapshot = this.options.memoryStorage.createSnapshot(
      this.appliedIndex,
      this.configuration,
      this.options.state.snapshot(),
    );
    storage.saveSnapshot(snapshot).then(
      () => {
        this.isSnapshotSaving = false;
        this.options.observer.onSnapshotSaved((performance.now() - started) / 1000);
      },
      (error: unknown) => this.options.onFatal(error),
    );
  }

  private failProposal(requestNumber: number, error: ServerError): void {
    const waiter = this.proposals.get(requestNumber);
    if (waiter === undefined) return;
    this.forgetProposal(requestNumber, waiter);
    this.options.observer.onProposalsFailed(1);
    waiter.reject(error);
  }

  private forgetProposal(requestNumber: number, waiter: ProposalWaiter): void {
    clearTimeout(waiter.timer);
    this.proposals.delete(requestNumber);
    if (!waiter.isProposed) this.heldProposalCount--;
    this.options.observer.onPendingProposals(this.proposals.size);
  }

  private removeConfigurationWaiter(waiter: ConfigurationWaiter): void {
    const position = this.configurationWaiters.indexOf(waiter);
    if (position >= 0) this.configurationWaiters.splice(position, 1);
  }
}

/** Messages only a leader sends; none of them acknowledges anything this member persisted. */
function isLeaderMessage(message: Message): boolean {
  switch (message.kind) {
    case 'appendRequest':
    case 'heartbeatRequest':
    case 'installSnapshotRequest':
    case 'timeoutNowRequest':
    case 'readIndexResponse':
      return true;
    default:
      return false;
  }
}

function settleRead(waiter: ReadWaiter, error: ServerError | null): void {
  if (waiter.settled) return;
  waiter.settled = true;
  clearTimeout(waiter.timer);
  if (error === null) waiter.resolve();
  else waiter.reject(error);
}

function timeoutError(): ServerError {
  return new ServerError('REQUEST_TIMEOUT', 'etcdserver: request timed out');
}

/** The error a caller sees for a proposal or read the core refused. */
export function dropError(reason: DropReason): ServerError {
  switch (reason) {
    case 'noLeader':
    case 'notMember':
      return new ServerError('NO_LEADER', 'etcdserver: no leader');
    case 'notLeader':
      return new ServerError('NOT_LEADER', 'etcdserver: not leader');
    case 'leadershipTransferInProgress':
      return new ServerError('LEADERSHIP_TRANSFER', 'etcdserver: leader changed');
    case 'configurationChangeInProgress':
      return new ServerError(
        'CONFIGURATION_CHANGE_IN_PROGRESS',
        'etcdserver: unhealthy cluster (a membership change is still in progress)',
      );
    case 'invalidConfigurationChange':
      return new ServerError(
        'INVALID_CONFIGURATION_CHANGE',
        'etcdserver: invalid membership change',
      );
    case 'uncommittedBytesLimit':
    case 'pendingReadRequestsLimit':
      return new ServerError('TOO_MANY_REQUESTS', 'etcdserver: too many requests');
  }
}

function transferError(result: ReturnType<RawNode['transferLeadership']>): ServerError | null {
  if (result.kind === 'started') return null;
  switch (result.reason) {
    case 'notLeader':
      return new ServerError('NOT_LEADER', 'etcdserver: not leader');
    case 'targetNotVoter':
      return new ServerError('BAD_LEADER_TRANSFEREE', 'etcdserver: bad leader transferee');
    case 'alreadyLeader':
      return null;
    case 'transferInProgress':
      return new ServerError('LEADERSHIP_TRANSFER', 'etcdserver: leader changed');
  }
}
