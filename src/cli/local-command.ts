/**
 * `raftkv local start`: runs a real cluster on this machine (what `npm start` runs) and stays in
 * the foreground, printing the endpoints, three commands to try and a compact log of every
 * member; Ctrl-C (or SIGTERM) stops every member cleanly, each handing over leadership first.
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';

import { type Command, ExitCode, UsageError } from './command.js';
import { compactLogLine } from './compact-log-line.js';
import { LocalCluster } from './local-cluster.js';

const HELP = `Usage: raftkv local start [--nodes N] [--data-dir DIR] [--fresh] [--verbose]

Runs an N-member raftkv cluster on 127.0.0.1 in the foreground (default 3 members),
with member K serving clients on port 2379+10000*K (2379, 12379, 22379, ...), peers on
2380+10000*K and /metrics, /livez, /readyz on 2381+10000*K. Data lives under DIR/raftkv-K
(default ./raftkv-local) and survives restarts; --fresh deletes it first. Ctrl-C stops
every member cleanly.

Options:
  --nodes N       members to run (1 to 7; default 3)
  --data-dir DIR  parent directory of the members' data (default ./raftkv-local)
  --fresh         delete DIR's member directories before starting
  --verbose       show debug log lines too`;

interface LocalStartOptions {
  readonly nodes: number;
  readonly dataRoot: string;
  readonly isFresh: boolean;
  readonly isVerbose: boolean;
}

function parseOptions(commandArguments: readonly string[]): LocalStartOptions {
  let nodes = 3;
  let dataRoot = './raftkv-local';
  let isFresh = false;
  let isVerbose = false;
  for (let position = 0; position < commandArguments.length; position++) {
    const argument = commandArguments[position] ?? '';
    const [flag, inlineValue] = argument.split(/=(.*)/s, 2);
    const value = (): string => {
      const next = inlineValue ?? commandArguments[++position];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--nodes':
        nodes = Number(value());
        if (!Number.isInteger(nodes) || nodes < 1 || nodes > 7) {
          throw new UsageError('--nodes must be an integer from 1 to 7');
        }
        break;
      case '--data-dir':
        dataRoot = value();
        break;
      case '--fresh':
        isFresh = true;
        break;
      case '--verbose':
        isVerbose = true;
        break;
      default:
        throw new UsageError(`unknown option ${argument}`);
    }
  }
  return { nodes, dataRoot, isFresh, isVerbose };
}

async function runLocalStart(commandArguments: readonly string[]): Promise<ExitCode> {
  const options = parseOptions(commandArguments);
  const isColour = process.stdout.isTTY && process.env.NO_COLOR === undefined;
  let isStopping = false;
  const cluster: LocalCluster = new LocalCluster({
    size: options.nodes,
    dataRoot: path.resolve(options.dataRoot),
    onLine: (ordinal, line) => {
      if (!options.isVerbose && line.includes('"level":20')) return;
      const name = cluster.member(ordinal).name;
      console.log(compactLogLine(ordinal, name, line, isColour));
    },
    onExit: (ordinal, code, signal) => {
      if (isStopping) return;
      const name = cluster.member(ordinal).name;
      console.log(`${name} exited (${signal ?? `code ${code}`}); the others keep running`);
    },
  });
  if (options.isFresh) {
    for (const member of cluster.members) {
      rmSync(member.dataDirectory, { recursive: true, force: true });
    }
  }
  cluster.startAll();
  // If this launcher exits for any other reason, do not leave its members running.
  process.once('exit', () => {
    for (const member of cluster.members) {
      if (member.process?.pid !== undefined && member.process.exitCode === null) {
        process.kill(member.process.pid, 'SIGTERM');
      }
    }
  });
  const endpoints = cluster.clientEndpoints.join(',');
  printWelcome(cluster, endpoints, options);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      if (isStopping) return;
      isStopping = true;
      console.log('\nstopping every member (leadership is handed over first)...');
      void cluster.stopAll().then(resolve);
    };
    // `on`, not `once`: Ctrl-C reaches npm, scripts/start.mjs and this process together, and a
    // forwarded second signal must not kill the launcher halfway through stopping the members.
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  console.log('all members stopped; data kept in', path.resolve(options.dataRoot));
  return ExitCode.success;
}

function printWelcome(cluster: LocalCluster, endpoints: string, options: LocalStartOptions): void {
  const lines = [
    '',
    `raftkv local cluster: ${options.nodes} members on 127.0.0.1, data in ${path.resolve(options.dataRoot)}`,
    '',
    ...cluster.members.map(
      (member) =>
        `  ${member.name}  client ${member.clientAddress}  peer ${member.peerAddress}  http://${member.httpAddress}/metrics`,
    ),
    '',
    'Try, in another terminal in this folder:',
    '  node dist/cli/main.js put greeting hello',
    '  node dist/cli/main.js get greeting',
    `  node dist/cli/main.js endpoint status --endpoints ${endpoints}`,
    '',
    `etcdctl works too: etcdctl --endpoints ${endpoints} member list -w table`,
    'Ctrl-C stops the cluster.',
    '',
  ];
  console.log(lines.join('\n'));
}

/** `raftkv local start`. */
export const LOCAL_START_COMMAND: Command = {
  words: ['local', 'start'],
  synopsis: 'local start [--nodes N] [--fresh]',
  summary: 'run a local cluster of real members in the foreground (npm start)',
  help: HELP,
  run: runLocalStart,
};
