/**
 * A tiny deterministic key-value state machine for the simulator: string keys and values,
 * commands encoded as JSON bytes, and per-client sessions that make a re-delivered command
 * (a duplicated forwarded proposal, a retried request) apply at most once. It owns its
 * snapshot format; it must not know about Raft, the network or time.
 */
import { assert, assertNever } from '../../src/common/index.js';

/** What a command does to the map. Reads normally use ReadIndex; a get through the log works. */
export type KvCommandOperation =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'delete'; readonly key: string };

/** A client command as carried by a log entry. `requestId` increases per client. */
export interface KvCommand {
  readonly clientId: number;
  readonly requestId: number;
  readonly operation: KvCommandOperation;
}

/** The answer of one applied command: 'ok' for writes, the value read for gets. */
export type KvCommandOutput =
  { readonly kind: 'ok' } | { readonly kind: 'value'; readonly value: string | null };

/** The last command a client got applied and what it answered (exactly-once sessions). */
export interface ClientSession {
  readonly requestId: number;
  readonly output: KvCommandOutput;
}

/** The outcome of `apply`: duplicates change nothing and repeat the first answer. */
export interface ApplyResult {
  readonly isDuplicate: boolean;
  readonly output: KvCommandOutput;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** Encodes a command as JSON bytes (the entry's data). Never empty: empty data is a no-op. */
export function encodeCommand(command: KvCommand): Uint8Array {
  return textEncoder.encode(JSON.stringify(command));
}

/** Decodes entry data written by {@link encodeCommand}. Asserts the shape. */
export function decodeCommand(data: Uint8Array): KvCommand {
  const parsed = JSON.parse(textDecoder.decode(data)) as KvCommand;
  assert(
    Number.isSafeInteger(parsed.clientId) && Number.isSafeInteger(parsed.requestId),
    'command has integer clientId and requestId',
  );
  assert(typeof parsed.operation.key === 'string', 'command has a key');
  return parsed;
}

/** The serialized form: entries and sessions sorted by key so equal states give equal bytes. */
interface SerializedState {
  readonly entries: [string, string][];
  readonly sessions: [number, ClientSession][];
}

/** A map of string registers with exactly-once client sessions. */
export class KvStateMachine {
  private readonly values = new Map<string, string>();
  private readonly sessions = new Map<number, ClientSession>();

  /**
   * Applies a command unless its client already got this or a later request applied; then it
   * is a duplicate and repeats nothing (clients run one request at a time, so an older
   * request arriving late must not overwrite newer effects).
   */
  apply(command: KvCommand): ApplyResult {
    const session = this.sessions.get(command.clientId);
    if (session !== undefined && command.requestId <= session.requestId) {
      const output = command.requestId === session.requestId ? session.output : { kind: 'ok' };
      return { isDuplicate: true, output: output as KvCommandOutput };
    }
    const output = this.execute(command.operation);
    this.sessions.set(command.clientId, { requestId: command.requestId, output });
    return { isDuplicate: false, output };
  }

  /** The current value of `key`, or null if absent. */
  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  /** The session of `clientId`: its last applied request and answer. */
  session(clientId: number): ClientSession | undefined {
    return this.sessions.get(clientId);
  }

  /** A canonical image of the whole state (equal states give equal bytes). */
  serialize(): Uint8Array {
    const state: SerializedState = {
      entries: [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      sessions: [...this.sessions.entries()].sort(([a], [b]) => a - b),
    };
    return textEncoder.encode(JSON.stringify(state));
  }

  /** Replaces the whole state with a serialized image; empty data is the empty map. */
  restore(data: Uint8Array): void {
    this.values.clear();
    this.sessions.clear();
    if (data.byteLength === 0) return;
    const state = JSON.parse(textDecoder.decode(data)) as SerializedState;
    for (const [key, value] of state.entries) this.values.set(key, value);
    for (const [clientId, session] of state.sessions) this.sessions.set(clientId, session);
  }

  private execute(operation: KvCommandOperation): KvCommandOutput {
    switch (operation.kind) {
      case 'put':
        this.values.set(operation.key, operation.value);
        return { kind: 'ok' };
      case 'delete':
        this.values.delete(operation.key);
        return { kind: 'ok' };
      case 'get':
        return { kind: 'value', value: this.get(operation.key) };
      default:
        return assertNever(operation, 'command operation');
    }
  }
}
