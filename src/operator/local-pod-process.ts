/**
 * The processes behind local pods: starting one detached (so it outlives the operator), knowing
 * whether it still runs, signalling and stopping it, and the per-pod state file that lets a new
 * operator adopt it. A process is named by its PID and its start time (`/proc/PID/stat` field 22),
 * so a reused PID is never mistaken for a pod and never signalled. Linux only (`/proc`).
 * Decides nothing: when to start, restart or stop a pod is local-platform.ts's business.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import * as path from 'node:path';

import { RaftkvError } from '../common/index.js';
import {
  isErrorCode,
  LocalClusterFileError,
  type LocalClusterPaths,
  parseJson,
  readTextIfExists,
  writeJsonAtomic,
} from './local-cluster-files.js';
import { ordinalOf } from './raft-cluster.js';

/** How often a stop looks whether the process is gone. */
const EXIT_POLL_INTERVAL_MS = 100;
/** How long a stop waits for the kernel to reap a process after SIGKILL. */
const KILL_WAIT_MS = 5000;
/** Field 22 of /proc/PID/stat (start time), as an index after the `(comm)` field. */
const STAT_START_TIME_INDEX = 22 - 3;
/** Field 3 of /proc/PID/stat (state), likewise. */
const STAT_STATE_INDEX = 3 - 3;
/** States of a process that has exited but is not reaped yet: it is no longer running. */
const EXITED_STATES = new Set(['Z', 'X', 'x']);

/** A process, told apart from a later one with the same PID. */
export interface ProcessIdentity {
  readonly pid: number;
  /** `/proc/PID/stat` field 22 (clock ticks after boot); null if it was gone before it was read. */
  readonly startTime: string | null;
}

/** The state file of one pod, `pods/NAME-K.json`. */
export interface PodRecord extends ProcessIdentity {
  readonly name: string;
  readonly ordinal: number;
  /** Wall-clock time it was started (ms since the epoch): how long it ran before it exited. */
  readonly startedAtMs: number;
  /** Restarts after a crash since the pod was created (a deleted pod comes back at 0). */
  readonly restartCount: number;
  /** Crashes in a row without a stable run in between: the back-off exponent. */
  readonly crashStreak: number;
  /** When the operator found the process gone (a crash, not a stop); null while it runs. */
  readonly exitedAtMs: number | null;
  /** Earliest restart after that crash (crash-loop back-off); null while it runs. */
  readonly restartNotBeforeMs: number | null;
  /** Being stopped: SIGKILL is due at this time if it has not exited; null otherwise. */
  readonly killAtMs: number | null;
}

/** A pod process could not be started at all (not: it started and then exited). */
export class PodStartError extends RaftkvError {
  readonly code = 'LOCAL_POD_START_FAILED';
  readonly pod: string;
  constructor(pod: string, file: string, options?: { cause?: unknown }) {
    super(
      `could not start ${pod} (${file})`,
      'Check that the node command exists and is executable (the operator runs it for each pod).',
      options,
    );
    this.pod = pod;
  }
}

/** What {@link spawnDetached} runs. */
export interface DetachedCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** stdout and stderr go here, appended. */
  readonly logFile: string;
}

/**
 * Starts `command` in its own process group with its output appended to its log file and no tie
 * to this process: it keeps running when the operator exits or is killed.
 */
export async function spawnDetached(
  pod: string,
  command: DetachedCommand,
): Promise<ProcessIdentity> {
  await mkdir(path.dirname(command.logFile), { recursive: true });
  const log = await open(command.logFile, 'a');
  try {
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    // A later 'error' (a failed kill) must not become an uncaught exception of the operator.
    child.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error('spawned without a pid');
    return { pid, startTime: (await readStartTime(pid)) ?? null };
  } catch (error) {
    throw new PodStartError(pod, command.file, { cause: error });
  } finally {
    await log.close();
  }
}

/**
 * The start time of process `pid` if it runs (exited-but-unreaped counts as gone), else
 * undefined.
 */
export async function readStartTime(pid: number): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[STAT_STATE_INDEX];
  if (state === undefined || EXITED_STATES.has(state)) return undefined;
  return fields[STAT_START_TIME_INDEX];
}

/** True while the process `identity` names runs (not a later process with its PID). */
export async function isAlive(identity: ProcessIdentity): Promise<boolean> {
  if (identity.startTime === null) return false;
  return (await readStartTime(identity.pid)) === identity.startTime;
}

/** Sends `signal` to `identity` if it still is that process; returns whether it was sent. */
export async function signalProcess(
  identity: ProcessIdentity,
  signal: NodeJS.Signals,
): Promise<boolean> {
  if (!(await isAlive(identity))) return false;
  try {
    process.kill(identity.pid, signal);
    return true;
  } catch (error) {
    if (isErrorCode(error, 'ESRCH')) return false;
    throw error;
  }
}

/** Waits until `identity` is gone or `timeoutMs` passed; returns whether it is gone. */
export async function waitForExit(identity: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isAlive(identity))) return true;
    if (Date.now() >= deadlineMs) return false;
    await sleep(Math.min(EXIT_POLL_INTERVAL_MS, Math.max(1, deadlineMs - Date.now())));
  }
}

/** How a {@link terminate} ended. */
export type TerminateOutcome = 'exited' | 'killed' | 'stuck';

