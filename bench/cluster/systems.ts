/**
 * What both cluster benchmarks share: choosing the systems under test, the machine description
 * printed at the top, CPU time of member processes, and a few number formats.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { promisify } from 'node:util';

import type { ClusterUnderTest } from './cluster-under-test.js';
import { EtcdCluster, etcdVersion } from './etcd-cluster.js';
import { H2LOAD_BINARY } from './h2load-runner.js';
import { RaftkvCluster } from './raftkv-cluster.js';

const execFileAsync = promisify(execFile);

export const SYSTEM_NAMES = ['etcd', 'raftkv'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** The systems of "--systems etcd,raftkv", in the order given, each once. */
export function parseSystems(text: string): SystemName[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!(SYSTEM_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown system "${name}" (known: ${SYSTEM_NAMES.join(', ')})`);
    }
  }
  return [...new Set(names as SystemName[])];
}

export function createCluster(name: SystemName): ClusterUnderTest {
  return name === 'etcd' ? new EtcdCluster() : new RaftkvCluster();
}

async function firstLine(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args);
    return stdout.split('\n')[0]?.trim() ?? '';
  } catch {
    return 'not available';
  }
}

/** Cores, CPU model, memory, Node, etcd and h2load versions, load average. */
export async function describeMachine(): Promise<string[]> {
  const cpus = os.cpus();
  const etcd = await etcdVersion();
  return [
    `machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown CPU'}), ` +
      `${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os.type()} ${os.release()}, ` +
      `load average ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}`,
    `node ${process.version}; etcd ${etcd}; ${await firstLine(H2LOAD_BINARY, ['--version'])}`,
  ];
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, all threads) the given processes have used so far, from
 * /proc/PID/stat; processes that are gone count zero.
 */
export function cpuSecondsOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds this process has used, plus those of its children it has waited for (h2load runs
 * once it exited; members only after they were killed), from /proc/self/stat.
 */
export function ownCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14-17.
  const ticks = [11, 12, 13, 14].reduce((sum, field) => sum + Number(fields[field]), 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds all cores have been busy so far (user, nice, system, irq, softirq, steal). */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const ticks = [user, nice, system, irq, softirq, steal].reduce<number>(
    (sum, value) => sum + (value ?? 0),
    0,
  );
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Milliseconds with a precision that suits the magnitude. */
export function formatMilliseconds(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}
