/**
 * Appends to the write-ahead log with group commit: every append waiting while a write is in
 * flight joins the next write, and that write is followed by at most one fdatasync. Segments
 * rotate at a target size; the next one is preallocated with zeros in the background so that
 * fdatasync has no file-size metadata to flush.
 *
 * Failure is final (DESIGN.md §5): the first failed or short write, failed sync, rename or
 * directory sync makes the writer refuse everything after it, rejects every waiting append with
 * a {@link StorageFatalError} and reports it through `onFatal`. Nothing is retried, and nothing
 * is acknowledged that did not reach stable storage.
 */
import { performance } from 'node:perf_hooks';

import { assert, type Logger } from '../common/index.js';
import type { Entry, HardState } from '../raft/index.js';
import type { FileDescriptor, FileSystem } from './file-system.js';
import { SegmentCreation } from './segment-creation.js';
import {
  entryPayloadBytes,
  HARD_STATE_PAYLOAD_BYTES,
  SNAPSHOT_MARKER_PAYLOAD_BYTES,
  writeEntryPayload,
  writeHardStatePayload,
  writeSnapshotMarkerPayload,
} from './record-payload.js';
import { EntryTooLargeError, StorageFatalError } from './storage-errors.js';
import type { StorageIdentity } from './storage-identity.js';
import type { StorageObserver } from './storage-observer.js';
import {
  encodeSegmentHeader,
  RECORD_HEADER_BYTES,
  RECORD_PAYLOAD_BYTES_MAX,
  recordBytes,
  RecordType,
  SEGMENT_HEADER_BYTES,
  sealRecord,
} from './wal-format.js';
import type { RecoveredWal, SnapshotMarker } from './wal-recovery.js';

/** One append: what a Ready asks to persist (the snapshot file itself is written elsewhere). */
export interface WalAppend {
  readonly entries: readonly Entry[];
  readonly hardState?: HardState | undefined;
  /** Written after the hard state and before the entries. */
  readonly snapshotMarker?: SnapshotMarker | undefined;
  /** Whether the append may be acknowledged only once it is on stable storage. */
  readonly mustSync: boolean;
}

export interface WalWriterOptions {
  readonly fileSystem: FileSystem;
  readonly directory: string;
  readonly identity: StorageIdentity;
  readonly logger: Logger;
  readonly observer: StorageObserver;
  /** A segment is closed once the next write would take it past this size. */
  readonly segmentBytesTarget: number;
  /** Whether new segments are zero-filled to the target size before use. */
  readonly isPreallocationEnabled: boolean;
  /** Appends wait (back-pressure) while this many bytes are already waiting. */
  readonly pendingBytesMax: number;
  /** Most bytes one write may carry; more waiting appends go into the next write. */
  readonly writeBytesMax: number;
  /** Called once, with the first fatal error. */
  readonly onFatal: (error: StorageFatalError) => void;
}

interface PendingAppend {
  readonly append: WalAppend;
  readonly bytes: number;
  /** Called with the sequence of the segment the records were written to. */
  readonly resolve: (sequence: number) => void;
  readonly reject: (error: Error) => void;
}

interface ActiveSegment {
  readonly sequence: number;
  readonly file: string;
  readonly fd: FileDescriptor;
  positionBytes: number;
  entryIndexMax: number;
  /** True until the segment's first write (header and start records) is durable. */
  isFresh: boolean;
  /** Where the records after the start records begin (0 until they are written). */
  recordsStartOffset: number;
}

interface ClosedSegment {
  readonly sequence: number;
  readonly file: string;
  readonly entryIndexMax: number;
}

