/**
 * What the cluster benchmarks need from a system under test (etcd or raftkv), and the shared
 * machinery of a local 3-member cluster on 127.0.0.1: free ports, a temporary directory, member
 * processes started and SIGKILLed by PID, Maintenance.Status polling, leader discovery. Cleanup
 * also runs on Ctrl-C, SIGTERM, errors and process exit (cleanup.ts). Nothing is ever stopped by
 * name: only the PIDs this process spawned.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { removeDirectory, trackChild, trackDirectory } from './cleanup.js';
import {
  decodeStatusResponse,
  encodeStatusFrame,
  formatMemberId,
  GRPC_STATUS_OK,
  parseGrpcFrames,
  STATUS_PATH,
  type StatusResponse,
} from './grpc-wire.js';
import { GrpcEndpoint } from './http2-grpc-client.js';

/** One member's Maintenance.Status answer, or why there was none. */
export interface MemberStatus {
  readonly index: number;
  readonly endpoint: string;
  readonly status: StatusResponse | undefined;
  readonly error: string | undefined;
}

export interface ClusterUnderTest {
  /** "etcd" or "raftkv". */
  readonly name: string;
  /** Client (gRPC) endpoints, "127.0.0.1:port", by member index 0..2. */
  readonly clientEndpoints: readonly string[];
  /** Starts all members and waits until they agree on a leader. */
  start(): Promise<void>;
  /** The server version string for the report. */
  version(): Promise<string>;
  /** Maintenance.Status of every member (in parallel, with a short deadline). */
  statusAll(): Promise<MemberStatus[]>;
  /** Index of the member a majority of the answering members name as leader; -1 if none. */
  leaderIndex(): Promise<number>;
  /** Client endpoint of the leader; waits (bounded) for one. */
  leaderEndpoint(): Promise<string>;
  /** Waits until every running member answers and all name the same leader; its index. */
  waitForLeader(timeoutMs: number): Promise<number>;
  /** SIGKILLs member `index` by PID and waits for the process to be gone. */
  kill(index: number): Promise<void>;
  /** Starts member `index` again on its data directory (does not wait for health). */
  restart(index: number): Promise<void>;
  /** Waits until member `index` is back: answers, agrees on the leader, caught up. */
  waitHealthy(index: number, timeoutMs: number): Promise<void>;
  /** The member's own count of leader changes it has seen, from its /metrics (undefined if none). */
  leaderChangesSeen(index: number): Promise<number | undefined>;
  /** PIDs of running members. */
  pids(): number[];
  /** Kills all members, closes client sessions, removes the temporary directory. */
  stop(): Promise<void>;
}

/** How to run one member: the executable, its arguments, extra environment. */
export interface MemberCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

const STATUS_TIMEOUT_MS = 1000;
const STOP_WAIT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Ports.

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * `count` consecutive free TCP ports on 127.0.0.1 (raftkv's address templates need
 * base+ordinal). Free when checked; another process could still take one before the member
 * binds it, which the member's start-up then reports.
 */
export async function findFreePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let isFree = true;
    for (let offset = 0; offset < count && isFree; offset++)
      isFree = await isPortFree(base + offset);
    if (isFree) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}

/** Waits for a TCP port to accept connections. */
async function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------
// The shared local cluster.

export abstract class LocalCluster implements ClusterUnderTest {
  abstract readonly name: string;
  readonly clientEndpoints: string[] = [];
  protected readonly directory: string;
  private readonly children: (ChildProcess | undefined)[] = [];
  private readonly exits: (Promise<void> | undefined)[] = [];
  private readonly statusEndpoints: GrpcEndpoint[] = [];
  private isStopped = false;

  protected constructor(
    readonly memberCount: number,
    directoryPrefix: string,
  ) {
    this.directory = fs.mkdtempSync(path.join(os.tmpdir(), directoryPrefix));
    trackDirectory(this.directory);
  }

  /** Picks ports and fills clientEndpoints; called once by start(). */
  protected abstract allocatePorts(): Promise<void>;
  /** The command line of member `index`. */
  protected abstract commandFor(index: number): MemberCommand;
  /** The client port of member `index` (for "is it listening"). */
  protected abstract clientPort(index: number): number;
  /** Where member `index` serves Prometheus metrics. */
  protected abstract metricsUrl(index: number): string;
  /** The metric counting leader changes a member saw. */
  protected abstract readonly leaderChangesMetric: string;
  abstract version(): Promise<string>;

