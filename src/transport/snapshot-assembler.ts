/**
 * Snapshots travel as a chunked InstallSnapshot call instead of inline in a batch, so one large
 * snapshot never holds up the message stream or exceeds a frame limit. This file owns the
 * header that opens such a call and the reassembly on the receiving side. Pure: no I/O; the
 * sender's chunk loop and the receiver's call handling live in peer-sender.ts and
 * peer-service.ts.
 */
import type { InstallSnapshotRequest } from '../raft/index.js';
import type * as wire from '../generated/raftkv/peer/v1/peer.js';
import { decodeMessage, encodeMessage } from './message-codec.js';
import type { PeerEnvelope } from './peer-envelope.js';
import { PeerProtocolError } from './transport-errors.js';

const EMPTY_BYTES = new Uint8Array(0);

/**
 * The header of the first chunk: the envelope, `message` with its snapshot data left out (the
 * chunks carry it), and the data's total size.
 */
export function snapshotHeader(
  envelope: PeerEnvelope,
  message: InstallSnapshotRequest,
): wire.SnapshotHeader {
  const withoutData: InstallSnapshotRequest = {
    ...message,
    snapshot: { metadata: message.snapshot.metadata, data: EMPTY_BYTES },
  };
  return {
    clusterId: envelope.clusterId,
    from: envelope.from,
    to: envelope.to,
    message: encodeMessage(withoutData),
    totalBytes: message.snapshot.data.byteLength,
  };
}

/** Collects the chunks of one InstallSnapshot call into the request they came from. */
export class SnapshotAssembler {
  private readonly message: InstallSnapshotRequest;
  private readonly data: Uint8Array;
  private receivedBytesTotal = 0;

  private constructor(message: InstallSnapshotRequest, totalBytes: number) {
    this.message = message;
    this.data = new Uint8Array(totalBytes);
  }

  /**
   * Starts from the first chunk's header. Throws {@link PeerProtocolError} when the header holds
   * no install snapshot request or announces more than `snapshotBytesMax` bytes.
   */
  static start(header: wire.SnapshotHeader, snapshotBytesMax: number): SnapshotAssembler {
    if (header.message === undefined) {
      throw new PeerProtocolError(`snapshot header from ${header.from} carries no message`);
    }
    const message = decodeMessage(header.message);
    if (message.kind !== 'installSnapshotRequest') {
      throw new PeerProtocolError(`snapshot header from ${header.from} carries a ${message.kind}`);
    }
    if (header.totalBytes > snapshotBytesMax) {
      throw new PeerProtocolError(
        `snapshot from ${header.from} has ${header.totalBytes} bytes, more than snapshotBytesMax (${snapshotBytesMax})`,
      );
    }
    return new SnapshotAssembler(message, header.totalBytes);
  }

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.receivedBytesTotal;
  }

  /** Appends the next chunk's data; throws {@link PeerProtocolError} past the announced size. */
  append(chunk: Uint8Array): void {
    const end = this.receivedBytesTotal + chunk.byteLength;
    if (end > this.data.byteLength) {
      throw new PeerProtocolError(
        `snapshot chunks exceed the announced ${this.data.byteLength} bytes`,
      );
    }
    this.data.set(chunk, this.receivedBytesTotal);
    this.receivedBytesTotal = end;
  }

  /** The whole request; throws {@link PeerProtocolError} when chunks are missing. */
  finish(): InstallSnapshotRequest {
    if (this.receivedBytesTotal !== this.data.byteLength) {
      throw new PeerProtocolError(
        `snapshot ended after ${this.receivedBytesTotal} of ${this.data.byteLength} bytes`,
      );
    }
    const { snapshot } = this.message;
    return { ...this.message, snapshot: { metadata: snapshot.metadata, data: this.data } };
  }
}
