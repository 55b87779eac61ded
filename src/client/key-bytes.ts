/**
 * Keys and values as the wire wants them (Buffers, which the generated codecs type their bytes
 * fields as) and the etcd range conventions for prefixes. Pure.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

import { ClientError } from './client-error.js';
import type { Bytes } from './client-types.js';

const encoder = new TextEncoder();

/** `bytes` as a Buffer: strings as UTF-8, byte arrays without copying. */
export function toBuffer(bytes: Bytes): Buffer {
  if (typeof bytes === 'string') return Buffer.from(encoder.encode(bytes));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The etcd range end meaning "to the end of the keyspace" (clientv3 `WithFromKey`). */
const NO_PREFIX_END = Uint8Array.of(0);

/**
 * The range end covering every key that starts with `prefix` (clientv3 `GetPrefixRangeEnd`):
 * the prefix with its last byte below 0xff incremented and the rest dropped; `\0` (all keys from
 * `prefix` on) when every byte is 0xff.
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let position = prefix.byteLength - 1; position >= 0; position -= 1) {
    const byte = prefix[position] ?? 0xff;
    if (byte < 0xff) {
      // A copy: Buffer's slice() is a view, and the prefix itself must stay unchanged.
      const end = new Uint8Array(prefix.subarray(0, position + 1));
      end[position] = byte + 1;
      return end;
    }
  }
  return NO_PREFIX_END;
}

/** The [key, rangeEnd) of a request: an empty rangeEnd means the key alone. */
export interface KeyRange {
  readonly key: Buffer;
  readonly rangeEnd: Buffer;
}

/**
 * The range a key and its options name. An empty key with `prefix` means every key (etcd sends
 * `\0` as both key and range end).
 */
export function keyRange(key: Bytes, options: { prefix?: boolean; rangeEnd?: Bytes }): KeyRange {
  if (options.prefix === true && options.rangeEnd !== undefined) {
    throw new ClientError(GrpcStatus.INVALID_ARGUMENT, 'give prefix or rangeEnd, not both');
  }
  const keyBuffer = toBuffer(key);
  if (options.prefix === true) {
    if (keyBuffer.byteLength === 0) {
      return { key: Buffer.from(NO_PREFIX_END), rangeEnd: Buffer.from(NO_PREFIX_END) };
    }
    return { key: keyBuffer, rangeEnd: Buffer.from(prefixRangeEnd(keyBuffer)) };
  }
  return { key: keyBuffer, rangeEnd: toBuffer(options.rangeEnd ?? new Uint8Array(0)) };
}