/** Bytes the append's records take, or the entry too large for one record. */
function appendBytes(append: WalAppend): number | EntryTooLargeError {
  let bytes = 0;
  for (const entry of append.entries) {
    const payloadBytes = entryPayloadBytes(entry);
    if (payloadBytes > RECORD_PAYLOAD_BYTES_MAX) {
      return new EntryTooLargeError(entry.index, payloadBytes, RECORD_PAYLOAD_BYTES_MAX);
    }
    bytes += recordBytes(payloadBytes);
  }
  if (append.hardState !== undefined) bytes += recordBytes(HARD_STATE_PAYLOAD_BYTES);
  if (append.snapshotMarker !== undefined) bytes += recordBytes(SNAPSHOT_MARKER_PAYLOAD_BYTES);
  return bytes;
}

/** A segment just created: nothing written yet, its header and start records still to come. */
function freshSegment(sequence: number, file: string, fd: FileDescriptor): ActiveSegment {
  return {
    sequence,
    file,
    fd,
    positionBytes: 0,
    entryIndexMax: 0,
    isFresh: true,
    recordsStartOffset: 0,
  };
}

/** The group-committing appender of the write-ahead log. Create with {@link WalWriter.open}. */
export class WalWriter {
  private readonly options: WalWriterOptions;
  private segment: ActiveSegment;
  private readonly closedSegments: ClosedSegment[];
  private pending: PendingAppend[] = [];
  /** The group being written now; rejected with the others if the write fails. */
  private inFlight: PendingAppend[] = [];
  private pendingBytes = 0;
  /**
   * Appends waiting for the queue to drain below `pendingBytesMax`, in call order. It holds at
   * most one append per producer that awaits its appends (the node's loop does); a producer that
   * fires appends without awaiting them is not limited here.
   */
  private waitingForRoom: PendingAppend[] = [];
  private isFlushing = false;
  private flushDone: Promise<void> = Promise.resolve();
  private failure: StorageFatalError | undefined;
  private isClosed = false;
  private readonly segmentCreation: SegmentCreation;
  /** The state every new segment starts with, so older segments can be deleted. */
  private lastHardState: HardState | undefined;
  private lastSnapshotMarker: SnapshotMarker | undefined;
  private writtenBytesTotal = 0;

  private constructor(
    options: WalWriterOptions,
    segmentCreation: SegmentCreation,
    segment: ActiveSegment,
    closed: ClosedSegment[],
  ) {
    this.options = options;
    this.segmentCreation = segmentCreation;
    this.segment = segment;
    this.closedSegments = closed;
  }

  /**
   * Opens the writer after recovery: appends continue at the end of the last segment, or in a
   * new first segment if there is none.
   */
  static async open(options: WalWriterOptions, recovered: RecoveredWal): Promise<WalWriter> {
    const { fileSystem } = options;
    const segmentCreation = new SegmentCreation(
      fileSystem,
      options.directory,
      options.segmentBytesTarget,
      options.isPreallocationEnabled,
    );
    await segmentCreation.removeLeftovers();
    const last = recovered.segments.at(-1);
    const closed = recovered.segments
      .slice(0, -1)
      .map(({ sequence, file, entryIndexMax }) => ({ sequence, file, entryIndexMax }));
    let segment: ActiveSegment;
    if (last === undefined) {
      const sequence = 1;
      const { file, fd } = await segmentCreation.create(sequence);
      segment = freshSegment(sequence, file, fd);
    } else {
      const fd = await fileSystem.open(last.file, 'readWrite');
      // A segment holding only its header lost its start records to a torn write: write them
      // again (with the header, unchanged), or deleting older segments could lose the hard state.
      const isHeaderOnly = last.recordCount === 0;
      segment = {
        sequence: last.sequence,
        file: last.file,
        fd,
        positionBytes: isHeaderOnly ? 0 : last.endOffset,
        entryIndexMax: last.entryIndexMax,
        isFresh: isHeaderOnly,
        recordsStartOffset: SEGMENT_HEADER_BYTES,
      };
    }
    const writer = new WalWriter(options, segmentCreation, segment, closed);
    writer.lastHardState = recovered.hardState;
    writer.lastSnapshotMarker = recovered.snapshotMarkers.at(-1);
    if (segment.isFresh) await writer.writeFreshSegmentPrefix();
    segmentCreation.prepareNext();
    return writer;
  }

