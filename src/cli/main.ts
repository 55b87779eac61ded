#!/usr/bin/env node
/**
 * The `raftkv` command line: finds the command named by the first words of the arguments in the
 * table below and runs it. Owns general help, usage errors (exit code 2) and the last-resort
 * handler for bugs (exit code 70); each command owns its own options and output. To add a
 * command, write a {@link Command} in its own file and list it in COMMANDS.
 */
import { type Command, ExitCode, UsageError } from './command.js';
import { ENDPOINT_STATUS_COMMAND } from './endpoint-commands.js';
import { DEL_COMMAND, GET_COMMAND, PUT_COMMAND } from './kv-commands.js';
import { LOCAL_START_COMMAND } from './local-command.js';
import { LOCAL_SCALE_COMMAND } from './local-scale-command.js';
import {
  MEMBER_ADD_COMMAND,
  MEMBER_LIST_COMMAND,
  MEMBER_PROMOTE_COMMAND,
  MEMBER_REMOVE_COMMAND,
} from './member-commands.js';
import { MOVE_LEADER_COMMAND } from './move-leader-command.js';
import { OPERATOR_COMMAND } from './operator-command.js';
import { SERVE_COMMAND } from './serve-command.js';
import { TXN_COMMAND } from './txn-command.js';
import { WAL_INSPECT_COMMAND } from './wal-inspect-command.js';

/** Every command, in the order the help lists them. */
const COMMANDS: readonly Command[] = [
  SERVE_COMMAND,
  LOCAL_START_COMMAND,
  LOCAL_SCALE_COMMAND,
  OPERATOR_COMMAND,
  // Client commands: talk to a running cluster.
  PUT_COMMAND,
  GET_COMMAND,
  DEL_COMMAND,
  TXN_COMMAND,
  MEMBER_LIST_COMMAND,
  MEMBER_ADD_COMMAND,
  MEMBER_PROMOTE_COMMAND,
  MEMBER_REMOVE_COMMAND,
  ENDPOINT_STATUS_COMMAND,
  MOVE_LEADER_COMMAND,
  // Offline tools.
  WAL_INSPECT_COMMAND,
];

const HELP_WORDS = new Set(['help', '--help', '-h']);

/**
 * Synopses up to this long share one summary column; a longer one puts its summary on the next
 * line, so that one long synopsis does not push every summary to the right.
 */
const SYNOPSIS_COLUMN_MAX = 26;

function generalUsage(): string {
  const entries: (readonly [string, string])[] = [
    ...COMMANDS.map((command) => [command.synopsis, command.summary] as const),
    ['help [COMMAND]', "show this help, or a command's"],
  ];
  const width = Math.max(
    ...entries
      .map(([synopsis]) => synopsis.length)
      .filter((length) => length <= SYNOPSIS_COLUMN_MAX),
  );
  const lines = entries.map(([synopsis, summary]) =>
    synopsis.length <= width
      ? `  ${synopsis.padEnd(width)}  ${summary}`
      : `  ${synopsis}\n  ${' '.repeat(width)}  ${summary}`,
  );
  return [
    'Usage: raftkv COMMAND [ARGUMENTS]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'raftkv help COMMAND' or 'raftkv COMMAND --help' for a command's options.",
    'Commands that talk to a cluster take --endpoints host:port,... (default: $RAFTKV_ENDPOINTS,',
    'else 127.0.0.1:2379), --timeout-ms N and --json.',
    '',
    'Exit codes: 0 success, 1 the command found a failure (a failed compare, a refused request),',
    '            2 usage error, 3 a named file or directory cannot be read,',
    '            4 no endpoint reachable or the cluster could not answer in time, 70 internal error.',
  ].join('\n');
}

/** The command whose words begin `words`, if any. */
function findCommand(words: readonly string[]): Command | undefined {
  return COMMANDS.find((command) =>
    command.words.every((word, position) => words[position] === word),
  );
}

async function runCommandLine(commandLine: readonly string[]): Promise<ExitCode> {
  const [first, ...rest] = commandLine;
  if (first === undefined) {
    console.error(generalUsage());
    return ExitCode.usage;
  }
  if (HELP_WORDS.has(first)) {
    const command = rest.length === 0 ? undefined : findCommand(rest);
    if (rest.length > 0 && command === undefined) {
      console.error(`raftkv: no command '${rest.join(' ')}'\n\n${generalUsage()}`);
      return ExitCode.usage;
    }
    console.log(command?.help ?? generalUsage());
    return ExitCode.success;
  }
  const command = findCommand(commandLine);
  if (command === undefined) {
    console.error(`raftkv: unknown command '${commandLine.join(' ')}'\n\n${generalUsage()}`);
    return ExitCode.usage;
  }
  const commandArguments = commandLine.slice(command.words.length);
  if (commandArguments.some((argument) => argument === '--help' || argument === '-h')) {
    console.log(command.help);
    return ExitCode.success;
  }
  try {
    return await command.run(commandArguments);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`raftkv ${command.words.join(' ')}: ${error.message}`);
    console.error(`Usage: raftkv ${command.synopsis}  (raftkv help ${command.words.join(' ')})`);
    return ExitCode.usage;
  }
}

try {
  // exitCode rather than exit(): stdout may be a pipe still draining a long report.
  process.exitCode = await runCommandLine(process.argv.slice(2));
} catch (error) {
  console.error('raftkv: internal error (a bug; please report it with this output):');
  console.error(error);
  process.exitCode = ExitCode.internalError;
}
