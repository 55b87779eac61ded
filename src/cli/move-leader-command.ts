/**
 * `raftkv move-leader ID`: transfers leadership to the voting member ID. The request goes to
 * the current leader, found through the endpoints' status (the client library's job).
 */
import { formatMemberId, parseMemberId } from '../client/index.js';
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
import { headerJson, printJson } from './client-output.js';

const HELP = `Usage: raftkv move-leader ID [options]

Transfers leadership to the voting member ID (hex, as 'raftkv member list' prints it) and
prints the previous and the new leader. The request is sent to the current leader, found by
asking the endpoints' status (or, if the leader is not among them, its advertised client URL).

${CLIENT_OPTIONS_HELP}

Exit codes:
  0  leadership transferred
  1  the cluster refused (ID unknown, a learner, or the transfer did not complete)
${CLIENT_EXIT_CODES_HELP}`;

async function run(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, {});
  if (values.help === true) return printHelp(HELP);
  const [idText = ''] = expectPositionals(positionals, ['ID']);
  const target = parseMemberId(idText);
  if (target === undefined) throw new UsageError(`'${idText}' is not a member id (hex)`);
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const result = await client.moveLeader(target);
    if (settings.isJson) {
      printJson({
        header: headerJson(result.header),
        previousLeader: formatMemberId(result.previousLeader),
        leader: formatMemberId(target),
        endpoint: result.leaderEndpoint,
      });
    } else {
      const previous = formatMemberId(result.previousLeader);
      console.log(`Leadership transferred from ${previous} to ${formatMemberId(target)}`);
    }
    return ExitCode.success;
  });
}

export const MOVE_LEADER_COMMAND: Command = {
  words: ['move-leader'],
  synopsis: 'move-leader ID',
  summary: 'transfer leadership to another voting member',
  help: HELP,
  run,
};
