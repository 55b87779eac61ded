/**
 * `raftkv member list|add|promote|remove`: the cluster's membership through the etcd Cluster
 * API. Member ids are read and printed in hex, as etcdctl does. A membership change that fails
 * after reaching a member is never resent (it is not idempotent); the command says it may have
 * been applied.
 */
import { formatMemberId, type Member, type MemberId, parseMemberId } from '../client/index.js';
import { type Command, ExitCode, UsageError } from './command.js';
import {
  CLIENT_EXIT_CODES_HELP,
  CLIENT_OPTIONS_HELP,
  clientSettings,
  expectPositionals,
  parseCommandArguments,
  printHelp,
  runWithClient,
} from './client-options.js';
import { headerJson, memberJson, printJson } from './client-output.js';
import { formatTable } from './text-table.js';

const MEMBER_EXIT_CODES_HELP = `Exit codes:
  0  done
  1  the cluster refused the change (unknown member, learner not caught up, ...)
${CLIENT_EXIT_CODES_HELP}`;

function parseIdArgument(text: string): MemberId {
  const id = parseMemberId(text);
  if (id === undefined)
    throw new UsageError(`'${text}' is not a member id (hex, as member list prints it)`);
  return id;
}

const LIST_HELP = `Usage: raftkv member list [--consistency=l|s] [options]

Prints the cluster's members: id, name, whether it has started, voter or learner, peer and
client URLs. A member added but never started has no name and no client URLs yet.

Options:
  --consistency=l|s   l: read through a quorum (default); s: from one member's state

${CLIENT_OPTIONS_HELP}

${MEMBER_EXIT_CODES_HELP}`;

function memberRows(members: readonly Member[]): string[][] {
  return members.map((member) => [
    formatMemberId(member.id),
    member.name === '' ? '-' : member.name,
    member.name === '' ? 'unstarted' : 'started',
    member.isLearner ? 'learner' : 'voter',
    member.peerUrls.join(','),
    member.clientUrls.join(',') || '-',
  ]);
}

async function runList(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, {
    consistency: { type: 'string' },
  });
  if (values.help === true) return printHelp(LIST_HELP);
  expectPositionals(positionals, []);
  const consistency = values.consistency ?? 'l';
  if (consistency !== 'l' && consistency !== 's') {
    throw new UsageError(`--consistency must be l or s, not '${consistency}'`);
  }
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const result = await client.memberList({ linearizable: consistency === 'l' });
    if (settings.isJson) {
      printJson({ header: headerJson(result.header), members: result.members.map(memberJson) });
      return ExitCode.success;
    }
    const columns = ['id', 'name', 'status', 'role', 'peer URLs', 'client URLs'].map((heading) => ({
      heading,
    }));
    console.log(formatTable(columns, memberRows(result.members), '').join('\n'));
    return ExitCode.success;
  });
}

const ADD_HELP = `Usage: raftkv member add NAME --peer-urls URL[,URL...] [--learner] [options]

Adds a member that will serve its peers at the given URLs, and prints its id and what to
start it with (its name, the initial cluster including it, cluster state 'existing'). NAME is
not sent to the cluster: the member announces it when it starts.
Prefer --learner: a learner does not vote, so adding one cannot cost the cluster its quorum;
promote it once it has caught up ('raftkv member promote ID').

Options:
  --peer-urls LIST   the new member's peer URLs, comma-separated (http://host:port)
  --learner          add as a non-voting learner

${CLIENT_OPTIONS_HELP}

${MEMBER_EXIT_CODES_HELP}`;

/** `name=peerUrl,...` over every member, the new one under `newName` (etcdctl's form). */
function initialCluster(members: readonly Member[], newId: MemberId, newName: string): string {
  return members
    .flatMap((member) => {
      const name = member.id === newId ? newName : member.name;
      return member.peerUrls.map((url) => `${name}=${url}`);
    })
    .join(',');
}

async function runAdd(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, {
    'peer-urls': { type: 'string' },
    learner: { type: 'boolean' },
  });
  if (values.help === true) return printHelp(ADD_HELP);
  const [name = ''] = expectPositionals(positionals, ['NAME']);
  const peerUrls = (values['peer-urls'] ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  if (peerUrls.length === 0) throw new UsageError('missing --peer-urls URL');
  const isLearner = values.learner === true;
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const result = await client.memberAdd(peerUrls, { isLearner });
    const cluster = initialCluster(result.members, result.member.id, name);
    if (settings.isJson) {
      printJson({
        header: headerJson(result.header),
        member: memberJson(result.member),
        members: result.members.map(memberJson),
        initialCluster: cluster,
      });
      return ExitCode.success;
    }
    const role = isLearner ? 'a learner' : 'a voter';
    console.log(
      [
        `Member ${formatMemberId(result.member.id)} added to cluster ${formatMemberId(result.header.clusterId)} as ${role}`,
        '',
        'Start it with:',
        `  name             ${name}`,
        `  peer URLs        ${result.member.peerUrls.join(',')}`,
        `  initial cluster  ${cluster}`,
        '  cluster state    existing',
      ].join('\n'),
    );
    return ExitCode.success;
  });
}

const PROMOTE_HELP = `Usage: raftkv member promote ID [options]

Makes the learner ID a voting member. The cluster refuses while the learner has not started
or lags behind the leader; wait for it to catch up and retry.

${CLIENT_OPTIONS_HELP}

${MEMBER_EXIT_CODES_HELP}`;

const REMOVE_HELP = `Usage: raftkv member remove ID [options]

Removes member ID from the cluster. Removing the leader is allowed (it steps down);
'raftkv move-leader' first makes the hand-over smoother.

${CLIENT_OPTIONS_HELP}

${MEMBER_EXIT_CODES_HELP}`;

/** A command taking one member id: `member promote ID`, `member remove ID`. */
function memberIdCommand(
  word: 'promote' | 'remove',
  summary: string,
  help: string,
  done: string,
): Command {
  const run = async (commandArguments: readonly string[]): Promise<ExitCode> => {
    const { values, positionals } = parseCommandArguments(commandArguments, {});
    if (values.help === true) return printHelp(help);
    const [idText = ''] = expectPositionals(positionals, ['ID']);
    const id = parseIdArgument(idText);
    const settings = clientSettings(values);
    return runWithClient(settings, async (client) => {
      const result =
        word === 'promote' ? await client.memberPromote(id) : await client.memberRemove(id);
      if (settings.isJson) {
        printJson({ header: headerJson(result.header), members: result.members.map(memberJson) });
      } else {
        const cluster = formatMemberId(result.header.clusterId);
        console.log(`Member ${formatMemberId(id)} ${done} cluster ${cluster}`);
      }
      return ExitCode.success;
    });
  };
  return { words: ['member', word], synopsis: `member ${word} ID`, summary, help, run };
}

export const MEMBER_LIST_COMMAND: Command = {
  words: ['member', 'list'],
  synopsis: 'member list [--consistency=l|s]',
  summary: "list the cluster's members",
  help: LIST_HELP,
  run: runList,
};

export const MEMBER_ADD_COMMAND: Command = {
  words: ['member', 'add'],
  synopsis: 'member add NAME --peer-urls URL [--learner]',
  summary: 'add a member (as a learner with --learner)',
  help: ADD_HELP,
  run: runAdd,
};

export const MEMBER_PROMOTE_COMMAND = memberIdCommand(
  'promote',
  'make a caught-up learner a voter',
  PROMOTE_HELP,
  'promoted in',
);

export const MEMBER_REMOVE_COMMAND = memberIdCommand(
  'remove',
  'remove a member',
  REMOVE_HELP,
  'removed from',
);
