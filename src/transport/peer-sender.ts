/**
 * The sending side towards one peer: a bounded queue of messages, one long-lived Stream call
 * that carries them as batches, the InstallSnapshot calls, and the round-trip pings.
 *
 * Obligations: enqueueing never blocks, throws or does I/O; everything queued in one event-loop
 * turn leaves in the fewest batches the byte cap allows; when gRPC stops taking writes the queue
 * waits for 'drain' and, once full, drops new messages; a failed stream drops its queue and is
 * reopened only after an exponential backoff, never in a loop. Every callback to the core runs in
 * a later event-loop turn than the send() that caused it. It does not choose peers or route
 * messages (peer-transport.ts does).
 */
import {
  type ChannelOptions,
  type ClientWritableStream,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';

import type { Logger, NodeId } from '../common/index.js';
import * as wire from '../generated/raftkv/peer/v1/peer.js';
import type { InstallSnapshotRequest, Message } from '../raft/index.js';
import { asWireBytes, encodeMessage, messageBytesEstimate } from './message-codec.js';
import type { PeerEnvelope } from './peer-envelope.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { snapshotHeader } from './snapshot-assembler.js';
import type { TransportLimits } from './transport-limits.js';
import type { TransportObserver } from './transport-observer.js';

/** What every sender of one transport shares. */
export interface PeerSenderContext {
  readonly selfId: NodeId;
  readonly clusterId: number;
  readonly limits: TransportLimits;
  readonly logger: Logger;
  readonly observer: TransportObserver;
  readonly channelOptions: ChannelOptions;
  readonly onUnreachable: (peerId: NodeId) => void;
  readonly onSnapshotStatus: (peerId: NodeId, isSuccess: boolean) => void;
  readonly onRoundTrip: ((peerId: NodeId, seconds: number) => void) | undefined;
  /** Asks for `flush()` in the next event-loop turn. */
  readonly requestFlush: (sender: PeerSender) => void;
}

type BatchStream = ClientWritableStream<wire.MessageBatch>;
type SnapshotStream = ClientWritableStream<wire.SnapshotChunk>;

/** The outgoing side towards one peer. */
export class PeerSender {
  readonly peerId: NodeId;
  /** 'host:port' of the peer's server. */
  readonly address: string;
  private readonly context: PeerSenderContext;
  private readonly envelope: PeerEnvelope;
  private readonly client: wire.PeerClient;
  private readonly backoff: ReconnectBackoff;
  private readonly logger: Logger;
  /** Messages not yet written; at most `queuedMessagesMax`. */
  private readonly queue: Message[] = [];
  private stream: BatchStream | undefined;
  /** gRPC refused the last write; nothing is written until 'drain'. */
  private isWaitingForDrain = false;
  /** Set while a failed stream waits to be reopened; messages are dropped meanwhile. */
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The gRPC status code of the last failure, to log each new kind of failure once. */
  private lastFailureCode: number | undefined;
  private droppedMessages = 0;
  private isFlushRequested = false;
  /** A snapshot waiting for the next flush; at most one, and none while one is in flight. */
  private pendingSnapshot: InstallSnapshotRequest | undefined;
  private snapshotStream: SnapshotStream | undefined;
  private refusedSnapshots = 0;
  private pingTimer: ReturnType<typeof setTimeout> | undefined;
  private isClosed = false;

  constructor(context: PeerSenderContext, peerId: NodeId, address: string) {
    this.context = context;
    this.peerId = peerId;
    this.address = address;
    this.envelope = { clusterId: context.clusterId, from: context.selfId, to: peerId };
    this.client = new wire.PeerClient(
      address,
      credentials.createInsecure(),
      context.channelOptions,
    );
    const { reconnectBackoffMsMin, reconnectBackoffMsMax } = context.limits;
    this.backoff = new ReconnectBackoff(reconnectBackoffMsMin, reconnectBackoffMsMax);
    this.logger = context.logger;
    if (context.onRoundTrip !== undefined) this.schedulePing();
  }

  /** Queues `message` for the next flush, or drops it (queue full, stream down). */
  enqueue(message: Message): void {
    if (message.kind === 'installSnapshotRequest') {
      this.enqueueSnapshot(message);
    } else if (
      this.reconnectTimer !== undefined ||
      this.queue.length >= this.context.limits.queuedMessagesMax
    ) {
      this.droppedMessages++;
    } else {
      this.queue.push(message);
    }
    this.requestFlush();
  }

  /** Writes what is queued, starts a waiting snapshot and reports drops. */
  flush(): void {
    this.isFlushRequested = false;
    if (this.isClosed) return;
    this.reportDrops();
    if (this.pendingSnapshot !== undefined) this.startSnapshot(this.pendingSnapshot);
    if (this.queue.length === 0 || this.isWaitingForDrain || this.reconnectTimer !== undefined) {
      return;
    }
    this.writeQueued(this.stream ?? this.openStream());
  }

  /**
   * Ends the stream, cancels a snapshot in flight and the timers; reports nothing after.
   * Returns whether a snapshot was abandoned (sent or waiting), for the caller to report.
   */
  close(): boolean {
    if (this.isClosed) return false;
    this.isClosed = true;
    const isSnapshotAbandoned =
      this.snapshotStream !== undefined || this.pendingSnapshot !== undefined;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.pingTimer);
    this.stream?.end();
    this.snapshotStream?.cancel();
    this.client.close();
    this.queue.length = 0;
    this.pendingSnapshot = undefined;
    return isSnapshotAbandoned;
  }

  private requestFlush(): void {
    if (this.isFlushRequested) return;
    this.isFlushRequested = true;
    this.context.requestFlush(this);
  }

  private reportDrops(): void {
    const dropped = this.droppedMessages;
    if (dropped > 0) {
      this.droppedMessages = 0;
      this.logger.debug({ peerId: this.peerId, messages: dropped }, 'messages to peer dropped');
      this.context.observer.messagesDropped?.(this.peerId, dropped);
      this.context.onUnreachable(this.peerId);
    }
    for (; this.refusedSnapshots > 0; this.refusedSnapshots--) {
      this.context.onSnapshotStatus(this.peerId, false);
    }
  }

  private openStream(): BatchStream {
    const stream = this.client.stream((error) => this.onStreamEnded(stream, error));
    stream.on('metadata', () => this.onStreamAccepted(stream));
    stream.on('drain', () => this.onDrain(stream));
    // Failures arrive through the callback; this only keeps a late write error from escaping.
    stream.on('error', () => undefined);
    this.stream = stream;
    return stream;
  }

  /**
   * Writes the queue as batches of at most `batchBytesMax` estimated bytes (a larger single
   * message goes alone), until gRPC asks to wait for 'drain'.
   */
  private writeQueued(stream: BatchStream): void {
    const { queue } = this;
    const { batchBytesMax } = this.context.limits;
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let bytes = 0;
      while (end < queue.length) {
        const messageBytes = messageBytesEstimate(queue[end]!);
        if (end > start && bytes + messageBytes > batchBytesMax) break;
        bytes += messageBytes;
        end++;
      }
      const canWriteMore = stream.write(this.batch(queue, start, end));
      this.context.observer.batchSent?.(this.peerId, end - start, bytes);
      start = end;
      if (!canWriteMore) {
        this.isWaitingForDrain = true;
        break;
      }
    }
    if (start === queue.length) queue.length = 0;
    else queue.splice(0, start);
  }

  private batch(queue: readonly Message[], start: number, end: number): wire.MessageBatch {
    const messages = new Array<wire.Message>(end - start);
    for (let i = start; i < end; i++) messages[i - start] = encodeMessage(queue[i]!);
    const { clusterId, from, to } = this.envelope;
    return { clusterId, from, to, messages };
  }

  private onDrain(stream: BatchStream): void {
    if (stream !== this.stream) return;
    this.isWaitingForDrain = false;
    if (this.queue.length > 0) this.writeQueued(stream);
  }

  private onStreamAccepted(stream: BatchStream): void {
    if (stream !== this.stream) return;
    if (this.lastFailureCode !== undefined) {
      this.logger.info({ peerId: this.peerId, address: this.address }, 'peer stream restored');
    }
    this.lastFailureCode = undefined;
    this.backoff.reset();
  }

  /** The stream ended (failed, refused, or closed by the peer): drop, report, back off. */
  private onStreamEnded(stream: BatchStream, error: ServiceError | null): void {
    if (stream !== this.stream) return;
    this.stream = undefined;
    this.isWaitingForDrain = false;
    if (this.isClosed) return;
    const dropped = this.queue.length;
    this.queue.length = 0;
    const code = error?.code ?? status.OK;
    const isRefused = code === status.FAILED_PRECONDITION;
    if (isRefused) this.backoff.exhaust();
    const delayMs = this.backoff.nextDelayMs();
    const fields = {
      peerId: this.peerId,
      address: this.address,
      code: status[code],
      detail: error?.details,
      droppedMessages: dropped,
      retryInMs: delayMs,
    };
    if (code !== this.lastFailureCode) this.logger.warn(fields, 'peer stream failed');
    else this.logger.debug(fields, 'peer stream failed again');
    this.lastFailureCode = code;
    this.context.observer.streamFailed?.(this.peerId);
    if (dropped > 0) this.context.observer.messagesDropped?.(this.peerId, dropped);
    this.context.onUnreachable(this.peerId);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
    }, delayMs);
  }

  private enqueueSnapshot(message: InstallSnapshotRequest): void {
    if (this.pendingSnapshot !== undefined || this.snapshotStream !== undefined) {
      this.logger.debug({ peerId: this.peerId }, 'snapshot refused: another one is in flight');
      this.refusedSnapshots++;
      return;
    }
    this.pendingSnapshot = message;
  }

  /** Streams the snapshot in chunks, one chunk in flight at a time. */
  private startSnapshot(message: InstallSnapshotRequest): void {
    this.pendingSnapshot = undefined;
    const totalBytes = message.snapshot.data.byteLength;
    const startedMs = performance.now();
    const stream = this.client.installSnapshot((error, ack) => {
      const isSuccess = error === null && ack.receivedBytes === totalBytes;
      this.onSnapshotEnded(stream, totalBytes, performance.now() - startedMs, isSuccess, error);
    });
    stream.on('error', () => undefined);
    this.snapshotStream = stream;
    this.logger.info({ peerId: this.peerId, bytes: totalBytes }, 'snapshot send started');
    this.writeSnapshotChunk(stream, message, 0);
  }

  private writeSnapshotChunk(
    stream: SnapshotStream,
    message: InstallSnapshotRequest,
    offset: number,
  ): void {
    if (stream !== this.snapshotStream) return;
    const { data } = message.snapshot;
    const end = Math.min(data.byteLength, offset + this.context.limits.snapshotChunkBytes);
    const chunk: wire.SnapshotChunk = {
      header: offset === 0 ? snapshotHeader(this.envelope, message) : undefined,
      data: asWireBytes(data.subarray(offset, end)),
    };
    stream.write(chunk, () => {
      if (stream !== this.snapshotStream) return;
      if (end === data.byteLength) stream.end();
      else this.writeSnapshotChunk(stream, message, end);
    });
  }

  private onSnapshotEnded(
    stream: SnapshotStream,
    bytes: number,
    durationMs: number,
    isSuccess: boolean,
    error: ServiceError | null,
  ): void {
    if (stream !== this.snapshotStream) return;
    this.snapshotStream = undefined;
    if (this.isClosed) return;
    const fields = { peerId: this.peerId, bytes, durationMs: Math.round(durationMs) };
    if (isSuccess) this.logger.info(fields, 'snapshot sent');
    else this.logger.warn({ ...fields, detail: error?.details }, 'snapshot send failed');
    this.context.observer.snapshotSent?.(this.peerId, bytes, isSuccess);
    this.context.onSnapshotStatus(this.peerId, isSuccess);
  }

  private schedulePing(): void {
    this.pingTimer = setTimeout(() => this.ping(), this.context.limits.pingIntervalMs);
  }

  private ping(): void {
    const { clusterId, selfId, limits } = this.context;
    const startedMs = performance.now();
    const deadline = Date.now() + limits.pingTimeoutMs;
    this.client.ping({ clusterId, from: selfId }, new Metadata(), { deadline }, (error) => {
      if (this.isClosed) return;
      if (error === null) {
        this.context.onRoundTrip?.(this.peerId, (performance.now() - startedMs) / 1000);
      } else {
        this.logger.debug({ peerId: this.peerId, detail: error.details }, 'peer ping failed');
      }
      this.schedulePing();
    });
  }
}
