import { describe, expect, it } from 'vitest';

import { MemberListResponse, ResponseHeader, TxnResponse } from '../generated/etcdserverpb/rpc.js';
import { MEMBER_ADD, MEMBER_LIST, RANGE, STATUS, TXN } from './rpc-methods.js';
import { RANGE_RESPONSE_SHAPE, withoutWideFields } from './wide-id-fields.js';
import { concatBytes, encodeLengthDelimitedField, encodeUint64Field } from './wire-format.js';

/** etcd-sized ids: far above 2^53, where a JavaScript number loses precision. */
const CLUSTER_ID = 0xdc50b8daae93b3e0n;
const MEMBER_ID = 0x8e9e05c52164694dn;
const OTHER_ID = 0xfffffffffffffff1n;

const field = encodeLengthDelimitedField;
const text = (value: string) => new TextEncoder().encode(value);

/** A ResponseHeader as etcd sends it: ids by hand, the rest by the generated codec. */
function header(revision: number): Uint8Array {
  return concatBytes([
    encodeUint64Field(1, CLUSTER_ID),
    encodeUint64Field(2, MEMBER_ID),
    ResponseHeader.encode(ResponseHeader.fromPartial({ revision, raftTerm: 3 })).finish(),
  ]);
}

function member(id: bigint, name: string, isLearner = false): Uint8Array {
  return concatBytes([
    encodeUint64Field(1, id),
    field(2, text(name)),
    field(3, text(`http://${name}:2380`)),
    field(4, text(`http://${name}:2379`)),
    isLearner ? Uint8Array.of(0x28, 1) : new Uint8Array(0),
  ]);
}

describe('responses with 64-bit ids', () => {
  it('shows why: the generated decoder refuses etcd ids', () => {
    expect(() => ResponseHeader.decode(header(1))).toThrow(/MAX_SAFE_INTEGER/);
  });

  it('decodes member lists with exact ids', () => {
    const bytes = concatBytes([
      field(1, header(9)),
      field(2, member(MEMBER_ID, 'a')),
      field(2, member(OTHER_ID, 'b', true)),
    ]);
    const result = MEMBER_LIST.deserialize(Buffer.from(bytes));
    expect(result.header).toEqual({
      clusterId: CLUSTER_ID,
      memberId: MEMBER_ID,
      revision: 9,
      raftTerm: 3,
    });
    expect(result.members).toEqual([
      {
        id: MEMBER_ID,
        name: 'a',
        peerUrls: ['http://a:2380'],
        clientUrls: ['http://a:2379'],
        isLearner: false,
      },
      {
        id: OTHER_ID,
        name: 'b',
        peerUrls: ['http://b:2380'],
        clientUrls: ['http://b:2379'],
        isLearner: true,
      },
    ]);
  });

  it('decodes the new member of a MemberAddResponse', () => {
    const bytes = concatBytes([
      field(1, header(0)),
      field(2, member(OTHER_ID, 'new', true)),
      field(3, member(MEMBER_ID, 'a')),
      field(3, member(OTHER_ID, 'new', true)),
    ]);
    const result = MEMBER_ADD.deserialize(Buffer.from(bytes));
    expect(result.member.id).toBe(OTHER_ID);
    expect(result.members.map((entry) => entry.id)).toEqual([MEMBER_ID, OTHER_ID]);
  });

  it('decodes the leader of a StatusResponse', () => {
    const bytes = concatBytes([
      field(1, header(5)),
      field(2, text('3.4.23')),
      encodeUint64Field(4, OTHER_ID),
      Uint8Array.of(0x28, 42, 0x30, 3, 0x38, 41),
    ]);
    const status = STATUS.deserialize(Buffer.from(bytes));
    expect(status.leader).toBe(OTHER_ID);
    expect(status.header.memberId).toBe(MEMBER_ID);
    expect([status.version, status.raftIndex, status.raftTerm, status.raftAppliedIndex]).toEqual([
      '3.4.23',
      42,
      3,
      41,
    ]);
  });

  it('decodes key-values whose lease is a 64-bit etcd lease id', () => {
    const keyValue = concatBytes([
      field(1, text('k')),
      Uint8Array.of(0x10, 2, 0x18, 3, 0x20, 1),
      field(5, text('v')),
      encodeUint64Field(6, OTHER_ID),
    ]);
    const bytes = concatBytes([field(1, header(3)), field(2, keyValue), Uint8Array.of(0x20, 1)]);
    const result = RANGE.deserialize(Buffer.from(bytes));
    expect(result.count).toBe(1);
    expect(result.kvs).toEqual([
      {
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        createRevision: 2,
        modRevision: 3,
        version: 1,
      },
    ]);
  });

  it('decodes nested transaction responses whose headers carry ids', () => {
    const range = concatBytes([field(1, header(4)), Uint8Array.of(0x20, 0)]);
    const put = field(1, header(4));
    const nestedTxn = concatBytes([field(1, header(4)), Uint8Array.of(0x10, 1)]);
    const bytes = concatBytes([
      field(1, header(4)),
      Uint8Array.of(0x10, 1),
      field(3, field(1, range)),
      field(3, field(2, put)),
      field(3, field(4, nestedTxn)),
    ]);
    const result = TXN.deserialize(Buffer.from(bytes));
    expect(result.succeeded).toBe(true);
    expect(result.results).toEqual([
      { type: 'get', kvs: [], more: false, count: 0 },
      { type: 'put', prevKv: undefined },
      { type: 'txn', succeeded: true },
    ]);
    expect(result.header.clusterId).toBe(CLUSTER_ID);
  });

  it('leaves messages without wide ids untouched (raftkv ids are small)', () => {
    const small = MemberListResponse.encode(
      MemberListResponse.fromPartial({ header: { revision: 1 }, members: [{ name: 'a' }] }),
    ).finish();
    expect(withoutWideFields(small, RANGE_RESPONSE_SHAPE)).toBe(small);
    const txn = TxnResponse.encode(TxnResponse.fromPartial({ succeeded: true })).finish();
    expect(TXN.deserialize(Buffer.from(txn)).header.clusterId).toBe(0n);
  });
});
