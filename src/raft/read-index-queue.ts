/**
 * The leader's pending ReadIndex requests (thesis §6.4): each records the commit index at the
 * time it arrived and the heartbeat acknowledgements that confirm the leader was still leader
 * then. Once a quorum acknowledged a request, it and every earlier request are safe to serve.
 * Owns no I/O; bounded by a limit the caller enforces.
 */
import { assert, type LogIndex, type NodeId } from '../common/index.js';

/** One read waiting for leadership confirmation. */
export interface PendingRead {
  readonly readContext: string;
  readonly readIndex: LogIndex;
  /** Who asked: the leader itself or the follower that forwarded it. */
  readonly requesterId: NodeId;
  /** Who confirmed leadership for this read (always true), in the shape quorums read. */
  readonly acknowledgements: Map<NodeId, boolean>;
}

/** FIFO of pending reads keyed by their unique context. */
export class ReadIndexQueue {
  private readonly queue: PendingRead[] = [];
  private readonly byContext = new Map<string, PendingRead>();

  get size(): number {
    return this.queue.length;
  }

  has(readContext: string): boolean {
    return this.byContext.has(readContext);
  }

  /** Adds a read; the caller checks `has` first (contexts are unique). */
  add(readContext: string, readIndex: LogIndex, requesterId: NodeId, selfId: NodeId): void {
    assert(!this.byContext.has(readContext), 'duplicate read context');
    const read: PendingRead = {
      readContext,
      readIndex,
      requesterId,
      acknowledgements: new Map([[selfId, true]]),
    };
    this.queue.push(read);
    this.byContext.set(readContext, read);
  }

  /** Records a heartbeat acknowledgement; returns all acknowledgements, or null if unknown. */
  acknowledge(readContext: string, fromId: NodeId): ReadonlyMap<NodeId, boolean> | null {
    const read = this.byContext.get(readContext);
    if (read === undefined) return null;
    read.acknowledgements.set(fromId, true);
    return read.acknowledgements;
  }

  /** Removes and returns every read up to and including `readContext`, oldest first. */
  releaseThrough(readContext: string): PendingRead[] {
    const position = this.queue.findIndex((read) => read.readContext === readContext);
    if (position < 0) return [];
    const released = this.queue.splice(0, position + 1);
    for (const read of released) this.byContext.delete(read.readContext);
    return released;
  }

  /** The newest pending context, carried by the next heartbeat round. */
  lastContext(): string | null {
    return this.queue[this.queue.length - 1]?.readContext ?? null;
  }

  clear(): void {
    this.queue.length = 0;
    this.byContext.clear();
  }
}
