/**
 * Everything the cluster benchmarks start (member processes, h2load runs, temporary
 * directories) is registered here, so that it is stopped and removed also when the run ends
 * early: on Ctrl-C, SIGTERM or SIGHUP, on an uncaught error, on process exit. Processes are
 * SIGKILLed by the PIDs this process spawned, never looked up by name.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

const liveChildren = new Set<ChildProcess>();
const liveDirectories = new Set<string>();
let areHooksInstalled = false;

function isAlive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Synchronous last-resort cleanup: SIGKILL the PIDs we spawned, remove our temp dirs. */
function cleanUpSynchronously(): void {
  for (const child of liveChildren) {
    if (child.pid !== undefined && isAlive(child)) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  liveChildren.clear();
  for (const directory of liveDirectories) fs.rmSync(directory, { recursive: true, force: true });
  liveDirectories.clear();
}

function installHooks(): void {
  if (areHooksInstalled) return;
  areHooksInstalled = true;
  process.on('exit', cleanUpSynchronously);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: killing the processes this run started, removing temp dirs`);
      cleanUpSynchronously();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Tracks a spawned process until it exits. */
export function trackChild(child: ChildProcess): void {
  installHooks();
  liveChildren.add(child);
  const forget = (): void => {
    liveChildren.delete(child);
  };
  child.once('exit', forget);
  child.once('error', forget);
}

/** Tracks a temporary directory until untrackDirectory (or cleanup) removes it. */
export function trackDirectory(directory: string): void {
  installHooks();
  liveDirectories.add(directory);
}

/** Removes a tracked directory now. */
export function removeDirectory(directory: string): void {
  fs.rmSync(directory, { recursive: true, force: true });
  liveDirectories.delete(directory);
}
