/**
 * Three (or more) RaftLoops wired together in one process: in-memory storage, messages passed
 * on the next event-loop turn, a fast ticker. For testing the loop's behaviour (batching,
 * waiters, reads, membership) without sockets or disks.
 */
import { type NodeId, SILENT_LOGGER } from '../../src/common/index.js';
import { encodeCommand, type WriteRequest } from '../../src/kv/index.js';
import {
  createPrng,
  EMPTY_CONFIGURATION,
  MemoryStorage,
  type Message,
  RawNode,
} from '../../src/raft/index.js';
import { encodeEnvelope } from '../../src/server/entry-envelope.js';
import { type LoopObserver, RaftLoop, type WriteOutcome } from '../../src/server/raft-loop.js';
import { ReplicatedState } from '../../src/server/replicated-state.js';

const SILENT_OBSERVER: LoopObserver = {
  onSoftState: () => undefined,
  onCommitIndex: () => undefined,
  onApplied: () => undefined,
  onProposalsFailed: () => undefined,
  onPendingProposals: () => undefined,
  onSnapshotSaved: () => undefined,
  onReadRetried: () => undefined,
  onConfigurationApplied: () => undefined,
};

export interface LoopMember {
  readonly id: NodeId;
  readonly loop: RaftLoop;
  readonly state: ReplicatedState;
  readonly persistCount: { value: number };
  isDisconnected: boolean;
}

export class LoopCluster {
  readonly members = new Map<NodeId, LoopMember>();
  /** Messages for which this returns true are lost (as a full peer queue would lose them). */
  isLost: (message: Message) => boolean = () => false;

  constructor(ids: readonly NodeId[], options: { requestTimeoutMs?: number } = {}) {
    const configuration = { ...EMPTY_CONFIGURATION, voters: [...ids] };
    for (const id of ids) {
      const memoryStorage = new MemoryStorage();
      memoryStorage.bootstrap(configuration);
      const state = new ReplicatedState({});
      const persistCount = { value: 0 };
      const rawNode = RawNode.create({
        id,
        storage: memoryStorage,
        prng: createPrng(id * 7919),
        electionTimeoutTicks: 10,
        heartbeatIntervalTicks: 1,
      });
      const loop = new RaftLoop({
        selfId: id,
        rawNode,
        memoryStorage,
        storage: {
          persist: () => {
            persistCount.value++;
            return new Promise((resolve) => setImmediate(resolve));
          },
          saveSnapshot: () => Promise.resolve(),
          shouldSnapshot: () => false,
        },
        state,
        send: (messages) => this.deliver(id, messages),
        observer: SILENT_OBSERVER,
        logger: SILENT_LOGGER,
        tickIntervalMs: 5,
        requestTimeoutMs: options.requestTimeoutMs ?? 5000,
        pendingRequestsMax: 100_000,
        onRemoved: () => undefined,
        onFatal: (error) => {
          throw error;
        },
      });
      this.members.set(id, { id, loop, state, persistCount, isDisconnected: false });
    }
  }

  start(): void {
    for (const member of this.members.values()) member.loop.start();
  }

  async stop(): Promise<void> {
    for (const member of this.members.values()) await member.loop.stop();
  }

  member(id: NodeId): LoopMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    return member;
  }

  /** Waits until one member leads and every member knows it; returns its id. */
  async waitForLeader(timeoutMs = 5000): Promise<NodeId> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = [...this.members.values()]
        .filter((member) => !member.isDisconnected)
        .map((member) => member.loop.status());
      const leader = statuses.find((status) => status.role === 'leader');
      if (leader !== undefined && statuses.every((status) => status.leaderId === leader.id)) {
        return leader.id;
      }
      if (Date.now() > deadline) throw new Error('no leader elected');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Proposes a kv write through member `id`. */
  write(id: NodeId, request: WriteRequest): Promise<WriteOutcome> {
    const loop = this.member(id).loop;
    const requestNumber = loop.allocateRequestNumber();
    const data = encodeEnvelope({
      kind: 'kvWrite',
      originId: id,
      requestNumber,
      session: undefined,
      command: encodeCommand(request),
    });
    return loop.propose(requestNumber, data);
  }

  private deliver(from: NodeId, messages: readonly Message[]): void {
    const byTarget = new Map<NodeId, Message[]>();
    for (const message of messages) {
      if (this.isLost(message)) continue;
      const list = byTarget.get(message.to) ?? [];
      list.push(message);
      byTarget.set(message.to, list);
    }
    setImmediate(() => {
      if (this.members.get(from)?.isDisconnected === true) return;
      for (const [to, list] of byTarget) {
        const target = this.members.get(to);
        if (target === undefined || target.isDisconnected) continue;
        target.loop.receive(list);
      }
    });
  }
}