  /**
   * Appends records; resolves once they are written, and on stable storage if `mustSync`, with
   * the sequence of the segment they went to. Appends resolve in call order. Rejects with the
   * fatal error if the storage has failed, and with {@link EntryTooLargeError} (writing nothing)
   * if an entry exceeds the record size limit.
   */
  append(append: WalAppend): Promise<number> {
    assert(!this.isClosed, 'append after close');
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const bytes = appendBytes(append);
    if (bytes instanceof EntryTooLargeError) return Promise.reject(bytes);
    return new Promise<number>((resolve, reject) => {
      const item = { append, bytes, resolve, reject };
      // Back-pressure keeps call order: once anyone waits for room, everyone after waits too.
      const isFull = this.pendingBytes >= this.options.pendingBytesMax;
      if (isFull || this.waitingForRoom.length > 0) this.waitingForRoom.push(item);
      else this.admit(item);
    });
  }

  /**
   * Fails the writer with an error found elsewhere in the storage (a snapshot file that could not
   * be made durable): every waiting append is rejected and none is acknowledged after this.
   */
  abort(error: StorageFatalError): void {
    this.fail(error);
  }

  /** The fatal error, if the writer has failed. */
  fatalError(): StorageFatalError | undefined {
    return this.failure;
  }

  /** Bytes of records written since the writer opened. */
  writtenBytes(): number {
    return this.writtenBytesTotal;
  }

  /** Number of segment files, the active one included. */
  segmentCount(): number {
    return this.closedSegments.length + 1;
  }

  /**
   * Deletes the oldest closed segments before `markerSequence` (the segment holding the
   * snapshot's marker) while every entry in them is at or below `snapshotIndex` (all of them if
   * `isInstalled`: an installed snapshot replaced their log). Call only after the snapshot file
   * and its marker are durable. Segments closed meanwhile hold the marker or records after it,
   * and are never candidates.
   */
  async deleteSegmentsCoveredBy(
    snapshotIndex: number,
    isInstalled: boolean,
    markerSequence: number,
  ): Promise<number> {
    let count = 0;
    while (this.failure === undefined) {
      const oldest = this.closedSegments[0];
      if (oldest === undefined || oldest.sequence >= markerSequence) break;
      if (!isInstalled && oldest.entryIndexMax > snapshotIndex) break;
      await this.guard('remove', oldest.file, () => this.options.fileSystem.remove(oldest.file));
      this.closedSegments.shift();
      count++;
    }
    if (count > 0) {
      await this.guard('sync directory', this.options.directory, () =>
        this.options.fileSystem.syncDirectory(this.options.directory),
      );
      this.options.observer.walSegmentsDeleted?.(count);
    }
    if (this.failure !== undefined) throw this.failure;
    return count;
  }

  /** Waits for waiting appends, syncs and closes the active segment. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.flushDone;
    const { fileSystem } = this.options;
    if (this.failure === undefined) {
      await this.guard('fdatasync', this.segment.file, () => fileSystem.fdatasync(this.segment.fd));
    }
    await fileSystem.close(this.segment.fd).catch(() => undefined);
    await this.segmentCreation.discard();
    if (this.failure !== undefined) throw this.failure;
  }

  private async flushLoop(): Promise<void> {
    this.isFlushing = true;
    try {
      // Appends resumed by the group just acknowledged come back some microtasks later. Without
      // a turn of the event loop before each group, the first of them would start a group of
      // one and all the others would wait for its fdatasync (half the syncs carried one record).
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.pending.length === 0 || this.failure !== undefined) break;
        await this.flushOnce();
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.isFlushing = false;
    }
  }

  /** Writes one group of waiting appends with one write and at most one fdatasync. */
  private async flushOnce(): Promise<void> {
    const group = this.takeGroup();
    this.inFlight = group;
    let bytes = 0;
    let mustSync = false;
    for (const item of group) {
      bytes += item.bytes;
      mustSync ||= item.append.mustSync;
    }
    const segment = this.segment;
    const hasRecords = segment.positionBytes > segment.recordsStartOffset;
    if (hasRecords && segment.positionBytes + bytes > this.options.segmentBytesTarget) {
      await this.rotate();
    }
    const sequence = this.segment.sequence;
    const buffer = Buffer.allocUnsafe(bytes);
    let offset = 0;
    let records = 0;
    for (const item of group) {
      offset = this.encodeAppend(buffer, offset, item.append);
      records += item.append.entries.length;
    }
    assert(offset === bytes, () => `encoded ${offset} bytes, expected ${bytes}`);
    await this.writeAll(buffer);
    this.options.observer.walBatchWritten?.(records, bytes);
    if (mustSync) await this.sync();
    this.pendingBytes -= bytes;
    this.inFlight = [];
    for (const item of group) item.resolve(sequence);
    this.admitWaiting();
  }

