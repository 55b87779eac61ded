/**
 * `raftkv put`, `raftkv get` and `raftkv del`: the key-value commands, printing as etcdctl does
 * (`OK`; key and value lines; the number deleted) or JSON with `--json`.
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

const KV_EXIT_CODES_HELP = `Exit codes:
  0  done
  1  the cluster refused the request (for example a key or value over its size limit)
${CLIENT_EXIT_CODES_HELP}`;

const PUT_HELP = `Usage: raftkv put KEY VALUE [options]

Sets KEY to VALUE and prints OK. Write '--' before a VALUE that starts with '-'.
A put that fails with UNAVAILABLE after reaching a member may or may not have been applied;
it is never resent to another member (the command says so).

${CLIENT_OPTIONS_HELP}

${KV_EXIT_CODES_HELP}`;

async function runPut(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, {});
  if (values.help === true) return printHelp(PUT_HELP);
  const [key = '', value = ''] = expectPositionals(positionals, ['KEY', 'VALUE']);
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const result = await client.put(key, value);
    if (settings.isJson) printJson({ header: headerJson(result.header) });
    else console.log('OK');
    return ExitCode.success;
  });
}

const GET_HELP = `Usage: raftkv get KEY [--prefix] [--consistency=l|s] [--limit N] [--keys-only] [options]

Prints each key found and its value, on lines of their own (nothing when KEY does not exist).

Options:
  --prefix            every key starting with KEY ('' with --prefix: all keys)
  --consistency=l|s   l: linearizable, confirmed by a quorum (default); s: serializable,
                      answered from one member's state, possibly stale
  --limit N           at most N keys (0: no limit)
  --keys-only         print the keys only

${CLIENT_OPTIONS_HELP}

${KV_EXIT_CODES_HELP}`;

const GET_OPTIONS = {
  prefix: { type: 'boolean' },
  consistency: { type: 'string' },
  limit: { type: 'string' },
  'keys-only': { type: 'boolean' },
} as const;

function parseConsistency(text: string | undefined): boolean {
  if (text === undefined || text === 'l') return false;
  if (text === 's') return true;
  throw new UsageError(`--consistency must be l (linearizable) or s (serializable), not '${text}'`);
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--limit '${text}' is not a whole number`);
  }
  return Number(text);
}

async function runGet(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, GET_OPTIONS);
  if (values.help === true) return printHelp(GET_HELP);
  const [key = ''] = expectPositionals(positionals, ['KEY']);
  const options = {
    prefix: values.prefix === true,
    serializable: parseConsistency(values.consistency),
    limit: parseLimit(values.limit),
    keysOnly: values['keys-only'] === true,
  };
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const result = await client.get(key, options);
    if (settings.isJson) {
      printJson({
        header: headerJson(result.header),
        count: result.count,
        more: result.more,
        kvs: result.kvs.map(keyValueJson),
      });
    } else {
      for (const keyValue of result.kvs) writeKeyValueLines(keyValue, options.keysOnly);
    }
    return ExitCode.success;
  });
}

const DEL_HELP = `Usage: raftkv del KEY [--prefix] [options]

Deletes KEY (with --prefix: every key starting with KEY) and prints how many keys were deleted.

Options:
  --prefix    every key starting with KEY ('' with --prefix: all keys)

${CLIENT_OPTIONS_HELP}

${KV_EXIT_CODES_HELP}`;

async function runDel(commandArguments: readonly string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArguments(commandArguments, {
    prefix: { type: 'boolean' },
  });
  if (values.help === true) return printHelp(DEL_HELP);
  const [key = ''] = expectPositionals(positionals, ['KEY']);
  const settings = clientSettings(values);
  return runWithClient(settings, async (client) => {
    const result = await client.delete(key, { prefix: values.prefix === true });
    if (settings.isJson) printJson({ header: headerJson(result.header), deleted: result.deleted });
    else console.log(String(result.deleted));
    return ExitCode.success;
  });
}

export const PUT_COMMAND: Command = {
  words: ['put'],
  synopsis: 'put KEY VALUE',
  summary: 'set a key',
  help: PUT_HELP,
  run: runPut,
};

export const GET_COMMAND: Command = {
  words: ['get'],
  synopsis: 'get KEY [--prefix] [--consistency=l|s] [--limit N] [--keys-only]',
  summary: 'read a key, or every key with a prefix',
  help: GET_HELP,
  run: runGet,
};

export const DEL_COMMAND: Command = {
  words: ['del'],
  synopsis: 'del KEY [--prefix]',
  summary: 'delete a key, or every key with a prefix',
  help: DEL_HELP,
  run: runDel,
};
