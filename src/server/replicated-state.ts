/**
 * Everything the log's committed entries build on a member: the key-value store (`kv`) and the
 * member registry. It decodes each committed normal entry's envelope, applies the command inside
 * and tells the caller who proposed it and what came out, so the proposer can answer its client.
 * Snapshots hold both parts. Deterministic; no I/O.
 */
import type { NodeId } from '../common/index.js';
import {
  decodeCommand,
  KvError,
  KvStateMachine,
  type KvStateMachineOptions,
  type WriteResponse,
} from '../kv/index.js';
import { decodeEnvelope } from './entry-envelope.js';
import { MemberRegistry } from './member-registry.js';

/** What applying one normal entry produced, for the member that proposed it. */
export type ApplyOutcome =
  | { readonly kind: 'noop' }
  | {
      readonly kind: 'applied';
      readonly originId: NodeId;
      readonly requestNumber: number;
      /** The kv write's response; undefined for a member registry change. */
      readonly response: WriteResponse | undefined;
    }
  | {
      readonly kind: 'refused';
      readonly originId: NodeId;
      readonly requestNumber: number;
      readonly error: KvError;
    }
  | { readonly kind: 'unreadable'; readonly detail: string };

/** First byte of a state snapshot; raise it when the layout changes. */
const SNAPSHOT_LAYOUT_VERSION = 1;

/** The state machine of a member: key-value store plus member registry. */
export class ReplicatedState {
  kv: KvStateMachine;
  members: MemberRegistry;

  constructor(
    private readonly kvOptions: KvStateMachineOptions,
    kv?: KvStateMachine,
    members?: MemberRegistry,
  ) {
    this.kv = kv ?? new KvStateMachine(kvOptions);
    this.members = members ?? new MemberRegistry();
  }

  /** Applies the data of one committed normal entry (empty data is the leader's no-op). */
  apply(data: Uint8Array): ApplyOutcome {
    if (data.byteLength === 0) return { kind: 'noop' };
    const envelope = decodeEnvelope(data);
    if (typeof envelope === 'string') return { kind: 'unreadable', detail: envelope };
    const { originId, requestNumber } = envelope;
    if (envelope.kind === 'memberChange') {
      const ignored = this.members.apply(envelope.command);
      if (ignored !== null) return { kind: 'unreadable', detail: ignored };
      return { kind: 'applied', originId, requestNumber, response: undefined };
    }
    try {
      const request = decodeCommand(envelope.command);
      const response = this.kv.apply(request, envelope.session);
      return { kind: 'applied', originId, requestNumber, response };
    } catch (error) {
      if (error instanceof KvError) return { kind: 'refused', originId, requestNumber, error };
      throw error;
    }
  }

  /** Bytes of the whole state: layout version, kv snapshot length and bytes, registry bytes. */
  snapshot(): Uint8Array {
    const kvBytes = this.kv.snapshot();
    const memberBytes = this.members.snapshot();
    const bytes = new Uint8Array(5 + kvBytes.byteLength + memberBytes.byteLength);
    bytes[0] = SNAPSHOT_LAYOUT_VERSION;
    new DataView(bytes.buffer).setUint32(1, kvBytes.byteLength, true);
    bytes.set(kvBytes, 5);
    bytes.set(memberBytes, 5 + kvBytes.byteLength);
    return bytes;
  }

  /** Replaces the whole state from {@link snapshot} bytes (empty bytes: the empty state). */
  restore(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) {
      this.kv = new KvStateMachine(this.kvOptions);
      this.members = new MemberRegistry();
      return;
    }
    if (bytes[0] !== SNAPSHOT_LAYOUT_VERSION || bytes.byteLength < 5) {
      throw new Error(`unknown state snapshot layout ${bytes[0]}`);
    }
    const kvLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(1, true);
    this.kv = KvStateMachine.restore(bytes.subarray(5, 5 + kvLength), this.kvOptions);
    this.members = MemberRegistry.restore(bytes.subarray(5 + kvLength));
  }
}
