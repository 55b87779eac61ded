/**
 * RaftkvClient: the typed client of a raftkv (or etcd v3) cluster used by the CLI, the operator
 * and the benchmarks. Owns the policy of each method (read or write, failover or one endpoint,
 * exactly-once); the wire work is rpc-methods.ts and kv-requests.ts, connections are
 * endpoint-pool.ts, failover is failover-call.ts.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

import { ClientError } from './client-error.js';
import type {
  Bytes,
  ClientOptions,
  CompareAndSwapResult,
  DeleteOptions,
  DeleteResult,
  EndpointStatus,
  GetOptions,
  GetResult,
  MemberAddOptions,
  MemberAddResult,
  MemberId,
  MemberListOptions,
  MemberListResult,
  MoveLeaderResult,
  PutOptions,
  PutResult,
  TxnRequest,
  TxnResult,
} from './client-types.js';
import { endpointOfClientUrl, normalizeEndpoint } from './endpoint-address.js';
import { EndpointPool } from './endpoint-pool.js';
import { ExactlyOnceSession } from './exactly-once-session.js';
import { type CallSettings, callEndpoint, callWithFailover } from './failover-call.js';
import { deleteRangeRequest, putRequest, rangeRequest, txnRequest } from './kv-requests.js';
import { formatMemberId } from './member-id.js';
import {
  DELETE_RANGE,
  MEMBER_ADD,
  MEMBER_LIST,
  MEMBER_PROMOTE,
  MEMBER_REMOVE,
  MOVE_LEADER,
  PUT,
  RANGE,
  STATUS,
  TXN,
  type UnaryMethod,
} from './rpc-methods.js';

/** Default cap on the wait for one endpoint's connection (ClientOptions.connectTimeoutMs). */
export const CONNECT_TIMEOUT_MS_DEFAULT = 2000;

function invalidArgument(message: string): ClientError {
  return new ClientError(GrpcStatus.INVALID_ARGUMENT, message);
}

function positiveMilliseconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw invalidArgument(`${name} must be a positive number of milliseconds, not ${value}`);
  }
  return value;
}

/**
 * A client of one cluster. Reads go to any endpoint and fail over on UNAVAILABLE; writes fail
 * over only when the request provably was not sent, or with exactly-once on. Every method
 * rejects with a {@link ClientError}. Call {@link close} when done.
 */
export class RaftkvClient {
  private readonly pool: EndpointPool;
  private readonly session: ExactlyOnceSession | undefined;

  private constructor(
    endpoints: readonly string[],
    private readonly requestTimeoutMs: number,
    private readonly connectTimeoutMs: number,
    clientId: string | undefined,
  ) {
    this.pool = new EndpointPool(endpoints);
    this.session = clientId === undefined ? undefined : new ExactlyOnceSession(clientId);
  }

  /**
   * A client of the cluster at `options.endpoints`. Connections open lazily, on the first call,
   * so this checks the options only; an unreachable cluster shows on the first call.
   */
  static async connect(options: ClientOptions): Promise<RaftkvClient> {
    const endpoints = [...new Set(options.endpoints.map(normalizeEndpoint))];
    if (endpoints.length === 0) throw invalidArgument('no endpoints given');
    const requestTimeoutMs = positiveMilliseconds('requestTimeoutMs', options.requestTimeoutMs);
    const connectTimeoutMs = positiveMilliseconds(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? Math.min(CONNECT_TIMEOUT_MS_DEFAULT, requestTimeoutMs),
    );
    return new RaftkvClient(
      endpoints,
      requestTimeoutMs,
      connectTimeoutMs,
      options.exactlyOnce?.clientId,
    );
  }

  /** The configured endpoints, normalized to `host:port`. */
  get endpoints(): readonly string[] {
    return this.pool.endpoints;
  }

  /** Sets `key` to `value`. */
  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<PutResult> {
    return this.write(PUT, putRequest(key, value, options));
  }

  /** Reads `key`, or a range or prefix of keys; linearizable unless `serializable`. */
  async get(key: Bytes, options: GetOptions = {}): Promise<GetResult> {
    return this.read(RANGE, rangeRequest(key, options));
  }

  /** Deletes `key`, or a range or prefix of keys. */
  async delete(key: Bytes, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.write(DELETE_RANGE, deleteRangeRequest(key, options));
  }

  /** Runs `success` if every compare holds, `failure` otherwise, atomically. */
  async txn(request: TxnRequest): Promise<TxnResult> {
    return this.write(TXN, txnRequest(request));
  }

  /**
   * Sets `key` to `newValue` if it holds `expectedValue` (or, with `null`, if it does not
   * exist), atomically.
   */
  async compareAndSwap(
    key: Bytes,
    expectedValue: Bytes | null,
    newValue: Bytes,
  ): Promise<CompareAndSwapResult> {
    const result = await this.txn({
      compare: [
        expectedValue === null
          ? { key, target: 'version', result: '=', value: 0 }
          : { key, target: 'value', result: '=', value: expectedValue },
      ],
      success: [{ type: 'put', key, value: newValue, options: { prevKv: true } }],
      failure: [{ type: 'get', key }],
    });
    const [first] = result.results;
    let previous;
    if (first?.type === 'put') previous = first.prevKv;
    else if (first?.type === 'get') previous = first.kvs[0];
    return { header: result.header, succeeded: result.succeeded, previous };
  }