  private takeGroup(): PendingAppend[] {
    let bytes = 0;
    let count = 0;
    for (const item of this.pending) {
      if (count > 0 && bytes + item.bytes > this.options.writeBytesMax) break;
      bytes += item.bytes;
      count++;
    }
    const group = this.pending.slice(0, count);
    this.pending = this.pending.slice(count);
    return group;
  }

  private encodeAppend(buffer: Buffer, start: number, append: WalAppend): number {
    // The hard state goes first: if a torn write cuts the batch, no surviving entry can carry a
    // term newer than the surviving hard state.
    let offset = start;
    if (append.hardState !== undefined) {
      offset = this.encodeHardState(buffer, offset, append.hardState);
      this.lastHardState = append.hardState;
    }
    if (append.snapshotMarker !== undefined) {
      offset = this.encodeMarker(buffer, offset, append.snapshotMarker);
      this.lastSnapshotMarker = append.snapshotMarker;
    }
    for (const entry of append.entries) {
      const payloadBytes = entryPayloadBytes(entry);
      writeEntryPayload(buffer, offset + RECORD_HEADER_BYTES, entry);
      offset = sealRecord(buffer, offset, RecordType.entry, payloadBytes);
      if (entry.index > this.segment.entryIndexMax) this.segment.entryIndexMax = entry.index;
    }
    return offset;
  }

  private encodeMarker(buffer: Buffer, offset: number, marker: SnapshotMarker): number {
    writeSnapshotMarkerPayload(buffer, offset + RECORD_HEADER_BYTES, marker);
    const type = marker.isInstalled ? RecordType.snapshotInstalled : RecordType.snapshotCreated;
    return sealRecord(buffer, offset, type, SNAPSHOT_MARKER_PAYLOAD_BYTES);
  }

  private encodeHardState(buffer: Buffer, offset: number, hardState: HardState): number {
    writeHardStatePayload(buffer, offset + RECORD_HEADER_BYTES, hardState);
    return sealRecord(buffer, offset, RecordType.hardState, HARD_STATE_PAYLOAD_BYTES);
  }

  /** Bytes of the state records every segment starts with. */
  private prefixBytes(): number {
    return (
      (this.lastHardState === undefined ? 0 : recordBytes(HARD_STATE_PAYLOAD_BYTES)) +
      (this.lastSnapshotMarker === undefined ? 0 : recordBytes(SNAPSHOT_MARKER_PAYLOAD_BYTES))
    );
  }

  /**
   * Writes the header of a fresh segment and the latest snapshot marker and hard state, makes
   * them and the segment's directory entry durable. After this, every older segment may go.
   */
  private async writeFreshSegmentPrefix(): Promise<void> {
    const segment = this.segment;
    const header = encodeSegmentHeader(this.options.identity, segment.sequence);
    const buffer = Buffer.alloc(SEGMENT_HEADER_BYTES + this.prefixBytes());
    header.copy(buffer, 0);
    let offset = SEGMENT_HEADER_BYTES;
    if (this.lastSnapshotMarker !== undefined) {
      offset = this.encodeMarker(buffer, offset, {
        ...this.lastSnapshotMarker,
        isInstalled: false,
      });
    }
    if (this.lastHardState !== undefined) {
      offset = this.encodeHardState(buffer, offset, this.lastHardState);
    }
    assert(offset === buffer.byteLength, 'segment prefix size');
    await this.writeAll(buffer);
    await this.sync();
    await this.guard('sync directory', this.options.directory, () =>
      this.options.fileSystem.syncDirectory(this.options.directory),
    );
    segment.isFresh = false;
    segment.recordsStartOffset = segment.positionBytes;
    this.options.observer.walSegmentCreated?.(segment.sequence);
  }

