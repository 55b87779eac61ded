/**
 * The etcd v3 methods the client calls, each as a path with a serializer and a deserializer for
 * grpc-js. Requests are built and encoded by the generated codecs, except the three that carry a
 * member id (encoded here, exactly); responses are decoded by the generated codecs after the wide
 * id fields are taken out (wide-id-fields.ts) and read back as bigints. Converts wire messages to
 * the client's result types; owns no connection, retry or timing.
 */
import {
  DeleteRangeRequest,
  DeleteRangeResponse,
  KVService,
  ClusterService,
  MaintenanceService,
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader as ResponseHeaderCodec,
  type ResponseOp,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  type Member as WireMember,
} from '../generated/etcdserverpb/rpc.js';
import type { KeyValue as WireKeyValue } from '../generated/mvccpb/kv.js';
import type {
  EndpointStatus,
  KeyValue,
  Member,
  MemberAddResult,
  MemberId,
  MemberListResult,
  ResponseHeader,
  TxnOperationResult,
  TxnResult,
  GetResult,
  PutResult,
  DeleteResult,
} from './client-types.js';
import {
  DELETE_RANGE_RESPONSE_SHAPE,
  MEMBER_ADD_RESPONSE_SHAPE,
  MEMBERS_RESPONSE_SHAPE,
  type MessageShape,
  PUT_RESPONSE_SHAPE,
  RANGE_RESPONSE_SHAPE,
  readMessageField,
  readMessageFields,
  readUint64Field,
  RESPONSE_HEADER_SHAPE,
  STATUS_RESPONSE_SHAPE,
  TXN_RESPONSE_SHAPE,
  withoutWideFields,
} from './wide-id-fields.js';
import { encodeUint64Field } from './wire-format.js';

/** One unary method as grpc-js's `makeUnaryRequest` takes it. */
export interface UnaryMethod<Request, Response> {
  readonly path: string;
  /** Whether a call changes state (decides failover and exactly-once metadata). */
  readonly isWrite: boolean;
  readonly serialize: (request: Request) => Buffer;
  readonly deserialize: (bytes: Buffer) => Response;
}

/** The generated encode/decode pair of a message. */
interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function encodeWith<T>(codec: Codec<T>): (message: T) => Buffer {
  return (message) => Buffer.from(codec.encode(message).finish());
}

/** Decodes with the generated codec after taking the wide id fields out. */
function decodeNarrowed<T>(codec: Codec<T>, bytes: Uint8Array, shape: MessageShape): T {
  return codec.decode(withoutWideFields(bytes, shape));
}

/** The response header of a response message (field 1 of every etcd response). */
export function decodeHeader(response: Uint8Array): ResponseHeader {
  const headerBytes = readMessageField(response, 1);
  const narrow = decodeNarrowed(ResponseHeaderCodec, headerBytes, RESPONSE_HEADER_SHAPE);
  return {
    clusterId: readUint64Field(headerBytes, 1),
    memberId: readUint64Field(headerBytes, 2),
    revision: narrow.revision,
    raftTerm: narrow.raftTerm,
  };
}

function toKeyValue(wire: WireKeyValue): KeyValue {
  return {
    key: wire.key,
    value: wire.value,
    createRevision: wire.createRevision,
    modRevision: wire.modRevision,
    version: wire.version,
  };
}

/** Members decoded by the generated codec, with their ids read from `memberBytes`. */
function toMembers(wire: readonly WireMember[], memberBytes: readonly Uint8Array[]): Member[] {
  return wire.map((member, position) => toMember(member, memberBytes[position]));
}

function toMember(wire: WireMember, bytes: Uint8Array | undefined): Member {
  return {
    id: bytes === undefined ? 0n : readUint64Field(bytes, 1),
    name: wire.name,
    peerUrls: wire.peerURLs,
    clientUrls: wire.clientURLs,
    isLearner: wire.isLearner,
  };
}

function toOperationResult(operation: ResponseOp): TxnOperationResult {
  const response = operation.response;
  switch (response?.$case) {
    case 'responseRange':
      return {
        type: 'get',
        kvs: response.value.kvs.map(toKeyValue),
        more: response.value.more,
        count: response.value.count,
      };
    case 'responsePut':
      return { type: 'put', prevKv: optionalKeyValue(response.value.prevKv) };
    case 'responseDeleteRange':
      return {
        type: 'delete',
        deleted: response.value.deleted,
        prevKvs: response.value.prevKvs.map(toKeyValue),
      };
    case 'responseTxn':
      return { type: 'txn', succeeded: response.value.succeeded };
    case undefined:
      throw new Error('transaction response operation without a response');
  }
}

function optionalKeyValue(wire: WireKeyValue | undefined): KeyValue | undefined {
  return wire === undefined ? undefined : toKeyValue(wire);
}

/** A request naming one member by id (MemberRemove, MemberPromote, MoveLeader: field 1). */
export interface MemberIdRequest {
  readonly id: MemberId;
}

const encodeMemberIdRequest = (request: MemberIdRequest): Buffer =>
  Buffer.from(encodeUint64Field(1, request.id));

