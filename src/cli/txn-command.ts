/**
 * `raftkv txn KEY --expect VALUE|--expect-absent --set VALUE`: compare-and-swap in one
 * transaction. Prints SUCCESS, or FAILURE followed by the key and value that failed the compare
 * (nothing when the key is absent), as etcdctl's txn prints a branch; exit 1 on FAILURE.
 */
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
import { headerJson, keyValueJson, printJson, writeKeyValueLines } from './client-output.js';

const HELP = `Usage: raftkv txn KEY (--expect VALUE | --expect-absent) --set VALUE [options]

Sets KEY to the --set value if, at that moment, KEY holds the --expect value (or, with
--expect-absent, does not exist), atomically. Prints SUCCESS, or FAILURE followed by KEY and
the value it holds (nothing after FAILURE if KEY does not exist).

Options:
  --expect VALUE    the value KEY must hold
  --expect-absent   KEY must not exist
  --set VALUE       the new value

${CLIENT_OPTIONS_HELP}

Exit codes:
  0  SUCCESS: the compare held and KEY was set
  1  FAILURE: the compare failed and nothing was changed (or the cluster refused the request)
${CLIENT_EXIT_CODES_HELP}`;

const OPTIONS = {
  expect: { type: 'string' },
  'expect-absent': { type: 'boolean' },
  set: { type: 'string' },
} as const;

async function run(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, OPTIONS);
  if (values.help === true) return printHelp(HELP);
  const [key = ''] = expectPositionals(positionals, ['KEY']);
  const isAbsentExpected = values['expect-absent'] === true;
  if (isAbsentExpected === (values.expect !== undefined)) {
    throw new UsageError('give exactly one of --expect VALUE and --expect-absent');
  }
  const newValue = values.set;
  if (newValue === undefined) throw new UsageError('missing --set VALUE');
  const expected = isAbsentExpected ? null : (values.expect ?? null);
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const result = await client.compareAndSwap(key, expected, newValue);
    const previous = result.previous;
    if (settings.isJson) {
      printJson({
        header: headerJson(result.header),
        succeeded: result.succeeded,
        previous: previous === undefined ? null : keyValueJson(previous),
      });
    } else {
      console.log(result.succeeded ? 'SUCCESS' : 'FAILURE');
      if (!result.succeeded && previous !== undefined) writeKeyValueLines(previous);
    }
    return result.succeeded ? ExitCode.success : ExitCode.failure;
  });
}

export const TXN_COMMAND: Command = {
  words: ['txn'],
  synopsis: 'txn KEY (--expect VALUE | --expect-absent) --set VALUE',
  summary: 'compare-and-swap a key atomically',
  help: HELP,
  run,
};
