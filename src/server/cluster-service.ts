/**
 * The etcd `Cluster` gRPC service: member list, add (voter or learner), promote, remove and
 * update, through the core's joint consensus. Changes run on the leader; a follower forwards the
 * call to the leader's client address. Each change waits until it is applied and the joint
 * configuration it entered has been left, so the next change can follow at once. A removal that
 * would leave the new configuration without a reachable quorum is refused, as etcd does.
 */
import { randomInt } from 'node:crypto';

import { credentials } from '@grpc/grpc-js';

import type { NodeId } from '../common/index.js';
import {
  ClusterClient,
  type ClusterServer,
  type Member,
  type MemberAddRequest,
  type MemberAddResponse,
  type MemberListRequest,
  type MemberListResponse,
  type MemberPromoteRequest,
  type MemberPromoteResponse,
  type MemberRemoveRequest,
  type MemberRemoveResponse,
  type MemberUpdateRequest,
  type MemberUpdateResponse,
} from '../generated/etcdserverpb/rpc.js';
import { type ConfigurationChange, isJoint, memberIds } from '../raft/index.js';
import { encodeEnvelope } from './entry-envelope.js';
import { encodeMemberChange, type MemberChange } from './member-registry.js';
import { ForwardedError } from './grpc-status-mapping.js';
import { ServerError } from './server-error.js';
import { responseHeader, type ServiceContext, unary } from './service-context.js';

/** A learner may be promoted once its log reaches this share of the leader's (etcd: 90%). */
const PROMOTE_MATCH_RATIO = 0.9;
/** How often a membership call checks whether the joint configuration was left. */
const SETTLE_POLL_MS = 20;

