/**
 * The one operational error of the state machine. It owns the stable codes a client request can
 * be refused with; the server maps each code to a gRPC status in one place. A request refused with
 * a KvError has changed nothing: validation runs before any write.
 */
import { RaftkvError } from '../common/index.js';

/** Why the state machine refused a request. */
export type KvErrorCode =
  | 'EMPTY_KEY'
  | 'DUPLICATE_KEY'
  | 'TOO_MANY_OPERATIONS'
  | 'UNSUPPORTED'
  | 'MALFORMED_DATA'
  | 'STALE_SEQUENCE';

const REMEDIES: Readonly<Record<KvErrorCode, string>> = {
  EMPTY_KEY: 'Send a non-empty key.',
  DUPLICATE_KEY:
    'Put each key at most once per transaction branch, and do not put a key the same branch deletes.',
  TOO_MANY_OPERATIONS: 'Split the transaction, or raise the operations-per-transaction limit.',
  UNSUPPORTED: 'Leave the named field unset; raftkv does not implement it yet.',
  STALE_SEQUENCE:
    'The client retried a request older than its latest one; its answer is no longer kept. Use a new sequence number.',
  MALFORMED_DATA:
    'The snapshot or log entry bytes are damaged or from an unknown format version; restore this member from a healthy peer.',
};

/** A client request the state machine refuses; `code` says why, the message names the field. */
export class KvError extends RaftkvError {
  override readonly name = 'KvError';
  readonly code: KvErrorCode;

  constructor(code: KvErrorCode, message: string) {
    super(message, REMEDIES[code]);
    this.code = code;
  }
}

/** The error for a request field raftkv does not implement; the message names the field. */
export function unsupportedField(field: string): KvError {
  return new KvError('UNSUPPORTED', `etcdserver: field '${field}' is not supported by raftkv`);
}

/** The error for undecodable snapshot or command bytes; `what` says which part failed. */
export function malformedData(what: string): KvError {
  return new KvError('MALFORMED_DATA', `malformed state machine data: ${what}`);
}
