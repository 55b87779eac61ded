/**
 * `raftkv local start`: runs a real cluster on this machine (what `npm start` runs) and stays in
 * the foreground. The cluster is a `RaftCluster` in a directory, reconciled by the operator's own
 * logic on the local platform (members are real `raftkv serve` processes), so
 * `raftkv local scale N` in another terminal changes membership exactly as the Kubernetes
 * operator would. Prints the endpoints, three commands to try and a compact log of every member;
 * Ctrl-C (or SIGTERM) stops every member cleanly, each handing over leadership first.
 */
import { existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';

import { SILENT_LOGGER } from '../common/index.js';
import {
  acquireLocalOperatorLock,
  createLocalCluster,
  describeStep,
  LOCAL_CLUSTER_NAME,
  localRuntime,
  parseOperatorOptions,
  readLocalCluster,
  runningLocalOperator,
  runOperator,
  updateLocalClusterSpec,
} from '../operator/index.js';
import { type Command, ExitCode, UsageError } from './command.js';
import { compactLogLine } from './compact-log-line.js';
import { LogTailer } from './log-tailer.js';

const HELP = `Usage: raftkv local start [--nodes N] [--data-dir DIR] [--fresh] [--verbose]

Runs an N-member raftkv cluster on 127.0.0.1 in the foreground (default 3 members),
with member K serving clients on port 2379+10000*K (2379, 12379, 22379, ...), peers on
2380+10000*K and /metrics, /livez, /readyz on 2381+10000*K. The cluster lives in DIR
(default ./raftkv-local): its RaftCluster resource (raftcluster.json), status (status.json),
members' data (data/), logs (logs/) and events (events.log). It survives restarts; --fresh
deletes it first. Change its size while it runs with \`raftkv local scale N\`: the same
reconcile logic as the Kubernetes operator adds or removes one member at a time.
Ctrl-C stops every member cleanly.

Options:
  --nodes N       members to run (1 to 7; default 3, or the size the cluster already has)
  --data-dir DIR  the cluster directory (default ./raftkv-local)
  --fresh         delete DIR before starting
  --verbose       show debug log lines too`;

/** Members a local cluster may have: member 7 would need port 2381+70000. */
export const LOCAL_NODES_MAX = 7;

interface LocalStartOptions {
  readonly nodes: number | undefined;
  readonly dataRoot: string;
  readonly isFresh: boolean;
  readonly isVerbose: boolean;
}

/** Parses `--flag value` / `--flag=value` options; `onFlag` handles each. */
export function parseFlags(
  commandArguments: readonly string[],
  onFlag: (flag: string, value: () => string) => void,
): void {
  for (let position = 0; position < commandArguments.length; position++) {
    const argument = commandArguments[position] ?? '';
    const [flag = '', inlineValue] = argument.split(/=(.*)/s, 2);
    onFlag(flag, () => {
      const next = inlineValue ?? commandArguments[++position];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    });
  }
}

/** A member count from the command line. */
export function parseNodes(text: string, what: string): number {
  const nodes = Number(text);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > LOCAL_NODES_MAX) {
    throw new UsageError(`${what} must be an integer from 1 to ${LOCAL_NODES_MAX}`);
  }
  return nodes;
}

function parseOptions(commandArguments: readonly string[]): LocalStartOptions {
  let nodes: number | undefined;
  let dataRoot = './raftkv-local';
  let isFresh = false;
  let isVerbose = false;
  parseFlags(commandArguments, (flag, value) => {
    switch (flag) {
      case '--nodes':
        nodes = parseNodes(value(), '--nodes');
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
        throw new UsageError(`unknown option ${flag}`);
    }
  });
  return { nodes, dataRoot, isFresh, isVerbose };
}

