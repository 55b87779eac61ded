/**
 * The raftkv client library: a typed client of the etcd v3 API as raftkv serves it (and etcd),
 * with endpoint failover and optional exactly-once writes. Used by the CLI, the operator and the
 * benchmarks; imports only generated proto code, common and @grpc/grpc-js.
 */
export { ClientError, type GrpcCodeName } from './client-error.js';
export type {
  Bytes,
  ClientOptions,
  CompareAndSwapResult,
  CompareResult,
  DeleteOptions,
  DeleteOutcome,
  DeleteResult,
  EndpointStatus,
  GetOptions,
  GetResult,
  KeyValue,
  Member,
  MemberAddOptions,
  MemberAddResult,
  MemberId,
  MemberListOptions,
  MemberListResult,
  MoveLeaderResult,
  PutOptions,
  PutResult,
  RangeResult,
  ResponseHeader,
  TxnCompare,
  TxnOperation,
  TxnOperationResult,
  TxnRequest,
  TxnResult,
} from './client-types.js';
export { normalizeEndpoint } from './endpoint-address.js';
export { CLIENT_ID_METADATA_KEY, SEQUENCE_METADATA_KEY } from './exactly-once-session.js';
export { prefixRangeEnd } from './key-bytes.js';
export { formatMemberId, parseMemberId } from './member-id.js';
export { CONNECT_TIMEOUT_MS_DEFAULT, RaftkvClient } from './raftkv-client.js';
