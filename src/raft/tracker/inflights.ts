/**
 * The window of append requests in flight to one follower: a bounded FIFO ring buffer recording,
 * per message, the last log index it carries and its size in bytes. It owns only that window and
 * its limits; it must not decide what to send or interpret acknowledgements beyond freeing.
 */
import { assert, type LogIndex } from '../../common/index.js';

/** The ring buffer starts this small and doubles up to `messagesMax`, since most are idle. */
const INFLIGHTS_CAPACITY_INITIAL = 8;

/**
 * A bounded FIFO of in-flight append requests to one follower (flow control, as in etcd's
 * tracker). The leader adds one record per append request it sends in replicate state and frees
 * records as the follower acknowledges indexes.
 *
 * Invariants: `count() <= messagesMax`; buffered last indexes increase strictly from oldest to
 * newest; `sizeBytes()` is the sum of the buffered sizes.
 */
export class Inflights {
  /** Most messages in flight at once; at least 1. */
  private readonly messagesMax: number;
  /** Most bytes in flight at once; 0 means no byte limit. */
  private readonly bytesMax: number;
  /** Position of the oldest record in the ring. */
  private start = 0;
  /** Number of buffered records. */
  private bufferedCount = 0;
  /** Sum of the buffered records' sizes. */
  private bufferedBytes = 0;
  /** Last log index of each record, by ring position. */
  private lastIndexes: Float64Array;
  /** Size in bytes of each record, by ring position. */
  private sizes: Float64Array;

  /**
   * Creates an empty window allowing `messagesMax` messages (>= 1) and `bytesMax` bytes
   * (0 for no byte limit).
   */
  constructor(messagesMax: number, bytesMax: number) {
    assert(
      Number.isSafeInteger(messagesMax) && messagesMax >= 1,
      () => `inflights: messagesMax must be a positive integer, got ${messagesMax}`,
    );
    assert(
      Number.isSafeInteger(bytesMax) && bytesMax >= 0,
      () => `inflights: bytesMax must be a non-negative integer, got ${bytesMax}`,
    );
    this.messagesMax = messagesMax;
    this.bytesMax = bytesMax;
    const capacity = Math.min(messagesMax, INFLIGHTS_CAPACITY_INITIAL);
    this.lastIndexes = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  /**
   * Records an append request carrying entries up to `lastIndex`, `sizeBytes` bytes in all.
   * The caller must check {@link isFull} first, and `lastIndex` must exceed the newest buffered
   * record's, because requests in replicate state cover consecutive ranges of the log.
   */
  add(lastIndex: LogIndex, sizeBytes: number): void {
    assert(!this.isFull(), 'inflights: add while full');
    assert(
      Number.isSafeInteger(sizeBytes) && sizeBytes >= 0,
      () => `inflights: size must be a non-negative integer, got ${sizeBytes}`,
    );
    if (this.bufferedCount > 0) {
      const newestIndex = this.lastIndexes[this.position(this.bufferedCount - 1)] as number;
      assert(
        lastIndex > newestIndex,
        () => `inflights: lastIndex ${lastIndex} not above newest ${newestIndex}`,
      );
    }
    if (this.bufferedCount === this.lastIndexes.length) {
      this.grow();
    }
    const position = this.position(this.bufferedCount);
    this.lastIndexes[position] = lastIndex;
    this.sizes[position] = sizeBytes;
    this.bufferedCount++;
    this.bufferedBytes += sizeBytes;
  }

  /** Frees every record whose last index is <= `index`: the follower holds those entries. */
  freeUpTo(index: LogIndex): void {
    while (this.bufferedCount > 0) {
      const oldestIndex = this.lastIndexes[this.start] as number;
      if (oldestIndex > index) {
        break;
      }
      this.bufferedBytes -= this.sizes[this.start] as number;
      this.bufferedCount--;
      this.start = this.start + 1 === this.lastIndexes.length ? 0 : this.start + 1;
    }
    if (this.bufferedCount === 0) {
      this.start = 0; // keeps the ring contiguous for the next burst
    }
  }

  /**
   * Frees the oldest record. The leader does this when a heartbeat answer shows the follower is
   * alive while the window is full: the oldest request was probably lost, and one more request
   * (which the follower rejects if it has a gap) restarts replication.
   */
  freeFirst(): void {
    const oldestIndex = this.lastIndexes[this.start];
    if (this.bufferedCount > 0 && oldestIndex !== undefined) this.freeUpTo(oldestIndex);
  }

  /** Whether no more requests may be sent: the message count or the byte limit is reached. */
  isFull(): boolean {
    return (
      this.bufferedCount === this.messagesMax ||
      (this.bytesMax !== 0 && this.bufferedBytes >= this.bytesMax)
    );
  }

  /** The number of requests in flight. */
  count(): number {
    return this.bufferedCount;
  }

  /** The total size in bytes of the requests in flight. */
  sizeBytes(): number {
    return this.bufferedBytes;
  }

  /** Forgets every record, keeping the limits (on a change of replication state). */
  reset(): void {
    this.start = 0;
    this.bufferedCount = 0;
    this.bufferedBytes = 0;
  }

  /** Ring position of the record `offset` places after the oldest. */
  private position(offset: number): number {
    const position = this.start + offset;
    const capacity = this.lastIndexes.length;
    return position >= capacity ? position - capacity : position;
  }

  /** Doubles the ring (up to `messagesMax`), unrolling it so the oldest record is first. */
  private grow(): void {
    const capacity = Math.min(this.lastIndexes.length * 2, this.messagesMax);
    assert(capacity > this.lastIndexes.length, 'inflights: grow beyond messagesMax');
    const lastIndexes = new Float64Array(capacity);
    const sizes = new Float64Array(capacity);
    for (let offset = 0; offset < this.bufferedCount; offset++) {
      const position = this.position(offset);
      lastIndexes[offset] = this.lastIndexes[position] as number;
      sizes[offset] = this.sizes[position] as number;
    }
    this.lastIndexes = lastIndexes;
    this.sizes = sizes;
    this.start = 0;
  }
}
