/**
 * One operator per local cluster directory: `ROOT/operator.json` names the process that runs it
 * (PID and start time, so a later process with a reused PID is not mistaken for it). Taken with
 * an exclusive create; a lock whose process is gone is stale and taken over at once, which is
 * what a Lease would give after its duration (locally, death is observable, so no wait is needed).
 * `raftkv local scale` reads it to know whether an operator will act on a new spec.
 */
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { RaftkvError } from '../common/index.js';
import { isErrorCode } from './local-cluster-files.js';
import { isAlive, type ProcessIdentity, readStartTime } from './local-pod-process.js';

export class LocalOperatorRunningError extends RaftkvError {
  override readonly name = 'LocalOperatorRunningError';
  readonly code = 'LOCAL_OPERATOR_RUNNING';
  constructor(root: string, pid: number) {
    super(
      `another operator (pid ${pid}) already runs the local cluster in ${root}`,
      'Stop that one first, or use it: `raftkv local scale N` talks to it.',
    );
  }
}

/** The lock file of the local cluster at `root`. */
export function operatorLockPath(root: string): string {
  return path.join(path.resolve(root), 'operator.json');
}

/** The running operator of `root`, if any. */
export async function runningLocalOperator(root: string): Promise<ProcessIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(operatorLockPath(root), 'utf8');
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  let holder: ProcessIdentity;
  try {
    holder = JSON.parse(text) as ProcessIdentity;
  } catch {
    return undefined; // Torn by a crash mid-write: nobody holds it.
  }
  return (await isAlive(holder)) ? holder : undefined;
}

/** Takes the lock for this process; resolves with its release. */
export async function acquireLocalOperatorLock(root: string): Promise<() => Promise<void>> {
  const file = operatorLockPath(root);
  const self: ProcessIdentity = {
    pid: process.pid,
    startTime: (await readStartTime(process.pid)) ?? null,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole under a private name, then linked into place: link fails if the lock exists,
    // and nobody ever reads a half-written lock (which would look stale and be taken twice).
    const candidate = `${file}.${process.pid}`;
    await writeFile(candidate, JSON.stringify(self));
    try {
      await link(candidate, file);
      await rm(candidate, { force: true });
      return async () => {
        const holder = await runningLocalOperator(root);
        if (holder?.pid === self.pid) await rm(file, { force: true });
      };
    } catch (error) {
      await rm(candidate, { force: true });
      if (!isErrorCode(error, 'EEXIST')) throw error;
    }
    const holder = await runningLocalOperator(root);
    if (holder !== undefined) throw new LocalOperatorRunningError(root, holder.pid);
    await rm(file, { force: true }); // Stale: its process is gone.
  }
  throw new LocalOperatorRunningError(root, -1);
}
