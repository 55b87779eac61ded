/**
 * The receiving side of the peer protocol: the gRPC handlers of the Peer service. It checks
 * every frame's envelope (cluster id, receiver), decodes batches and reassembles snapshots, and
 * hands the core's messages to `onMessages` in arrival order per call. It never sends Raft
 * messages and never touches the core beyond that callback. It remembers its open calls so that
 * closing the transport can end them.
 */
import {
  Metadata,
  type sendUnaryData,
  type ServerReadableStream,
  type StatusObject,
  type ServerUnaryCall,
  status,
} from '@grpc/grpc-js';

import type { Logger, NodeId } from '../common/index.js';
import type * as wire from '../generated/raftkv/peer/v1/peer.js';
import type { Message } from '../raft/index.js';
import { type DiscoverAnswer, encodeDiscoverAnswer } from './discover.js';
import { decodeMessage } from './message-codec.js';
import { envelopeRejection, formatClusterId } from './peer-envelope.js';
import { SnapshotAssembler } from './snapshot-assembler.js';
import { PeerProtocolError } from './transport-errors.js';
import type { TransportLimits } from './transport-limits.js';
import type { TransportObserver } from './transport-observer.js';

/** What the handlers need from the transport. */
export interface InboundPeerServiceOptions {
  readonly selfId: NodeId;
  readonly clusterId: number;
  readonly limits: TransportLimits;
  readonly logger: Logger;
  readonly observer: TransportObserver;
  readonly onMessages: (messages: readonly Message[]) => void;
  readonly onDiscover: (() => DiscoverAnswer) | undefined;
}

/** The status a handler answers a failed call with. */
type CallStatus = Partial<StatusObject>;

/** Ends one open call from the server side. */
type CallEnder = () => void;

const STREAM_CLOSED: wire.StreamClosed = {};

/** The Peer service implementation of one member. */
export class InboundPeerService {
  private readonly options: InboundPeerServiceOptions;
  private readonly openCalls = new Set<CallEnder>();

  constructor(options: InboundPeerServiceOptions) {
    this.options = options;
  }

  /** The handlers to register with the gRPC server. */
  implementation(): wire.PeerServer {
    return {
      stream: (call, callback) => this.stream(call, callback),
      installSnapshot: (call, callback) => this.installSnapshot(call, callback),
      ping: (call, callback) => this.ping(call, callback),
      discover: (_call, callback) => this.discover(callback),
    };
  }

  /** Answers every open call: streams end normally, unfinished snapshots fail. */
  endOpenCalls(): void {
    for (const end of [...this.openCalls]) end();
  }

  private stream(
    call: ServerReadableStream<wire.MessageBatch, wire.StreamClosed>,
    callback: sendUnaryData<wire.StreamClosed>,
  ): void {
    let isAccepted = false;
    const finish = this.trackCall(call, (error) => callback(error, STREAM_CLOSED));
    call.on('data', (batch: wire.MessageBatch) => {
      if (!finish.isOpen()) return;
      const refusal = this.refusal(batch);
      if (refusal !== undefined) {
        finish.fail(refusal);
        return;
      }
      if (!isAccepted) {
        // Response headers tell the sender its stream was accepted (it resets its backoff).
        isAccepted = true;
        call.sendMetadata(new Metadata());
      }
      const messages = this.decodeBatch(batch);
      if (messages instanceof PeerProtocolError) {
        finish.fail(this.protocolViolation(batch.from, messages));
        return;
      }
      this.options.observer.batchReceived?.(batch.from, messages.length);
      if (messages.length > 0) this.options.onMessages(messages);
    });
    call.on('end', () => finish.end());
  }

  private installSnapshot(
    call: ServerReadableStream<wire.SnapshotChunk, wire.SnapshotAck>,
    callback: sendUnaryData<wire.SnapshotAck>,
  ): void {
    let assembler: SnapshotAssembler | undefined;
    const finish = this.trackCall(call, (error) => callback(error ?? UNFINISHED_SNAPSHOT));
    call.on('data', (chunk: wire.SnapshotChunk) => {
      if (!finish.isOpen()) return;
      const { header } = chunk;
      if (assembler === undefined && header !== undefined) {
        const refusal = this.refusal(header);
        if (refusal !== undefined) {
          finish.fail(refusal);
          return;
        }
      }
      const outcome = appendChunk(assembler, chunk, this.options.limits.snapshotBytesMax);
      if (outcome instanceof PeerProtocolError) {
        finish.fail(this.protocolViolation(header?.from ?? 0, outcome));
        return;
      }
      assembler = outcome;
    });
    call.on('end', () => {
      if (!finish.isOpen()) return;
      this.deliverSnapshot(assembler, finish, callback);
    });
  }