  /** Extra readiness condition of a member beyond Status (raftkv: /readyz). */
  protected isReady(_index: number): Promise<boolean> {
    return Promise.resolve(true);
  }

  logFile(index: number): string {
    return path.join(this.directory, `member-${index}.log`);
  }

  async start(): Promise<void> {
    await this.allocatePorts();
    for (let index = 0; index < this.memberCount; index++) {
      this.statusEndpoints.push(new GrpcEndpoint(this.clientEndpoints[index] ?? ''));
      this.spawnMember(index);
    }
    try {
      await this.waitForLeader(30_000);
      for (let index = 0; index < this.memberCount; index++) {
        const deadline = Date.now() + 30_000;
        while (!(await this.isReady(index))) {
          if (Date.now() > deadline) throw new Error(`member ${index} never became ready`);
          await sleep(50);
        }
      }
    } catch (error) {
      throw new Error(`${this.name} did not start: ${String(error)}\n${this.logTails()}`, {
        cause: error,
      });
    }
  }

  private spawnMember(index: number): void {
    if (this.isStopped) throw new Error(`${this.name} is stopped`);
    const { command, args, env, cwd } = this.commandFor(index);
    const log = fs.openSync(this.logFile(index), 'a');
    fs.writeSync(log, `\n=== ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, {
      stdio: ['ignore', log, log],
      env: { ...process.env, ...env },
      ...(cwd === undefined ? {} : { cwd }),
    });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    trackChild(child);
    this.children[index] = child;
    this.exits[index] = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
  }

  pids(): number[] {
    return this.children.flatMap((child) =>
      child?.pid !== undefined && child.exitCode === null && child.signalCode === null
        ? [child.pid]
        : [],
    );
  }

  isRunning(index: number): boolean {
    const child = this.children[index];
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async statusOf(index: number): Promise<MemberStatus> {
    const endpoint = this.statusEndpoints[index];
    const address = this.clientEndpoints[index] ?? '';
    if (endpoint === undefined || !this.isRunning(index)) {
      return { index, endpoint: address, status: undefined, error: 'not running' };
    }
    const outcome = await endpoint.call(STATUS_PATH, encodeStatusFrame(), {
      timeoutMs: STATUS_TIMEOUT_MS,
      keepBody: true,
    });
    if (outcome.status !== GRPC_STATUS_OK || outcome.body === undefined) {
      return { index, endpoint: address, status: undefined, error: outcome.message };
    }
    try {
      const [message] = parseGrpcFrames(outcome.body);
      if (message === undefined) throw new Error('empty response');
      return { index, endpoint: address, status: decodeStatusResponse(message), error: undefined };
    } catch (error) {
      return { index, endpoint: address, status: undefined, error: String(error) };
    }
  }

  statusAll(): Promise<MemberStatus[]> {
    return Promise.all(this.clientEndpoints.map((_, index) => this.statusOf(index)));
  }

  /** The member index whose member id is `memberId`, from the answers at hand; -1 if unknown. */
  private indexOfMember(statuses: readonly MemberStatus[], memberId: bigint): number {
    return statuses.find((item) => item.status?.header.memberId === memberId)?.index ?? -1;
  }

  /** The leader a majority of all members name, by index; -1 if none. */
  leaderFrom(statuses: readonly MemberStatus[]): number {
    const votes = new Map<bigint, number>();
    for (const item of statuses) {
      const leader = item.status?.leader ?? 0n;
      if (leader !== 0n) votes.set(leader, (votes.get(leader) ?? 0) + 1);
    }
    for (const [leader, count] of votes) {
      if (count > this.memberCount / 2) return this.indexOfMember(statuses, leader);
    }
    return -1;
  }

  async leaderIndex(): Promise<number> {
    return this.leaderFrom(await this.statusAll());
  }

  async leaderEndpoint(): Promise<string> {
    const index = await this.waitForLeader(10_000, false);
    const endpoint = this.clientEndpoints[index];
    if (endpoint === undefined) throw new Error(`no endpoint for member ${index}`);
    return endpoint;
  }

  /**
   * Polls Status until the running members (all of them when `isAllRequired`, else a majority)
   * name one leader which is itself running and answering.
   */
  async waitForLeader(timeoutMs: number, isAllRequired = true): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await this.statusAll();
      const running = statuses.filter((item) => this.isRunning(item.index));
      const answering = running.filter((item) => item.status !== undefined);
      const leader = this.leaderFrom(statuses);
      const leaderIds = new Set(answering.map((item) => item.status?.leader ?? 0n));
      const isAgreed =
        leader >= 0 &&
        (!isAllRequired || (answering.length === running.length && leaderIds.size === 1));
      if (isAgreed) return leader;
      const last = statuses
        .map(
          (item) =>
            `member ${item.index}: ` +
            (item.status === undefined
              ? `no status (${item.error ?? '?'})`
              : `leader ${formatMemberId(item.status.leader)} term ${item.status.raftTerm}`),
        )
        .join('; ');
      if (Date.now() > deadline) throw new Error(`no agreed leader after ${timeoutMs} ms: ${last}`);
      await sleep(50);
    }
  }

  async kill(index: number): Promise<void> {
    const child = this.children[index];
    if (child?.pid === undefined || !this.isRunning(index)) {
      throw new Error(`member ${index} is not running`);
    }
    process.kill(child.pid, 'SIGKILL');
    await this.exits[index];
    this.statusEndpoints[index]?.close();
  }

  async restart(index: number): Promise<void> {
    if (this.isRunning(index)) throw new Error(`member ${index} is still running`);
    this.spawnMember(index);
    const deadline = Date.now() + 30_000;
    while (!(await isPortOpen(this.clientPort(index)))) {
      if (!this.isRunning(index)) {
        throw new Error(`member ${index} exited on restart\n${this.logTails()}`);
      }
      if (Date.now() > deadline) throw new Error(`member ${index} does not listen after restart`);
      await sleep(20);
    }
  }

  /**
   * Healthy: every running member answers Status and names the same leader, the member's own
   * readiness check passes, and its applied index reached the leader's last index as seen when
   * the wait began (it caught up with what was committed before it came back).
   */
  async waitHealthy(index: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const leader = await this.waitForLeader(timeoutMs);
    const leaderStatus = (await this.statusOf(leader)).status;
    const target = leaderStatus?.raftIndex ?? 0n;
    for (;;) {
      const own = (await this.statusOf(index)).status;
      const applied =
        own === undefined ? -1n : own.raftAppliedIndex > 0n ? own.raftAppliedIndex : own.raftIndex;
      if (
        own !== undefined &&
        own.leader !== 0n &&
        applied >= target &&
        (await this.isReady(index))
      )
        return;
      if (Date.now() > deadline) {
        throw new Error(`member ${index} not healthy after ${timeoutMs} ms\n${this.logTails()}`);
      }
      await sleep(50);
    }
  }

  async leaderChangesSeen(index: number): Promise<number | undefined> {
    if (!this.isRunning(index)) return undefined;
    try {
      const response = await fetch(this.metricsUrl(index), { signal: AbortSignal.timeout(2000) });
      if (!response.ok) return undefined;
      const text = await response.text();
      for (const line of text.split('\n')) {
        const [name, value] = line.split(' ');
        if (name === this.leaderChangesMetric && value !== undefined) return Number(value);
      }
      return undefined;
    } catch {
      return undefined;
    }
  }

  /** The last lines of every member's log, for error messages. */
  logTails(lines = 15): string {
    return this.clientEndpoints
      .map((_, index) => {
        let text: string;
        try {
          text = fs.readFileSync(this.logFile(index), 'utf8');
        } catch {
          text = '(no log)';
        }
        const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
        return `--- ${this.name} member ${index} log (last ${lines} lines):\n${tail}`;
      })
      .join('\n');
  }

  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    for (const endpoint of this.statusEndpoints) endpoint.close();
    for (let index = 0; index < this.children.length; index++) {
      const child = this.children[index];
      if (child?.pid !== undefined && this.isRunning(index)) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    await Promise.race([Promise.all(this.exits), sleep(STOP_WAIT_MS)]);
    removeDirectory(this.directory);
  }
}
