/**
 * `raftkv local scale N`: changes the size of the running local cluster the way
 * `kubectl scale raftcluster/NAME --replicas=N` does on Kubernetes: it writes the new
 * `spec.replicas` into the cluster's resource and lets the operator (the `local start` process)
 * reconcile. It then follows the operator's events and status, printing each membership step
 * with the time since the scale began, and each member change with its duration, until the
 * cluster has N voters and is stable.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

import {
  findCondition,
  readLocalCluster,
  runningLocalOperator,
  updateLocalClusterSpec,
} from '../operator/index.js';
import { type Command, ExitCode, UsageError } from './command.js';
import { parseFlags, parseNodes } from './local-command.js';

const HELP = `Usage: raftkv local scale N [--data-dir DIR] [--timeout-seconds S] [--no-wait]

Sets the local cluster in DIR (default ./raftkv-local) to N members (1 to 7) and waits until
the operator running it (\`raftkv local start\`, or \`npm start\`) has added or removed members
one safe step at a time: a new member joins as a learner, catches up by log index and is
promoted through joint consensus; a member leaving hands over leadership first, is removed
through joint consensus, then its process stops and its data is deleted. Prints every step.

Options:
  --data-dir DIR        the cluster directory (default ./raftkv-local)
  --timeout-seconds S   give up waiting after S seconds (default 300); the change goes on
  --no-wait             only write the new size`;

interface ScaleOptions {
  readonly nodes: number;
  readonly dataRoot: string;
  readonly timeoutSeconds: number;
  readonly isWaiting: boolean;
}

/** Time between two looks at the status and events. */
const POLL_INTERVAL_MS = 200;

function parseOptions(commandArguments: readonly string[]): ScaleOptions {
  const [count, ...rest] = commandArguments;
  if (count === undefined || count.startsWith('--')) throw new UsageError('N is missing');
  const nodes = parseNodes(count, 'N');
  let dataRoot = './raftkv-local';
  let timeoutSeconds = 300;
  let isWaiting = true;
  parseFlags(rest, (flag, value) => {
    switch (flag) {
      case '--data-dir':
        dataRoot = value();
        break;
      case '--timeout-seconds':
        timeoutSeconds = Number(value());
        if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
          throw new UsageError('--timeout-seconds must be a positive number');
        }
        break;
      case '--no-wait':
        isWaiting = false;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  });
  return { nodes, dataRoot, timeoutSeconds, isWaiting };
}

async function runLocalScale(commandArguments: readonly string[]): Promise<ExitCode> {
  const options = parseOptions(commandArguments);
  const root = path.resolve(options.dataRoot);
  let before;
  try {
    before = await readLocalCluster(root);
  } catch {
    console.error(`no local cluster in ${root}: start one with \`npm start\` first`);
    return ExitCode.failure;
  }
  if ((await runningLocalOperator(root)) === undefined) {
    console.error(
      `no operator runs the local cluster in ${root}: start it with \`npm start\` ` +
        '(or `raftkv local start`), then scale',
    );
    return ExitCode.unavailable;
  }
  const eventsFile = path.join(root, 'events.log');
  let eventsOffset = sizeOf(eventsFile);
  const startedMs = Date.now();
  const updated = await updateLocalClusterSpec(root, { replicas: options.nodes });
  const generation = updated.metadata.generation ?? 0;
  console.log(
    `scaling ${updated.metadata.name} from ${before.status?.replicas ?? '?'} to ${options.nodes} members`,
  );
  if (!options.isWaiting) return ExitCode.success;
  let lastStepShown = JSON.stringify(before.status?.lastStep ?? null);
  const deadlineMs = startedMs + options.timeoutSeconds * 1000;
  for (;;) {
    const elapsed = ((Date.now() - startedMs) / 1000).toFixed(1).padStart(5);
    const { text, offset } = readFrom(eventsFile, eventsOffset);
    eventsOffset = offset;
    for (const line of text.split('\n').filter((entry) => entry !== '')) {
      const event = JSON.parse(line) as { reason?: string; message?: string };
      console.log(`  +${elapsed} s  ${event.reason ?? '?'}: ${event.message ?? ''}`);
    }
    const cluster = await readLocalCluster(root);
    const status = cluster.status;
    const lastStep = JSON.stringify(status?.lastStep ?? null);
    if (lastStep !== lastStepShown && status?.lastStep !== undefined) {
      lastStepShown = lastStep;
      const step = status.lastStep;
      console.log(
        `  +${elapsed} s  ${step.action} ${step.member} done in ${step.durationSeconds.toFixed(1)} s`,
      );
    }
    const progressing = findCondition(status?.conditions, 'Progressing');
    const voters = status?.members?.filter((member) => member.voter).length ?? 0;
    const isDone =
      (status?.observedGeneration ?? 0) >= generation &&
      progressing?.status === 'False' &&
      voters === options.nodes &&
      status?.replicas === options.nodes;
    if (isDone) {
      const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
      console.log(`${options.nodes} members after ${seconds} s; leader ${status?.leader ?? '?'}`);
      for (const member of status?.members ?? []) {
        console.log(
          `  ${member.name.padEnd(12)} ${member.id}  ${member.role.padEnd(8)} applied ${member.appliedIndex}`,
        );
      }
      return ExitCode.success;
    }
    if (Date.now() > deadlineMs) {
      console.error(
        `not done after ${options.timeoutSeconds} s: ${progressing?.reason ?? '?'}: ${progressing?.message ?? ''}`,
      );
      return ExitCode.failure;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The complete lines appended to `file` since `offset`, and the offset after them. */
function readFrom(file: string, offset: number): { text: string; offset: number } {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch {
    return { text: '', offset };
  }
  const tail = content.subarray(offset);
  const end = tail.lastIndexOf(0x0a);
  if (end < 0) return { text: '', offset };
  return { text: tail.subarray(0, end + 1).toString('utf8'), offset: offset + end + 1 };
}

/** `raftkv local scale N`. */
export const LOCAL_SCALE_COMMAND: Command = {
  words: ['local', 'scale'],
  synopsis: 'local scale N',
  summary: 'change the size of the running local cluster, one member at a time',
  help: HELP,
  run: runLocalScale,
};