/** Builds the Cluster service handlers. */
export function createClusterService(context: ServiceContext): ClusterServer {
  const forwarding = new LeaderForwarding(context);

  const members = (): Member[] => {
    const configuration = context.loop.status().configuration;
    return memberIds(configuration).map((id) => {
      const record = context.state.members.get(id);
      return {
        ID: id,
        name: record?.name ?? '',
        peerURLs: [...(record?.peerUrls ?? [])],
        clientURLs: [...(record?.clientUrls ?? [])],
        isLearner: configuration.learners.includes(id) || configuration.learnersNext.includes(id),
      };
    });
  };
  const header = () => responseHeader(context, context.state.kv.revision());

  const proposeMemberChange = async (change: MemberChange): Promise<void> => {
    const requestNumber = context.loop.allocateRequestNumber();
    const data = encodeEnvelope({
      kind: 'memberChange',
      originId: context.selfId,
      requestNumber,
      session: undefined,
      command: encodeMemberChange(change),
    });
    await context.loop.propose(requestNumber, data);
  };

  /** Proposes a configuration change and waits until it and its joint phase are applied. */
  const changeConfiguration = async (change: ConfigurationChange): Promise<void> => {
    await context.loop.proposeConfigurationChange(change);
    const deadline = performance.now() + context.requestTimeoutMs;
    while (isJoint(context.loop.status().configuration)) {
      if (performance.now() > deadline) {
        throw new ServerError('REQUEST_TIMEOUT', 'etcdserver: request timed out');
      }
      await delay(SETTLE_POLL_MS);
    }
  };

  const requireMember = (id: NodeId): void => {
    if (!memberIds(context.loop.status().configuration).includes(id)) {
      throw new ServerError('MEMBER_NOT_FOUND', 'etcdserver: member not found');
    }
  };

  return {
    memberList: unary(
      context,
      'etcdserverpb.Cluster/MemberList',
      async (request: MemberListRequest): Promise<MemberListResponse> => {
        if (request.linearizable) await context.loop.readBarrier();
        return { header: header(), members: members() };
      },
    ),

    memberAdd: unary(
      context,
      'etcdserverpb.Cluster/MemberAdd',
      async (request: MemberAddRequest, metadata): Promise<MemberAddResponse> => {
        const forwarded = await forwarding.forward<MemberAddResponse>(
          'memberAdd',
          request,
          metadata,
        );
        if (forwarded !== undefined) return forwarded;
        checkPeerUrls(request.peerURLs);
        for (const record of context.state.members.list()) {
          if (record.peerUrls.some((url) => request.peerURLs.includes(url))) {
            throw new ServerError('PEER_URL_EXISTS', 'etcdserver: Peer URLs already exists');
          }
        }
        const id = newMemberId(context);
        const member = { id, name: '', peerUrls: request.peerURLs, clientUrls: [] };
        await proposeMemberChange({ kind: 'register', member });
        await changeConfiguration({
          changes: [{ kind: request.isLearner ? 'addLearner' : 'addVoter', nodeId: id }],
        });
        context.logger.info(
          { memberId: id, peerUrls: request.peerURLs, isLearner: request.isLearner },
          'member added',
        );
        const added = members().find((candidate) => candidate.ID === id);
        return {
          header: header(),
          member: added ?? {
            ID: id,
            name: '',
            peerURLs: request.peerURLs,
            clientURLs: [],
            isLearner: request.isLearner,
          },
          members: members(),
        };
      },
    ),

    memberPromote: unary(
      context,
      'etcdserverpb.Cluster/MemberPromote',
      async (request: MemberPromoteRequest, metadata): Promise<MemberPromoteResponse> => {
        const forwarded = await forwarding.forward<MemberPromoteResponse>(
          'memberPromote',
          request,
          metadata,
        );
        if (forwarded !== undefined) return forwarded;
        const status = context.loop.status();
        requireMember(request.ID);
        if (!status.configuration.learners.includes(request.ID)) {
          throw new ServerError(
            'MEMBER_NOT_LEARNER',
            'etcdserver: can only promote a learner member',
          );
        }
        const progress = status.progress?.get(request.ID);
        if (
          progress === undefined ||
          progress.matchIndex < Math.floor(status.lastIndex * PROMOTE_MATCH_RATIO)
        ) {
          throw new ServerError(
            'LEARNER_NOT_READY',
            'etcdserver: can only promote a learner member which is in sync with leader',
          );
        }
        await changeConfiguration({ changes: [{ kind: 'addVoter', nodeId: request.ID }] });
        context.logger.info({ memberId: request.ID }, 'learner promoted to voter');
        return { header: header(), members: members() };
      },
    ),

    memberRemove: unary(
      context,
      'etcdserverpb.Cluster/MemberRemove',
      async (request: MemberRemoveRequest, metadata): Promise<MemberRemoveResponse> => {
        const forwarded = await forwarding.forward<MemberRemoveResponse>(
          'memberRemove',
          request,
          metadata,
        );
        if (forwarded !== undefined) return forwarded;
        requireMember(request.ID);
        checkQuorumAfterRemoval(context, request.ID);
        await changeConfiguration({ changes: [{ kind: 'removeNode', nodeId: request.ID }] });
        // The registry record goes when the configuration without the member is applied
        // (RaftLoop.forgetRemovedMembers), also on a leader that removed itself.
        context.logger.info({ memberId: request.ID }, 'member removed');
        return { header: header(), members: members() };
      },
    ),

    memberUpdate: unary(
      context,
      'etcdserverpb.Cluster/MemberUpdate',
      async (request: MemberUpdateRequest, metadata): Promise<MemberUpdateResponse> => {
        const forwarded = await forwarding.forward<MemberUpdateResponse>(
          'memberUpdate',
          request,
          metadata,
        );
        if (forwarded !== undefined) return forwarded;
        requireMember(request.ID);
        checkPeerUrls(request.peerURLs);
        const record = context.state.members.get(request.ID);
        await proposeMemberChange({
          kind: 'register',
          member: {
            id: request.ID,
            name: record?.name ?? '',
            peerUrls: request.peerURLs,
            clientUrls: record?.clientUrls ?? [],
          },
        });
        return { header: header(), members: members() };
      },
    ),
  };
}