  /** The cluster's members. */
  async memberList(options: MemberListOptions = {}): Promise<MemberListResult> {
    return this.read(MEMBER_LIST, { linearizable: options.linearizable ?? true });
  }

  /** Adds a member that will serve peers at `peerUrls`; it must then be started. */
  async memberAdd(
    peerUrls: readonly string[],
    options: MemberAddOptions = {},
  ): Promise<MemberAddResult> {
    if (peerUrls.length === 0) throw invalidArgument('a new member needs at least one peer URL');
    return this.changeMembership(MEMBER_ADD, { peerUrls, isLearner: options.isLearner ?? false });
  }

  /** Makes the learner `id` a voter; the server refuses while it lags behind the leader. */
  async memberPromote(id: MemberId): Promise<MemberListResult> {
    return this.changeMembership(MEMBER_PROMOTE, { id });
  }

  /** Removes member `id` from the cluster. */
  async memberRemove(id: MemberId): Promise<MemberListResult> {
    return this.changeMembership(MEMBER_REMOVE, { id });
  }

  /** Maintenance.Status of the one member at `endpoint` (any address; no failover). */
  async status(endpoint: string): Promise<EndpointStatus> {
    const address = normalizeEndpoint(endpoint);
    const status = await callEndpoint(this.pool, address, STATUS, {}, this.settings());
    return { endpoint: address, ...status };
  }

  /**
   * Transfers leadership to the voter `targetId`. The request must reach the leader: its
   * endpoint is found by asking every endpoint's status, or else from the member list.
   */
  async moveLeader(targetId: MemberId): Promise<MoveLeaderResult> {
    const statuses = await Promise.allSettled(
      this.endpoints.map((address) => this.status(address)),
    );
    const answered = statuses.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    );
    if (answered.length === 0) {
      const tried = this.endpoints.join(', ');
      throw new ClientError(GrpcStatus.UNAVAILABLE, `no endpoint reachable (tried ${tried})`);
    }
    const leader = answered.find((status) => status.leader !== 0n)?.leader;
    if (leader === undefined) {
      throw new ClientError(
        GrpcStatus.UNAVAILABLE,
        `no leader: no member knows one (asked ${answered.map((status) => status.endpoint).join(', ')})`,
      );
    }
    const leaderEndpoint = await this.endpointOf(leader, answered);
    const { header } = await callEndpoint(
      this.pool,
      leaderEndpoint,
      MOVE_LEADER,
      { id: targetId },
      this.settings(),
    );
    return { header, previousLeader: leader, leaderEndpoint };
  }

  /** Closes every connection; calls in flight and later calls fail with CANCELLED. */
  close(): void {
    this.pool.close();
  }

  /** The endpoint of member `id`: one of ours that it answered on, else its client URLs. */
  private async endpointOf(id: MemberId, statuses: readonly EndpointStatus[]): Promise<string> {
    const answeredBy = statuses.find((status) => status.header.memberId === id);
    if (answeredBy !== undefined) return answeredBy.endpoint;
    const { members } = await this.memberList();
    const member = members.find((candidate) => candidate.id === id);
    const endpoint = member?.clientUrls.map(endpointOfClientUrl).find((url) => url !== undefined);
    if (endpoint === undefined) {
      throw new ClientError(
        GrpcStatus.UNAVAILABLE,
        `leader ${formatMemberId(id)} is not among the endpoints and advertises no http client URL`,
      );
    }
    return endpoint;
  }

  private settings(): CallSettings {
    return {
      deadline: Date.now() + this.requestTimeoutMs,
      timeoutMs: this.requestTimeoutMs,
      connectTimeoutMs: this.connectTimeoutMs,
    };
  }

  private read<Request, Response>(
    method: UnaryMethod<Request, Response>,
    request: Request,
  ): Promise<Response> {
    return callWithFailover(this.pool, method, request, this.settings());
  }

  /** A key-value write: with exactly-once, queued and sent under a sequence number. */
  private write<Request, Response>(
    method: UnaryMethod<Request, Response>,
    request: Request,
  ): Promise<Response> {
    if (this.session === undefined)
      return callWithFailover(this.pool, method, request, this.settings());
    return this.session.run((metadata) =>
      callWithFailover(this.pool, method, request, {
        ...this.settings(),
        metadata,
        isDeduplicated: true,
      }),
    );
  }

  /**
   * A membership change: the server's session table covers key-value writes only, so a change
   * is resent elsewhere only when it provably was not sent.
   */
  private changeMembership<Request, Response>(
    method: UnaryMethod<Request, Response>,
    request: Request,
  ): Promise<Response> {
    return callWithFailover(this.pool, method, request, this.settings());
  }
}
