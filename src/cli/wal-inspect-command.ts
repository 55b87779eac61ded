/**
 * `raftkv wal inspect DIR [--json]`: the report an operator reads when a node will not start.
 * Reads the data directory without changing it and prints what it holds and whether a node would
 * start from it, with the error and remedy the node would give if not.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { DataDirectoryUnreadableError, inspectDataDirectory } from '../storage/index.js';
import { type Command, ExitCode, UsageError } from './command.js';
import { formatInspection } from './inspection-text.js';

const HELP = `Usage: raftkv wal inspect DIR [--json]

Reports on the data directory DIR (the node's --data-dir) without changing anything in it:
the identity stamp, every write-ahead log segment (records, entries, index and term ranges,
torn tails and damage), gaps in the segment sequence, the last hard state, snapshot markers,
every snapshot file, and a verdict: whether a node would start from the directory, and if
not, the error it would stop with, the file and offset, and what to do.

The verdict is judged against the directory's own identity stamp; a node also refuses a
directory stamped for another cluster or node id than its flags name.

Options:
  --json      print the report as JSON (64-bit ids as lowercase hex strings)
  -h, --help  show this help

Exit codes:
  0  report printed; a node would start from DIR (or DIR holds no raftkv data yet)
  1  report printed; a node would NOT start from DIR
  2  usage error
  3  DIR not found or unreadable`;

/** JSON.stringify replacer: bigints (none today, but ids are 64-bit) as lowercase hex. */
function bigintAsHex(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString(16) : value;
}

function parse(commandArguments: readonly string[]): { directory: string; json: boolean } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...commandArguments],
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (parsed.values.help === true) return 'help';
  const [directory, ...extra] = parsed.positionals;
  if (directory === undefined) throw new UsageError('missing DIR, the data directory to inspect');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return { directory, json: parsed.values.json === true };
}

async function run(commandArguments: readonly string[]): Promise<ExitCode> {
  const request = parse(commandArguments);
  if (request === 'help') {
    console.log(HELP);
    return ExitCode.success;
  }
  const directory = path.resolve(request.directory);
  let report;
  try {
    report = await inspectDataDirectory(directory);
  } catch (error) {
    if (!(error instanceof DataDirectoryUnreadableError)) throw error;
    console.error(`raftkv: ${error.message}\n${error.remedy}`);
    return ExitCode.unreadable;
  }
  console.log(request.json ? JSON.stringify(report, bigintAsHex, 2) : formatInspection(report));
  return report.verdict.kind === 'refused' ? ExitCode.failure : ExitCode.success;
}

export const WAL_INSPECT_COMMAND: Command = {
  words: ['wal', 'inspect'],
  synopsis: 'wal inspect DIR [--json]',
  summary: 'report on a data directory and whether a node would start from it (read only)',
  help: HELP,
  run,
};