/**
 * Stops `identity`: SIGTERM (unless `isTermSent`: a second SIGTERM would hit the node's default
 * handler and kill it at once), then SIGKILL at `killAtMs` (wall clock) if it still runs.
 * 'stuck' means it outlived SIGKILL by {@link KILL_WAIT_MS} (uninterruptible I/O).
 */
export async function terminate(
  identity: ProcessIdentity,
  killAtMs: number,
  isTermSent: boolean,
): Promise<TerminateOutcome> {
  if (!isTermSent) await signalProcess(identity, 'SIGTERM');
  if (await waitForExit(identity, Math.max(0, killAtMs - Date.now()))) return 'exited';
  await signalProcess(identity, 'SIGKILL');
  return (await waitForExit(identity, KILL_WAIT_MS)) ? 'killed' : 'stuck';
}

/**
 * Running processes (other than this one) whose command line holds exactly `argument`. Finds a
 * pod started by an operator that died before it could write the pod's state file.
 */
export async function findProcessesWithArgument(argument: string): Promise<ProcessIdentity[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids = entries.filter((entry) => /^[0-9]+$/.test(entry)).map(Number);
  const found = await Promise.all(
    pids.map(async (pid): Promise<ProcessIdentity | undefined> => {
      if (pid === process.pid) return undefined;
      const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (!commandLine.split('\0').includes(argument)) return undefined;
      const startTime = await readStartTime(pid);
      return startTime === undefined ? undefined : { pid, startTime };
    }),
  );
  return found.filter((identity) => identity !== undefined);
}

/** The state file of pod `name`. */
export function podRecordPath(paths: LocalClusterPaths, name: string): string {
  return path.join(paths.pods, `${name}.json`);
}

/** Replaces the state file of `record`'s pod. */
export async function writePodRecord(paths: LocalClusterPaths, record: PodRecord): Promise<void> {
  await mkdir(paths.pods, { recursive: true });
  await writeJsonAtomic(podRecordPath(paths, record.name), record);
}

/** Deletes the state file of pod `name` (the pod no longer exists); absent is fine. */
export async function removePodRecord(paths: LocalClusterPaths, name: string): Promise<void> {
  await unlink(podRecordPath(paths, name)).catch((error: unknown) => {
    if (!isErrorCode(error, 'ENOENT')) throw error;
  });
}

/** The state files of cluster `clusterName`'s pods, by ordinal. */
export async function readPodRecords(
  paths: LocalClusterPaths,
  clusterName: string,
): Promise<Map<number, PodRecord>> {
  const records = await readRecordFiles(paths, (name) => ordinalOf(clusterName, name));
  return new Map(records.map((record) => [record.ordinal, record]));
}

/** Every pod state file under `paths`, whatever cluster name it carries. */
export async function readAllPodRecords(paths: LocalClusterPaths): Promise<PodRecord[]> {
  return readRecordFiles(paths, (name) => {
    const match = /-(0|[1-9][0-9]*)$/.exec(name);
    return match === null ? null : Number(match[1]);
  });
}

/** The state files whose pod name `ordinalOfName` accepts. */
async function readRecordFiles(
  paths: LocalClusterPaths,
  ordinalOfName: (name: string) => number | null,
): Promise<PodRecord[]> {
  let entries: string[];
  try {
    entries = await readdir(paths.pods);
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return [];
    throw error;
  }
  const records: PodRecord[] = [];
  for (const entry of entries.sort()) {
    if (!entry.endsWith('.json')) continue; // temp files of an atomic write in progress
    const name = entry.slice(0, -'.json'.length);
    const ordinal = ordinalOfName(name);
    if (ordinal === null) continue;
    const file = path.join(paths.pods, entry);
    const text = await readTextIfExists(file);
    if (text !== undefined) records.push(parsePodRecord(file, text, name, ordinal));
  }
  return records;
}

/** Checks a pod state file. */
function parsePodRecord(file: string, text: string, name: string, ordinal: number): PodRecord {
  const value = parseJson(file, text) as Partial<Record<keyof PodRecord, unknown>> | null;
  const isNumber = (field: unknown): field is number =>
    typeof field === 'number' && Number.isFinite(field);
  const isNumberOrNull = (field: unknown): field is number | null =>
    field === null || isNumber(field);
  if (
    value === null ||
    typeof value !== 'object' ||
    value.name !== name ||
    value.ordinal !== ordinal ||
    !isNumber(value.pid) ||
    !(value.startTime === null || typeof value.startTime === 'string') ||
    !isNumber(value.startedAtMs) ||
    !isNumber(value.restartCount) ||
    !isNumber(value.crashStreak) ||
    !isNumberOrNull(value.exitedAtMs) ||
    !isNumberOrNull(value.restartNotBeforeMs) ||
    !isNumberOrNull(value.killAtMs)
  ) {
    throw new LocalClusterFileError(file, `not a state file of pod ${name}`);
  }
  return {
    name,
    ordinal,
    pid: value.pid,
    startTime: value.startTime,
    startedAtMs: value.startedAtMs,
    restartCount: value.restartCount,
    crashStreak: value.crashStreak,
    exitedAtMs: value.exitedAtMs,
    restartNotBeforeMs: value.restartNotBeforeMs,
    killAtMs: value.killAtMs,
  };
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
