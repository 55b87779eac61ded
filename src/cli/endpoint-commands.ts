/**
 * `raftkv endpoint status`: asks every endpoint for its status (Maintenance.Status, one member
 * each, no failover) and prints one row per endpoint: member id, address, role, raft term,
 * commit and applied index, the leader it knows, and its errors or why it did not answer.
 */
import {
  ClientError,
  type EndpointStatus,
  formatMemberId,
  type RaftkvClient,
} from '../client/index.js';
import { type Command, ExitCode } from './command.js';
import {
  CLIENT_OPTIONS_HELP,
  clientSettings,
  expectPositionals,
  parseCommandArguments,
  printHelp,
  runWithClient,
} from './client-options.js';
import { printJson } from './client-output.js';
import { formatTable } from './text-table.js';

const HELP = `Usage: raftkv endpoint status [options]

Asks each endpoint of --endpoints for its member's status and prints one row each: member id,
endpoint, role (leader, follower or learner), raft term, commit index, applied index, the
leader it knows, and the member's errors (or, for an endpoint that did not answer, why).

${CLIENT_OPTIONS_HELP}

Exit codes:
  0  every endpoint answered
  1  some endpoints did not answer (their rows say why)
  2  usage error
  4  no endpoint answered`;

type Role = 'leader' | 'follower' | 'learner';

/** One endpoint's row: its status, or the error it answered with. */
type EndpointReport =
  | { readonly endpoint: string; readonly status: EndpointStatus }
  | { readonly endpoint: string; readonly error: ClientError };

function roleOf(status: EndpointStatus): Role {
  if (status.isLearner) return 'learner';
  return status.leader !== 0n && status.leader === status.header.memberId ? 'leader' : 'follower';
}

async function report(client: RaftkvClient, endpoint: string): Promise<EndpointReport> {
  try {
    return { endpoint, status: await client.status(endpoint) };
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return { endpoint, error };
  }
}

function reportJson(entry: EndpointReport) {
  if ('error' in entry) {
    return {
      endpoint: entry.endpoint,
      reachable: false,
      error: { code: entry.error.code, message: entry.error.details },
    };
  }
  const status = entry.status;
  return {
    endpoint: entry.endpoint,
    reachable: true,
    id: formatMemberId(status.header.memberId),
    clusterId: formatMemberId(status.header.clusterId),
    role: roleOf(status),
    raftTerm: status.raftTerm,
    commitIndex: status.raftIndex,
    appliedIndex: status.raftAppliedIndex,
    leader: status.leader === 0n ? null : formatMemberId(status.leader),
    isLearner: status.isLearner,
    version: status.version,
    dbSize: status.dbSize,
    errors: status.errors,
  };
}

function reportRow(entry: EndpointReport): string[] {
  if ('error' in entry) {
    return ['-', entry.endpoint, 'UNREACHABLE', '-', '-', '-', '-', entry.error.message];
  }
  const status = entry.status;
  return [
    formatMemberId(status.header.memberId),
    entry.endpoint,
    roleOf(status),
    String(status.raftTerm),
    String(status.raftIndex),
    String(status.raftAppliedIndex),
    status.leader === 0n ? 'none' : formatMemberId(status.leader),
    status.errors.join('; '),
  ];
}

const COLUMNS = [
  { heading: 'id' },
  { heading: 'endpoint' },
  { heading: 'role' },
  { heading: 'raft term', isRightAligned: true },
  { heading: 'commit index', isRightAligned: true },
  { heading: 'applied index', isRightAligned: true },
  { heading: 'leader' },
  { heading: 'errors' },
];

async function run(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, {});
  if (values.help === true) return printHelp(HELP);
  expectPositionals(positionals, []);
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const reports = await Promise.all(client.endpoints.map((endpoint) => report(client, endpoint)));
    if (settings.isJson) printJson({ endpoints: reports.map(reportJson) });
    else console.log(formatTable(COLUMNS, reports.map(reportRow), '').join('\n'));
    const unanswered = reports.filter((entry) => 'error' in entry).length;
    if (unanswered === reports.length) return ExitCode.unavailable;
    return unanswered > 0 ? ExitCode.failure : ExitCode.success;
  });
}

export const ENDPOINT_STATUS_COMMAND: Command = {
  words: ['endpoint', 'status'],
  synopsis: 'endpoint status',
  summary: "every endpoint's member: role, term, commit and applied index, leader",
  help: HELP,
  run,
};
