/**
 * The client library's public vocabulary: options, requests and results of RaftkvClient's
 * methods. Plain data; the wire messages stay inside the client (rpc-methods.ts).
 */

/** A key or value: a string is sent as its UTF-8 bytes. */
export type Bytes = string | Uint8Array;

/** A member id: a 64-bit number (etcd picks them at random, so they need a bigint). */
export type MemberId = bigint;

/** Options of {@link RaftkvClient.connect}. */
export interface ClientOptions {
  /** Members' client addresses as `host:port` (`http://host:port` is accepted too). */
  readonly endpoints: readonly string[];
  /**
   * Time allowed for one call, failover included (ms). An exactly-once write waiting behind
   * earlier writes of the same client starts its clock when it is sent.
   */
  readonly requestTimeoutMs: number;
  /**
   * Time allowed to open a connection to one endpoint before trying the next (ms). Default:
   * 2000, or requestTimeoutMs if smaller.
   */
  readonly connectTimeoutMs?: number;
  /**
   * When set, every key-value write carries the `raftkv-client-id` and `raftkv-sequence`
   * metadata, the server applies it at most once, and a write that failed in an unknown state is
   * retried on the next endpoint under the same sequence. The id must be unique to this client
   * instance (a new random id per process): sequences restart at 1.
   */
  readonly exactlyOnce?: { readonly clientId: string };
}

/** The etcd response header. */
export interface ResponseHeader {
  readonly clusterId: MemberId;
  /** The member that answered. */
  readonly memberId: MemberId;
  /** The store revision when the request was served. */
  readonly revision: number;
  readonly raftTerm: number;
}

/** A stored key (without its lease: raftkv has no leases). */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Modifications since creation; 1 for a new key. */
  readonly version: number;
}

export interface PutOptions {
  /** Return the key as it was before (`prevKv` of the result). */
  readonly prevKv?: boolean;
}

export interface PutResult {
  readonly header: ResponseHeader;
  readonly prevKv: KeyValue | undefined;
}

export interface GetOptions {
  /** Every key starting with the key (an empty key with prefix: all keys). */
  readonly prefix?: boolean;
  /** The keys in [key, rangeEnd); exclusive with prefix. */
  readonly rangeEnd?: Bytes;
  /** At most this many keys; 0 means no limit. */
  readonly limit?: number;
  /** Serve from the member's local state without a quorum round (may be stale). */
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** More keys matched than `limit` returned. */
  readonly more: boolean;
  /** How many keys matched. */
  readonly count: number;
}

export interface GetResult extends RangeResult {
  readonly header: ResponseHeader;
}

export interface DeleteOptions {
  readonly prefix?: boolean;
  readonly rangeEnd?: Bytes;
  readonly prevKv?: boolean;
}

export interface DeleteOutcome {
  readonly deleted: number;
  readonly prevKvs: KeyValue[];
}

export interface DeleteResult extends DeleteOutcome {
  readonly header: ResponseHeader;
}

/** How a compare relates the key's target to the given value. */
export type CompareResult = '=' | '!=' | '<' | '>';

/** One condition of a transaction. On a missing key, a value compare is always false. */
export type TxnCompare =
  | {
      readonly key: Bytes;
      readonly target: 'value';
      readonly result: CompareResult;
      readonly value: Bytes;
    }
  | {
      readonly key: Bytes;
      /** version 0 means the key does not exist. */
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly result: CompareResult;
      readonly value: number;
    };

/** One operation of a transaction branch. */
export type TxnOperation =
  | { readonly type: 'get'; readonly key: Bytes; readonly options?: GetOptions }
  | {
      readonly type: 'put';
      readonly key: Bytes;
      readonly value: Bytes;
      readonly options?: PutOptions;
    }
  | { readonly type: 'delete'; readonly key: Bytes; readonly options?: DeleteOptions };

export interface TxnRequest {
  readonly compare: readonly TxnCompare[];
  /** Run when every compare holds. */
  readonly success: readonly TxnOperation[];
  /** Run otherwise. */
  readonly failure: readonly TxnOperation[];
}

/** The result of one operation of the branch that ran, in order. */
export type TxnOperationResult =
  | ({ readonly type: 'get' } & RangeResult)
  | { readonly type: 'put'; readonly prevKv: KeyValue | undefined }
  | ({ readonly type: 'delete' } & DeleteOutcome)
  | { readonly type: 'txn'; readonly succeeded: boolean };

export interface TxnResult {
  readonly header: ResponseHeader;
  /** Whether every compare held (the success branch ran). */
  readonly succeeded: boolean;
  readonly results: TxnOperationResult[];
}

export interface CompareAndSwapResult {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  /**
   * The key as the transaction found it: on success the value replaced (undefined if the key
   * was absent), on failure the value that failed the compare (undefined if absent).
   */
  readonly previous: KeyValue | undefined;
}

export interface Member {
  readonly id: MemberId;
  /** Empty until the member has started and published its name. */
  readonly name: string;
  readonly peerUrls: string[];
  /** Empty until the member has started. */
  readonly clientUrls: string[];
  readonly isLearner: boolean;
}

export interface MemberListOptions {
  /** Read the membership through a quorum (default true); false answers from one member. */
  readonly linearizable?: boolean;
}

export interface MemberListResult {
  readonly header: ResponseHeader;
  readonly members: Member[];
}

export interface MemberAddOptions {
  /** Add as a non-voting learner, to be promoted once caught up. */
  readonly isLearner?: boolean;
}

export interface MemberAddResult extends MemberListResult {
  /** The new member (its name and client URLs stay empty until it starts). */
  readonly member: Member;
}

/** Maintenance.Status of one endpoint. */
export interface EndpointStatus {
  /** The endpoint asked, as given. */
  readonly endpoint: string;
  readonly header: ResponseHeader;
  /** The member's server version. */
  readonly version: string;
  readonly dbSize: number;
  readonly dbSizeInUse: number;
  /** The leader as this member knows it; 0 when it knows none. */
  readonly leader: MemberId;
  /** The member's raft commit index. */
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly isLearner: boolean;
  /** Alarms and errors the member reports. */
  readonly errors: string[];
}

export interface MoveLeaderResult {
  readonly header: ResponseHeader;
  /** The leader that handed over. */
  readonly previousLeader: MemberId;
  /** Where the request went (the previous leader's endpoint). */
  readonly leaderEndpoint: string;
}