async function runLocalStart(commandArguments: readonly string[]): Promise<ExitCode> {
  const options = parseOptions(commandArguments);
  const root = path.resolve(options.dataRoot);
  const holder = await runningLocalOperator(root);
  if (holder !== undefined) {
    console.error(
      `a local cluster already runs from ${root} (operator pid ${holder.pid}); ` +
        'scale it with `raftkv local scale N`, or stop it with Ctrl-C in its terminal',
    );
    return ExitCode.failure;
  }
  const operatorOptions = parseOperatorOptions(
    ['--platform=local', `--data-dir=${root}`, '--http-port=0', '--leader-election=false'],
    {},
  );
  const isColour = process.stdout.isTTY && process.env.NO_COLOR === undefined;
  const runtime = localRuntime(operatorOptions, SILENT_LOGGER, {
    onEvent: (_cluster, event) => console.log(`operator  ${event.reason}: ${event.message}`),
  });
  if (options.isFresh) {
    await runtime.platform.stopAll();
    rmSync(root, { recursive: true, force: true });
  }
  const nodes = await ensureCluster(root, options.nodes);
  const releaseLock = await acquireLocalOperatorLock(root);
  const tailer = new LogTailer(path.join(root, 'logs'), (file, line) => {
    if (!options.isVerbose && line.includes('"level":20')) return;
    const name = path.basename(file, '.log');
    const ordinal = Number(/-(\d+)$/.exec(name)?.[1] ?? 0);
    console.log(compactLogLine(ordinal, name, line, isColour));
  });
  tailer.start();
  printWelcome(root, nodes);
  let isStopping = false;
  const stopSignal = new Promise<void>((resolve) => {
    const stop = (): void => {
      if (isStopping) return;
      isStopping = true;
      console.log('\nstopping every member (leadership is handed over first)...');
      resolve();
    };
    // `on`, not `once`: Ctrl-C reaches npm, scripts/start.mjs and this process together, and a
    // forwarded second signal must not kill the launcher halfway through stopping the members.
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const exitCode = await runOperator({
    options: operatorOptions,
    runtime,
    logger: SILENT_LOGGER,
    stopSignal,
    onStep: (_cluster, step, seconds) =>
      console.log(`operator  ${describeStep(step)} (${seconds.toFixed(1)} s)`),
  });
  await runtime.platform.stopAll();
  tailer.stop();
  await releaseLock();
  console.log('all members stopped; data kept in', root);
  return exitCode === 0 ? ExitCode.success : ExitCode.failure;
}

/** Creates the cluster resource if there is none; applies --nodes to an existing one. */
async function ensureCluster(root: string, nodes: number | undefined): Promise<number> {
  if (!existsSync(path.join(root, 'raftcluster.json'))) {
    await createLocalCluster(root, LOCAL_CLUSTER_NAME, { replicas: nodes ?? 3 });
    return nodes ?? 3;
  }
  const cluster = await readLocalCluster(root);
  if (nodes !== undefined && nodes !== cluster.spec.replicas) {
    await updateLocalClusterSpec(root, { replicas: nodes });
    return nodes;
  }
  return cluster.spec.replicas ?? 3;
}

function printWelcome(root: string, nodes: number): void {
  const endpoints = Array.from({ length: nodes }, (_unused, k) => `127.0.0.1:${2379 + 10_000 * k}`);
  const lines = [
    '',
    `raftkv local cluster: ${nodes} members on 127.0.0.1, cluster directory ${root}`,
    '',
    ...endpoints.map(
      (endpoint, k) =>
        `  ${LOCAL_CLUSTER_NAME}-${k}  client ${endpoint}  peer 127.0.0.1:${2380 + 10_000 * k}  http://127.0.0.1:${2381 + 10_000 * k}/metrics`,
    ),
    '',
    'Try, in another terminal in this folder:',
    '  node dist/cli/main.js put greeting hello',
    '  node dist/cli/main.js get greeting',
    `  node dist/cli/main.js endpoint status --endpoints ${endpoints.join(',')}`,
    '',
    `etcdctl works too: etcdctl --endpoints ${endpoints.join(',')} member list -w table`,
    'Scale it: node dist/cli/main.js local scale 5   (one member at a time, as the operator does)',
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