function membersResult(bytes: Uint8Array): MemberListResult {
  const wire = decodeNarrowed(MemberListResponse, bytes, MEMBERS_RESPONSE_SHAPE);
  return {
    header: decodeHeader(bytes),
    members: toMembers(wire.members, readMessageFields(bytes, 2)),
  };
}

export const RANGE: UnaryMethod<RangeRequest, GetResult> = {
  path: KVService.range.path,
  isWrite: false,
  serialize: encodeWith(RangeRequest),
  deserialize: (bytes) => {
    const wire = decodeNarrowed(RangeResponse, bytes, RANGE_RESPONSE_SHAPE);
    const kvs = wire.kvs.map(toKeyValue);
    return { header: decodeHeader(bytes), kvs, more: wire.more, count: wire.count };
  },
};

export const PUT: UnaryMethod<PutRequest, PutResult> = {
  path: KVService.put.path,
  isWrite: true,
  serialize: encodeWith(PutRequest),
  deserialize: (bytes) => {
    const wire = decodeNarrowed(PutResponse, bytes, PUT_RESPONSE_SHAPE);
    return { header: decodeHeader(bytes), prevKv: optionalKeyValue(wire.prevKv) };
  },
};

export const DELETE_RANGE: UnaryMethod<DeleteRangeRequest, DeleteResult> = {
  path: KVService.deleteRange.path,
  isWrite: true,
  serialize: encodeWith(DeleteRangeRequest),
  deserialize: (bytes) => {
    const wire = decodeNarrowed(DeleteRangeResponse, bytes, DELETE_RANGE_RESPONSE_SHAPE);
    return {
      header: decodeHeader(bytes),
      deleted: wire.deleted,
      prevKvs: wire.prevKvs.map(toKeyValue),
    };
  },
};

export const TXN: UnaryMethod<TxnRequest, TxnResult> = {
  path: KVService.txn.path,
  isWrite: true,
  serialize: encodeWith(TxnRequest),
  deserialize: (bytes) => {
    const wire = decodeNarrowed(TxnResponse, bytes, TXN_RESPONSE_SHAPE);
    return {
      header: decodeHeader(bytes),
      succeeded: wire.succeeded,
      results: wire.responses.map(toOperationResult),
    };
  },
};

export const MEMBER_LIST: UnaryMethod<{ linearizable: boolean }, MemberListResult> = {
  path: ClusterService.memberList.path,
  isWrite: false,
  serialize: (request) => encodeWith(MemberListRequest)(MemberListRequest.fromPartial(request)),
  deserialize: membersResult,
};

/** A member to add. */
export interface MemberAddition {
  readonly peerUrls: readonly string[];
  readonly isLearner: boolean;
}

export const MEMBER_ADD: UnaryMethod<MemberAddition, MemberAddResult> = {
  path: ClusterService.memberAdd.path,
  isWrite: true,
  serialize: (request) =>
    encodeWith(MemberAddRequest)(
      MemberAddRequest.fromPartial({
        peerURLs: [...request.peerUrls],
        isLearner: request.isLearner,
      }),
    ),
  deserialize: (bytes) => {
    const wire = decodeNarrowed(MemberAddResponse, bytes, MEMBER_ADD_RESPONSE_SHAPE);
    const member = wire.member;
    if (member === undefined) throw new Error('MemberAddResponse without the new member');
    return {
      header: decodeHeader(bytes),
      member: toMember(member, readMessageField(bytes, 2)),
      members: toMembers(wire.members, readMessageFields(bytes, 3)),
    };
  },
};

export const MEMBER_REMOVE: UnaryMethod<MemberIdRequest, MemberListResult> = {
  path: ClusterService.memberRemove.path,
  isWrite: true,
  serialize: encodeMemberIdRequest,
  deserialize: membersResult,
};

export const MEMBER_PROMOTE: UnaryMethod<MemberIdRequest, MemberListResult> = {
  path: ClusterService.memberPromote.path,
  isWrite: true,
  serialize: encodeMemberIdRequest,
  deserialize: membersResult,
};

/** StatusRequest has no fields. */
const EMPTY_REQUEST = Buffer.alloc(0);

export const STATUS: UnaryMethod<Record<string, never>, Omit<EndpointStatus, 'endpoint'>> = {
  path: MaintenanceService.status.path,
  isWrite: false,
  serialize: () => EMPTY_REQUEST,
  deserialize: (bytes) => {
    const wire = decodeNarrowed(StatusResponse, bytes, STATUS_RESPONSE_SHAPE);
    return {
      header: decodeHeader(bytes),
      version: wire.version,
      dbSize: wire.dbSize,
      dbSizeInUse: wire.dbSizeInUse,
      leader: readUint64Field(bytes, 4),
      raftIndex: wire.raftIndex,
      raftTerm: wire.raftTerm,
      raftAppliedIndex: wire.raftAppliedIndex,
      isLearner: wire.isLearner,
      errors: wire.errors,
    };
  },
};

export const MOVE_LEADER: UnaryMethod<MemberIdRequest, { header: ResponseHeader }> = {
  path: MaintenanceService.moveLeader.path,
  isWrite: true,
  serialize: encodeMemberIdRequest,
  deserialize: (bytes) => ({ header: decodeHeader(bytes) }),
};