function checkPeerUrls(urls: readonly string[]): void {
  if (urls.length === 0) {
    throw new ServerError('BAD_PEER_URLS', 'etcdserver: given member URLs are invalid');
  }
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ServerError('BAD_PEER_URLS', `etcdserver: given member URLs are invalid: ${url}`);
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.port === '') {
      throw new ServerError('BAD_PEER_URLS', `etcdserver: given member URLs are invalid: ${url}`);
    }
  }
}

/** A fresh member id: random below 2^53 (decision 0002), never one in use. */
function newMemberId(context: ServiceContext): NodeId {
  for (;;) {
    const id = randomInt(1, 2 ** 47) * 64 + randomInt(0, 64);
    if (context.state.members.get(id) === undefined) return id;
  }
}

/**
 * Refuses removing `id` if the voters left would not include a quorum the leader has heard from
 * recently (etcd's "unhealthy cluster" check).
 */
function checkQuorumAfterRemoval(context: ServiceContext, id: NodeId): void {
  const status = context.loop.status();
  const remaining = status.configuration.voters.filter((voter) => voter !== id);
  if (remaining.length === 0) {
    throw new ServerError(
      'UNHEALTHY_CLUSTER',
      'etcdserver: unhealthy cluster (no voter would remain)',
    );
  }
  const active = remaining.filter(
    (voter) => voter === context.selfId || status.progress?.get(voter)?.isRecentlyActive === true,
  );
  if (active.length < Math.floor(remaining.length / 2) + 1) {
    throw new ServerError('UNHEALTHY_CLUSTER', 'etcdserver: unhealthy cluster');
  }
}

type ForwardedMethod = 'memberAdd' | 'memberPromote' | 'memberRemove' | 'memberUpdate';

/** Sends a membership call on to the leader when this member is not it. */
class LeaderForwarding {
  private client: { address: string; client: ClusterClient } | undefined;

  constructor(private readonly context: ServiceContext) {}

  /** The leader's answer, or undefined if this member is the leader and must handle it. */
  async forward<Response>(
    method: ForwardedMethod,
    request: unknown,
    metadata: import('@grpc/grpc-js').Metadata,
  ): Promise<Response | undefined> {
    const status = this.context.loop.status();
    if (status.role === 'leader') return undefined;
    if (status.leaderId === 0) throw new ServerError('NO_LEADER', 'etcdserver: no leader');
    if (metadata.get('raftkv-forwarded').length > 0) {
      throw new ServerError('NOT_LEADER', 'etcdserver: not leader');
    }
    const address = this.context.leaderClientAddress();
    if (address === undefined) throw new ServerError('NOT_LEADER', 'etcdserver: not leader');
    if (this.client?.address !== address) {
      this.client?.client.close();
      this.client = { address, client: new ClusterClient(address, credentials.createInsecure()) };
    }
    const forwardedMetadata = metadata.clone();
    forwardedMetadata.set('raftkv-forwarded', String(this.context.selfId));
    const client = this.client.client;
    const deadline = new Date(Date.now() + this.context.requestTimeoutMs);
    return new Promise<Response>((resolve, reject) => {
      const callback = (error: unknown, response: Response): void => {
        if (error !== null && error !== undefined) reject(asForwardedError(error));
        else resolve(response);
      };
      const call = client[method].bind(client) as unknown as (
        request: unknown,
        metadata: import('@grpc/grpc-js').Metadata,
        options: { deadline: Date },
        callback: (error: unknown, response: Response) => void,
      ) => void;
      call(request, forwardedMetadata, { deadline }, callback);
    });
  }

  close(): void {
    this.client?.client.close();
  }
}

function asForwardedError(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && 'code' in error && 'details' in error) {
    const { code, details } = error as { code: number; details: string };
    return new ForwardedError(code, details);
  }
  return error;
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
