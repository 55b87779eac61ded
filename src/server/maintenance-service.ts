/**
 * The etcd `Maintenance` gRPC service, the parts raftkv serves: Status (what `etcdctl endpoint
 * status` shows), Alarm list (always empty: raftkv raises no alarms) and MoveLeader (a
 * leadership transfer on the leader, answered once the target leads).
 */
import {
  AlarmRequest_AlarmAction,
  type AlarmRequest,
  type AlarmResponse,
  type MaintenanceServer,
  type MoveLeaderRequest,
  type MoveLeaderResponse,
  type StatusRequest,
  type StatusResponse,
} from '../generated/etcdserverpb/rpc.js';
import { isVoter } from '../raft/index.js';
import { ServerError } from './server-error.js';
import { responseHeader, type ServiceContext, unary } from './service-context.js';

/** The etcd API version raftkv speaks, with raftkv's own version as semver build metadata. */
export const REPORTED_VERSION = '3.4.0+raftkv.0.1.0';
const TRANSFER_POLL_MS = 10;

/** What the Status call reports beyond the core: on-disk size of the member's data. */
export interface MaintenanceOptions {
  readonly dataBytes: () => number;
}

/** Builds the Maintenance service handlers. */
export function createMaintenanceService(
  context: ServiceContext,
  options: MaintenanceOptions,
): MaintenanceServer {
  return {
    status: unary(
      context,
      'etcdserverpb.Maintenance/Status',
      (request: StatusRequest): Promise<StatusResponse> => {
        void request;
        const status = context.loop.status();
        const dataBytes = options.dataBytes();
        return Promise.resolve({
          header: responseHeader(context, context.state.kv.revision()),
          version: REPORTED_VERSION,
          dbSize: dataBytes,
          leader: status.leaderId,
          raftIndex: status.commitIndex,
          raftTerm: status.term,
          raftAppliedIndex: context.loop.applied(),
          errors: [],
          dbSizeInUse: dataBytes,
          isLearner: status.configuration.learners.includes(context.selfId),
        });
      },
    ),

    alarm: unary(
      context,
      'etcdserverpb.Maintenance/Alarm',
      (request: AlarmRequest): Promise<AlarmResponse> => {
        if (request.action !== AlarmRequest_AlarmAction.GET) {
          return Promise.reject(
            new ServerError(
              'UNIMPLEMENTED',
              "raftkv: field 'action' of Alarm: only GET is implemented (raftkv raises no alarms)",
            ),
          );
        }
        return Promise.resolve({
          header: responseHeader(context, context.state.kv.revision()),
          alarms: [],
        });
      },
    ),

    moveLeader: unary(
      context,
      'etcdserverpb.Maintenance/MoveLeader',
      async (request: MoveLeaderRequest): Promise<MoveLeaderResponse> => {
        const status = context.loop.status();
        if (status.role !== 'leader') {
          throw new ServerError('NOT_LEADER', 'etcdserver: not leader');
        }
        if (!isVoter(status.configuration, request.targetID)) {
          throw new ServerError('BAD_LEADER_TRANSFEREE', 'etcdserver: bad leader transferee');
        }
        await context.loop.transferLeadership(request.targetID);
        const deadline = performance.now() + context.requestTimeoutMs;
        while (context.loop.status().leaderId !== request.targetID) {
          if (performance.now() > deadline) {
            throw new ServerError('REQUEST_TIMEOUT', 'etcdserver: request timed out');
          }
          await new Promise((resolve) => setTimeout(resolve, TRANSFER_POLL_MS));
        }
        context.logger.info({ targetId: request.targetID }, 'leadership moved on request');
        return { header: responseHeader(context, context.state.kv.revision()) };
      },
    ),
  };
}
