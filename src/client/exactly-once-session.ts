/**
 * The client's half of exactly-once writes (DESIGN.md §6): a client id and a sequence number that
 * rises by one per write request, sent as `raftkv-client-id` and `raftkv-sequence` metadata; a
 * retry of the same request carries the same number. The server remembers only each client's
 * latest request, so writes are sent one at a time, in call order: a retry of an older request
 * would otherwise be refused as stale once a newer one was applied.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';

import { ClientError } from './client-error.js';

export const CLIENT_ID_METADATA_KEY = 'raftkv-client-id';
export const SEQUENCE_METADATA_KEY = 'raftkv-sequence';

/** The server's limit on a client id (src/server's CLIENT_ID_BYTES_MAX). */
const CLIENT_ID_CHARACTERS_MAX = 256;
/** gRPC text metadata values are printable ASCII. */
const CLIENT_ID_PATTERN = /^[\x20-\x7e]+$/;

export class ExactlyOnceSession {
  private nextSequence = 1;
  /** Settles when the last queued write has finished. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly clientId: string) {
    if (!CLIENT_ID_PATTERN.test(clientId) || clientId.length > CLIENT_ID_CHARACTERS_MAX) {
      throw new ClientError(
        GrpcStatus.INVALID_ARGUMENT,
        `exactly-once client id must be 1 to ${CLIENT_ID_CHARACTERS_MAX} printable ASCII characters`,
      );
    }
  }

  /**
   * Runs `write` after every write queued before it, with the metadata of the next sequence
   * number; `write` must send every attempt of the request with that same metadata.
   */
  run<T>(write: (metadata: Metadata) => Promise<T>): Promise<T> {
    const start = (): Promise<T> => write(this.metadataFor(this.nextSequence++));
    const result = this.tail.then(start, start);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private metadataFor(sequence: number): Metadata {
    const metadata = new Metadata();
    metadata.set(CLIENT_ID_METADATA_KEY, this.clientId);
    metadata.set(SEQUENCE_METADATA_KEY, String(sequence));
    return metadata;
  }
}
