/**
 * What every command that talks to a cluster shares: the connection and output options
 * (`--endpoints`, env RAFTKV_ENDPOINTS, `--timeout-ms`, `--json`), their help text, parsing the
 * command line into a UsageError when wrong, and running an action with a connected client that
 * turns a ClientError into a message on stderr and an exit code. Commands own their own
 * arguments and output.
 */
import { parseArgs } from 'node:util';

import { ClientError, normalizeEndpoint, RaftkvClient } from '../client/index.js';
import { ExitCode, UsageError } from './command.js';
import { printJson } from './client-output.js';

/** The environment variable holding the endpoints when --endpoints is not given. */
export const ENDPOINTS_ENVIRONMENT_VARIABLE = 'RAFTKV_ENDPOINTS';
export const ENDPOINTS_DEFAULT = '127.0.0.1:2379';
export const TIMEOUT_MS_DEFAULT = 5000;

/** One option of a command, as node:util parseArgs takes it (no multiple values). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** The parsed values of `Options`: strings or booleans, absent when not given. */
export type OptionValues<Options extends Readonly<Record<string, OptionSpec>>> = {
  readonly [Name in keyof Options]?: Options[Name]['type'] extends 'string' ? string : boolean;
};

/** parseArgs options every client command accepts. */
export const CLIENT_OPTIONS = {
  endpoints: { type: 'string' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Readonly<Record<string, OptionSpec>>;

/** The help lines of CLIENT_OPTIONS, appended to each client command's help. */
export const CLIENT_OPTIONS_HELP = `Connection and output options:
  --endpoints LIST  members' client addresses, comma-separated host:port
                    (default: $${ENDPOINTS_ENVIRONMENT_VARIABLE}, else ${ENDPOINTS_DEFAULT}); a read
                    fails over to the next endpoint when one is unavailable
  --timeout-ms N    time allowed for the request, failover included (default ${TIMEOUT_MS_DEFAULT})
  --json            print the result as JSON on stdout (member ids as hex strings; on
                    error, {"error": {...}} on stdout as well as the message on stderr)
  -h, --help        show this help`;

/** The exit codes every client command shares, for its help. */
export const CLIENT_EXIT_CODES_HELP = `  2  usage error
  4  no endpoint reachable, or the cluster did not answer in time or could not serve the
     request (no leader, no quorum)`;

/** The connection and output settings of one command run. */
export interface ClientSettings {
  readonly endpoints: readonly string[];
  readonly timeoutMs: number;
  readonly isJson: boolean;
}

/**
 * `commandArguments` parsed with CLIENT_OPTIONS and the command's own `options`; a UsageError if
 * they do not parse.
 */
export function parseCommandArguments<const Options extends Readonly<Record<string, OptionSpec>>>(
  commandArguments: readonly string[],
  options: Options,
): { values: OptionValues<typeof CLIENT_OPTIONS & Options>; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args: [...commandArguments],
      options: { ...CLIENT_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: parsed.values as OptionValues<typeof CLIENT_OPTIONS & Options>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The positionals a command takes, exactly `names.length` of them, or a UsageError. */
export function expectPositionals(
  positionals: readonly string[],
  names: readonly string[],
): string[] {
  const missing = names[positionals.length];
  if (missing !== undefined) throw new UsageError(`missing ${missing}`);
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${positionals[names.length]}'`);
  }
  return [...positionals];
}

/** The settings named by the client options, the environment and the defaults. */
export function clientSettings(
  values: {
    endpoints?: string | undefined;
    'timeout-ms'?: string | undefined;
    json?: boolean | undefined;
  },
  environment: NodeJS.ProcessEnv = process.env,
): ClientSettings {
  const endpointList =
    values.endpoints ?? environment[ENDPOINTS_ENVIRONMENT_VARIABLE] ?? ENDPOINTS_DEFAULT;
  const texts = endpointList
    .split(',')
    .map((text) => text.trim())
    .filter((text) => text !== '');
  if (texts.length === 0) throw new UsageError('--endpoints names no endpoint');
  const endpoints = texts.map((text) => {
    try {
      return normalizeEndpoint(text);
    } catch (error) {
      if (error instanceof ClientError) throw new UsageError(error.details);
      throw error;
    }
  });
  const timeoutText = values['timeout-ms'] ?? String(TIMEOUT_MS_DEFAULT);
  const timeoutMs = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || !(timeoutMs > 0)) {
    throw new UsageError(`--timeout-ms '${timeoutText}' is not a positive whole number`);
  }
  return { endpoints, timeoutMs, isJson: values.json === true };
}

/** Prints a command's help on stdout (asked for, so not an error). */
export function printHelp(help: string): ExitCode {
  console.log(help);
  return ExitCode.success;
}

/** The exit code for a failed request. */
export function exitCodeFor(error: ClientError): ExitCode {
  return error.code === 'UNAVAILABLE' || error.code === 'DEADLINE_EXCEEDED'
    ? ExitCode.unavailable
    : ExitCode.failure;
}

/** Prints a failed request: the message and remedy on stderr, and JSON on stdout with --json. */
export function reportClientError(error: ClientError, settings: ClientSettings): void {
  const lines = [`raftkv: ${error.message}`];
  if (error.endpoint !== undefined && !error.details.includes(error.endpoint)) {
    lines.push(`(answered by ${error.endpoint})`);
  }
  if (error.mayHaveBeenApplied) {
    lines.push('The write may or may not have been applied: read the key before retrying.');
  }
  lines.push(error.remedy);
  console.error(lines.join('\n'));
  if (settings.isJson) {
    printJson({
      error: {
        code: error.code,
        grpcCode: error.grpcCode,
        message: error.details,
        endpoint: error.endpoint ?? null,
        mayHaveBeenApplied: error.mayHaveBeenApplied,
      },
    });
  }
}

/**
 * Runs `action` with a client of the configured cluster and closes it after; a ClientError is
 * reported and becomes the exit code, anything else is a bug and propagates.
 */
export async function runWithClient(
  settings: ClientSettings,
  action: (client: RaftkvClient) => Promise<ExitCode>,
): Promise<ExitCode> {
  let client: RaftkvClient | undefined;
  try {
    client = await RaftkvClient.connect({
      endpoints: settings.endpoints,
      requestTimeoutMs: settings.timeoutMs,
    });
    return await action(client);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    reportClientError(error, settings);
    return exitCodeFor(error);
  } finally {
    client?.close();
  }
}