  private async rotate(): Promise<void> {
    const { fileSystem } = this.options;
    const previous = this.segment;
    // Everything in the closing segment was synced by the appends that needed it; sync once more
    // so that unsynced appends cannot be lost behind a durable newer segment.
    await this.sync();
    await this.guard('close', previous.file, () => fileSystem.close(previous.fd));
    this.closedSegments.push({
      sequence: previous.sequence,
      file: previous.file,
      entryIndexMax: previous.entryIndexMax,
    });
    const sequence = previous.sequence + 1;
    const { file, fd } = await this.guard('create segment', this.options.directory, () =>
      this.segmentCreation.create(sequence),
    );
    this.segment = freshSegment(sequence, file, fd);
    await this.writeFreshSegmentPrefix();
    this.segmentCreation.prepareNext();
  }

  /** Writes `buffer` at the segment's position; a short write is fatal like an error. */
  private async writeAll(buffer: Buffer): Promise<void> {
    const segment = this.segment;
    const written = await this.guard('write', segment.file, () =>
      this.options.fileSystem.write(segment.fd, buffer, segment.positionBytes),
    );
    if (written !== buffer.byteLength) {
      throw this.fail(
        new StorageFatalError(
          'write',
          segment.file,
          new Error(
            `short write: ${written} of ${buffer.byteLength} bytes at offset ${segment.positionBytes}`,
          ),
        ),
      );
    }
    segment.positionBytes += written;
    this.writtenBytesTotal += written;
  }

  private async sync(): Promise<void> {
    const segment = this.segment;
    const started = performance.now();
    await this.guard('fdatasync', segment.file, () =>
      this.options.fileSystem.fdatasync(segment.fd),
    );
    this.options.observer.walSynced?.((performance.now() - started) / 1000);
  }

  /** Runs a disk operation; any failure becomes the writer's fatal error. */
  private async guard<T>(operation: string, file: string, run: () => Promise<T> | T): Promise<T> {
    if (this.failure !== undefined) throw this.failure;
    try {
      return await run();
    } catch (error) {
      throw this.fail(
        error instanceof StorageFatalError ? error : new StorageFatalError(operation, file, error),
      );
    }
  }

  /** Records the first fatal error, rejects everything waiting; returns the fatal error. */
  private fail(error: unknown): StorageFatalError {
    if (this.failure === undefined) {
      this.failure =
        error instanceof StorageFatalError
          ? error
          : new StorageFatalError('write-ahead log', this.segment.file, error);
      this.options.logger.error(
        {
          file: this.failure.file,
          operation: this.failure.operation,
          code: this.failure.systemCode,
        },
        'storage failed; refusing all further writes',
      );
      const waiting = [...this.inFlight, ...this.pending, ...this.waitingForRoom];
      this.inFlight = [];
      this.pending = [];
      this.waitingForRoom = [];
      for (const item of waiting) item.reject(this.failure);
      this.options.onFatal(this.failure);
    }
    return this.failure;
  }

  private admit(item: PendingAppend): void {
    this.pending.push(item);
    this.pendingBytes += item.bytes;
    if (!this.isFlushing) this.flushDone = this.flushLoop();
  }

  private admitWaiting(): void {
    while (this.pendingBytes < this.options.pendingBytesMax) {
      const next = this.waitingForRoom.shift();
      if (next === undefined) return;
      this.admit(next);
    }
  }
}
