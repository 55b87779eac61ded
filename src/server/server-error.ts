/**
 * The operational errors of the node's request paths, each with a stable code. The gRPC services
 * map every code to the status and message etcd clients understand in one place
 * (grpc-status-mapping.ts); nothing else decides what a client sees.
 */
import { RaftkvError } from '../common/index.js';

/** Why the node could not serve a request. */
export type ServerErrorCode =
  | 'NO_LEADER'
  | 'REQUEST_TIMEOUT'
  | 'TOO_MANY_REQUESTS'
  | 'NOT_LEADER'
  | 'STOPPING'
  | 'LEADERSHIP_TRANSFER'
  | 'CONFIGURATION_CHANGE_IN_PROGRESS'
  | 'INVALID_CONFIGURATION_CHANGE'
  | 'MEMBER_NOT_FOUND'
  | 'MEMBER_NOT_LEARNER'
  | 'LEARNER_NOT_READY'
  | 'PEER_URL_EXISTS'
  | 'BAD_PEER_URLS'
  | 'UNHEALTHY_CLUSTER'
  | 'BAD_LEADER_TRANSFEREE'
  | 'REQUEST_TOO_LARGE'
  | 'KEY_TOO_LARGE'
  | 'VALUE_TOO_LARGE'
  | 'UNIMPLEMENTED'
  | 'INVALID_ARGUMENT'
  | 'PROPOSAL_LOST';

const REMEDIES: Readonly<Record<ServerErrorCode, string>> = {
  NO_LEADER: 'Retry shortly; an election is under way or a quorum of members is unreachable.',
  REQUEST_TIMEOUT: 'Retry; if it persists, check that a quorum of members is up and connected.',
  TOO_MANY_REQUESTS: 'Slow down or spread the load; the member is at its queue limit.',
  NOT_LEADER: 'Send this request to the leader (see `raftkv endpoint status`).',
  STOPPING: 'Retry on another member; this one is shutting down.',
  LEADERSHIP_TRANSFER: 'Retry shortly; leadership is moving to another member.',
  CONFIGURATION_CHANGE_IN_PROGRESS: 'Wait for the current membership change to finish.',
  INVALID_CONFIGURATION_CHANGE: 'Check the member ids against `raftkv member list`.',
  MEMBER_NOT_FOUND: 'Check the member id against `raftkv member list`.',
  MEMBER_NOT_LEARNER: 'Only learners can be promoted.',
  LEARNER_NOT_READY: 'Wait until the learner has caught up with the leader, then retry.',
  PEER_URL_EXISTS: 'A member already uses these peer URLs.',
  BAD_PEER_URLS: 'Give peer URLs as http://host:port.',
  UNHEALTHY_CLUSTER: 'Bring the unreachable members back first; the change would lose quorum.',
  BAD_LEADER_TRANSFEREE: 'Move leadership to a started voting member.',
  REQUEST_TOO_LARGE: 'Split the request or raise --request-bytes-max.',
  KEY_TOO_LARGE: 'Use a shorter key or raise --key-bytes-max.',
  VALUE_TOO_LARGE: 'Use a smaller value or raise --value-bytes-max.',
  UNIMPLEMENTED: 'Leave the named field unset; raftkv does not implement it.',
  INVALID_ARGUMENT: 'Fix the named field.',
  PROPOSAL_LOST: 'Retry; the leader changed before the request committed.',
};

/** A request the node could not serve; `code` says why. */
export class ServerError extends RaftkvError {
  override readonly name = 'ServerError';
  readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string) {
    super(message, REMEDIES[code]);
    this.code = code;
  }
}
