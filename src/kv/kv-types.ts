/**
 * The requests and responses of the state machine: plain types mirroring etcd's v3 protobuf
 * messages (etcdserverpb, mvccpb) with camelCase field names. They carry no behaviour; the server
 * translates protobuf to these and back.
 */

/** One key with its value and metadata, as etcd's mvccpb.KeyValue. */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** The store revision of the put that created this key (since its last delete). */
  readonly createRevision: number;
  /** The store revision of the latest put to this key. */
  readonly modRevision: number;
  /** Number of puts since the key was created; 1 after the first. */
  readonly version: number;
}

/** etcd's RangeRequest.SortOrder. Only 'none' and 'ascend' (by key) are supported. */
export type SortOrder = 'none' | 'ascend' | 'descend';
/** etcd's RangeRequest.SortTarget. Only 'key' is supported. */
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

/**
 * A read of one key or a key range. `rangeEnd` follows etcd: absent or empty reads `key` alone,
 * `[0x00]` reads every key >= `key` (all keys when `key` is `[0x00]` too), else `[key, rangeEnd)`.
 */
export interface RangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  /** Maximum number of keys returned; 0 or absent means no limit. */
  readonly limit?: number;
  readonly countOnly?: boolean;
  readonly keysOnly?: boolean;
  /** Accepted and ignored here: the server decides how a read is served. */
  readonly serializable?: boolean;
  /** Must be 0 or absent: historical reads are not supported. */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
}

/** etcd's RangeResponse without the header; `revision` is the store revision. */
export interface RangeResponse {
  readonly kvs: readonly KeyValue[];
  /** True when `limit` cut the result short. */
  readonly more: boolean;
  /** Number of matching keys, regardless of `limit`. */
  readonly count: number;
  revision: number;
}

/** A write of one key. `lease`, `ignoreValue` and `ignoreLease` must be unset. */
export interface PutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly prevKv?: boolean;
  readonly lease?: number;
  readonly ignoreValue?: boolean;
  readonly ignoreLease?: boolean;
}

/** etcd's PutResponse; `prevKv` only when requested and the key existed. */
export interface PutResponse {
  revision: number;
  readonly prevKv?: KeyValue;
}

/** A delete of one key or a key range; `rangeEnd` as in {@link RangeRequest}. */
export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prevKv?: boolean;
}

/** etcd's DeleteRangeResponse; `prevKvs` is empty unless `prevKv` was requested. */
export interface DeleteRangeResponse {
  revision: number;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

/** How a {@link Compare} relates the stored value to `targetValue`. */
export type CompareResult = 'equal' | 'greater' | 'less' | 'notEqual';

/** A compare over a number-valued target. A missing key compares as 0. */
export interface NumberCompare {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly target: 'version' | 'createRevision' | 'modRevision';
  readonly result: CompareResult;
  readonly targetValue: number;
}

/** A compare over the value bytes. A missing key makes it false. */
export interface ValueCompare {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly target: 'value';
  readonly result: CompareResult;
  readonly targetValue: Uint8Array;
}

/** Lease compares exist in etcd but are not supported here. */
export interface LeaseCompare {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly target: 'lease';
  readonly result: CompareResult;
  readonly targetValue: number;
}

/** One guard of a transaction; over a range it holds only if it holds for every key. */
export type Compare = NumberCompare | ValueCompare | LeaseCompare;

/** One operation inside a transaction branch. */
export type RequestOp =
  | { readonly range: RangeRequest }
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest };

/** The response of one {@link RequestOp}, in the same position. */
export type ResponseOp =
  | { readonly range: RangeResponse }
  | { readonly put: PutResponse }
  | { readonly deleteRange: DeleteRangeResponse }
  | { readonly txn: TxnResponse };

/** If every compare holds, run `success`, else `failure`; all writes share one revision. */
export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

/** etcd's TxnResponse; inner responses carry the same `revision` as the transaction. */
export interface TxnResponse {
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
  revision: number;
}

/** What a committed log entry asks the state machine to apply. */
export type WriteRequest =
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest };

/** The response to a {@link WriteRequest}, under the same field name. */
export type WriteResponse =
  | { readonly put: PutResponse }
  | { readonly deleteRange: DeleteRangeResponse }
  | { readonly txn: TxnResponse };