  private deliverSnapshot(
    assembler: SnapshotAssembler | undefined,
    finish: TrackedCall,
    callback: sendUnaryData<wire.SnapshotAck>,
  ): void {
    let message: Message;
    try {
      if (assembler === undefined) throw new PeerProtocolError('snapshot call without chunks');
      message = assembler.finish();
      if (message.to !== this.options.selfId) {
        throw new PeerProtocolError(`a snapshot for member ${message.to} in a call to this member`);
      }
    } catch (error) {
      if (!(error instanceof PeerProtocolError)) throw error;
      finish.fail(this.protocolViolation(0, error));
      return;
    }
    finish.forget();
    this.options.logger.info(
      { peerId: message.from, bytes: assembler.receivedBytes },
      'snapshot received',
    );
    this.options.onMessages([message]);
    callback(null, { receivedBytes: assembler.receivedBytes });
  }

  private ping(
    call: ServerUnaryCall<wire.PingRequest, wire.PingResponse>,
    callback: sendUnaryData<wire.PingResponse>,
  ): void {
    const { clusterId, from } = call.request;
    const refusal = this.refusal({ clusterId, from, to: this.options.selfId });
    if (refusal === undefined) callback(null, {});
    else callback(refusal);
  }

  private discover(callback: sendUnaryData<wire.DiscoverResponse>): void {
    const { onDiscover } = this.options;
    if (onDiscover === undefined) {
      callback({ code: status.UNIMPLEMENTED, details: 'this member answers no discovery' });
      return;
    }
    callback(null, encodeDiscoverAnswer(onDiscover()));
  }

  /** Registers an open call; `respond` answers it (error null: normally). */
  private trackCall(
    call: ServerReadableStream<unknown, unknown>,
    respond: (error: CallStatus | null) => void,
  ): TrackedCall {
    const forget = (): boolean => this.openCalls.delete(end);
    const end = (): void => {
      if (forget()) respond(null);
    };
    const fail = (error: CallStatus): void => {
      if (forget()) respond(error);
    };
    const isOpen = (): boolean => this.openCalls.has(end);
    this.openCalls.add(end);
    // A cancelled call (the peer went away) needs no answer.
    call.on('cancelled', forget);
    call.on('error', forget);
    return { isOpen, end, fail, forget };
  }

  /** The FAILED_PRECONDITION answer to a frame this member must refuse, if any. */
  private refusal(envelope: {
    readonly clusterId: number;
    readonly from: NodeId;
    readonly to: NodeId;
  }): CallStatus | undefined {
    const { clusterId, selfId, logger } = this.options;
    const reason = envelopeRejection(envelope, clusterId, selfId);
    if (reason === undefined) return undefined;
    logger.warn(
      { peerId: envelope.from, peerClusterId: formatClusterId(envelope.clusterId) },
      'peer frame refused: ' + reason,
    );
    return { code: status.FAILED_PRECONDITION, details: reason };
  }

  private protocolViolation(peerId: NodeId, error: PeerProtocolError): CallStatus {
    this.options.logger.warn({ peerId, error: error.message }, 'peer protocol violation');
    return { code: status.INVALID_ARGUMENT, details: error.message };
  }

  /** The batch's messages, or why they cannot be delivered. */
  private decodeBatch(batch: wire.MessageBatch): Message[] | PeerProtocolError {
    const { selfId } = this.options;
    const messages = new Array<Message>(batch.messages.length);
    try {
      for (let i = 0; i < messages.length; i++) {
        const message = decodeMessage(batch.messages[i]!);
        if (message.to !== selfId) {
          throw new PeerProtocolError(`a ${message.kind} for member ${message.to} in a batch`);
        }
        messages[i] = message;
      }
    } catch (error) {
      if (error instanceof PeerProtocolError) return error;
      throw error;
    }
    return messages;
  }
}

/** The ways an open call ends from the server side. */
interface TrackedCall {
  /** Whether the call still waits for its answer. */
  readonly isOpen: () => boolean;
  /** Answers normally, unless already answered. */
  readonly end: () => void;
  /** Answers with `error`, unless already answered. */
  readonly fail: (error: CallStatus) => void;
  /** Stops tracking without answering (the caller answers itself). */
  readonly forget: () => boolean;
}

/** The answer to a snapshot call still open when the member closes. */
const UNFINISHED_SNAPSHOT: CallStatus = {
  code: status.UNAVAILABLE,
  details: 'member closed before the snapshot was complete',
};

/** Adds one chunk; the first must carry the header, no other may. */
function appendChunk(
  assembler: SnapshotAssembler | undefined,
  chunk: wire.SnapshotChunk,
  snapshotBytesMax: number,
): SnapshotAssembler | PeerProtocolError {
  try {
    let current = assembler;
    if (current === undefined) {
      if (chunk.header === undefined) {
        throw new PeerProtocolError('first snapshot chunk carries no header');
      }
      current = SnapshotAssembler.start(chunk.header, snapshotBytesMax);
    } else if (chunk.header !== undefined) {
      throw new PeerProtocolError('snapshot header repeated');
    }
    current.append(chunk.data);
    return current;
  } catch (error) {
    if (error instanceof PeerProtocolError) return error;
    throw error;
  }
}
