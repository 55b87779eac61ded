/**
 * A real raftkv cluster for integration tests: member processes started from the build
 * (`dist/cli/main.js`) on 127.0.0.1 ports found free, data in a temporary directory removed at
 * the end, fast timings, every member's log kept for the failure report. Stops only the
 * processes it started, by PID.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { credentials } from '@grpc/grpc-js';
import { beforeEach } from 'vitest';

import { LocalCluster } from '../../src/cli/local-cluster.js';
import { RaftkvClient } from '../../src/client/index.js';
import { MaintenanceClient, type StatusResponse } from '../../src/generated/etcdserverpb/rpc.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Ports per member: client, peer, http. */
const PORTS_PER_MEMBER = 3;
/** Member slots a test cluster reserves ports for (it may grow up to this). */
const MEMBER_SLOTS_MAX = 8;

/** Timings that make elections take a fraction of a second. */
export const FAST_TIMING_ARGUMENTS = [
  '--tick-interval-ms=50',
  '--election-timeout-ticks=10',
  '--request-timeout-ms=5000',
  '--shutdown-timeout-ms=8000',
  // Small segments: each member zero-fills two before serving, and tests start many members.
  '--wal-segment-bytes=4MiB',
];

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The kernel's ephemeral port range. Every outgoing connection takes its source port from it, so
 * a port reserved there for a member that starts later may be in use by then (CI saw a learner's
 * peer port taken: EADDRINUSE, the member exited). Reserved ranges stay below it.
 */
function ephemeralPortsStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    return Number(low) || EPHEMERAL_PORTS_START_DEFAULT;
  } catch {
    return EPHEMERAL_PORTS_START_DEFAULT;
  }
}

/** Linux's default `ip_local_port_range` start. */
const EPHEMERAL_PORTS_START_DEFAULT = 32_768;
/** Ports below this may belong to well-known services. */
const RESERVED_PORTS_FLOOR = 10_000;

/** A base port with `count` free ports after it, all below the ephemeral range. */
export async function findFreePortRange(count: number): Promise<number> {
  const span = Math.max(1, ephemeralPortsStart() - RESERVED_PORTS_FLOOR - count);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = RESERVED_PORTS_FLOOR + Math.floor(Math.random() * span);
    let isFree = true;
    for (let port = base; port < base + count && isFree; port++) isFree = await isPortFree(port);
    if (isFree) return base;
  }
  throw new Error('no free port range found');
}

/** Options of {@link startTestCluster}. */
export interface TestClusterOptions {
  readonly size: number;
  /** Extra serve flags; FAST_TIMING_ARGUMENTS by default. */
  readonly serveArguments?: readonly string[];
  /** Start the members right away (default true). */
  readonly isStarted?: boolean;
}

/** A cluster under test. */
export interface TestCluster {
  readonly local: LocalCluster;
  readonly dataRoot: string;
  /** Client endpoints (`host:port`) of every member slot. */
  endpoints(): string[];
  /** Maintenance.Status of member `ordinal` (rejects if unreachable within `timeoutMs`). */
  status(ordinal: number, timeoutMs?: number): Promise<StatusResponse>;
  /** Waits until the running members agree on one leader; returns its ordinal. */
  waitForLeader(timeoutMs?: number, excluded?: readonly number[]): Promise<number>;
  /** The last log lines of every member, for failure messages. */
  logTail(lines?: number): string;
  /** Stops every member (SIGTERM, then SIGKILL) and removes the data. */
  destroy(): Promise<void>;
  /**
   * A client of the members `ordinals` (default: every slot), closed by {@link destroy} (or
   * earlier by the caller; closing twice is harmless).
   */
  client(ordinals?: readonly number[], requestTimeoutMs?: number): Promise<RaftkvClient>;
  /** The member id member `ordinal` reports in its status header. */
  memberId(ordinal: number): Promise<number>;
  /** Ordinals of the member slots whose process is running. */
  running(): number[];
  /**
   * SIGKILLs every running member that does not answer Maintenance.Status within `timeoutMs`
   * (a hung member ignores SIGTERM, and destroy() would wait 10 s for it); returns their ordinals.
   */
  killUnresponsive(timeoutMs?: number): Promise<number[]>;
  /** GET `path` on member `ordinal`'s HTTP port. */
  httpGet(ordinal: number, path: string, timeoutMs?: number): Promise<HttpAnswer>;
  /**
   * Waits until member `ordinal` has applied at least what the members `reference` (default:
   * the other running ones) had committed when the wait began; returns that index.
   */
  waitForCaughtUp(
    ordinal: number,
    timeoutMs?: number,
    reference?: readonly number[],
  ): Promise<number>;
}

/** The answer of {@link TestCluster.httpGet}. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * Polls `probe` until it returns something other than undefined; throws after `timeoutMs` with
 * `description`, the last error the probe threw, and `cluster`'s log tail if given.
 */
export async function waitUntil<T>(
  description: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: {
    readonly timeoutMs?: number;
    readonly intervalMs?: number;
    readonly cluster?: TestCluster;
  } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      const logs = options.cluster === undefined ? '' : `\n${options.cluster.logTail()}`;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting until ${description}${cause}${logs}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/**
 * Registers a hook that prints the members' last log lines when a test of this file fails
 * (except `it.fails` tests).
 */
export function printLogsOnFailure(cluster: () => TestCluster | undefined, lines = 60): void {
  beforeEach(({ onTestFailed, task }) => {
    onTestFailed(() => {
      // An `it.fails` test (a known bug) fails by design; one that passes needs no logs either.
      if (task.fails === true) return;
      const logs = cluster()?.logTail(lines);
      if (logs !== undefined) process.stderr.write(`member logs at the failure:\n${logs}\n`);
    });
  });
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Starts `size` members (ordinals 0..size-1) as a fresh cluster. */
export async function startTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const dataRoot = mkdtempSync(path.join(tmpdir(), 'raftkv-it-'));
  const base = await findFreePortRange(PORTS_PER_MEMBER * MEMBER_SLOTS_MAX);
  const logs = new Map<number, string[]>();
  const local = new LocalCluster({
    size: options.size,
    dataRoot,
    cliEntry: path.join(ROOT, 'dist', 'cli', 'main.js'),
    ports: {
      clientPortBase: base,
      peerPortBase: base + 1,
      httpPortBase: base + 2,
      stride: PORTS_PER_MEMBER,
    },
    extraArguments: options.serveArguments ?? FAST_TIMING_ARGUMENTS,
    onLine: (ordinal, line) => {
      const lines = logs.get(ordinal) ?? [];
      lines.push(line);
      if (lines.length > 400) lines.splice(0, lines.length - 400);
      logs.set(ordinal, lines);
    },
  });
  if (options.isStarted ?? true) local.startAll();
  const clients = new Map<string, MaintenanceClient>();
  const maintenance = (ordinal: number): MaintenanceClient => {
    const address = local.member(ordinal).clientAddress;
    let client = clients.get(address);
    if (client === undefined) {
      client = new MaintenanceClient(address, credentials.createInsecure());
      clients.set(address, client);
    }
    return client;
  };
  const raftkvClients: RaftkvClient[] = [];
  const cluster: TestCluster = {
    local,
    dataRoot,
    endpoints: () => local.clientEndpoints,
    status: (ordinal, timeoutMs = 1000) =>
      new Promise((resolve, reject) => {
        maintenance(ordinal).status(
          {},
          { deadline: new Date(Date.now() + timeoutMs) } as never,
          (error: unknown, response: StatusResponse) =>
            error === null ? resolve(response) : reject(error as Error),
        );
      }),
    waitForLeader: async (timeoutMs = 15_000, excluded = []) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const running = local.members.filter(
          (member) => member.process !== undefined && !excluded.includes(member.ordinal),
        );
        const statuses = await Promise.all(
          running.map((member) => cluster.status(member.ordinal, 500).catch(() => undefined)),
        );
        const leaders = new Set(statuses.map((status) => status?.leader ?? 0));
        const [leaderId] = [...leaders];
        if (leaders.size === 1 && leaderId !== undefined && leaderId !== 0) {
          const leaderOrdinal = running.findIndex(
            (_, position) => statuses[position]?.header?.memberId === leaderId,
          );
          if (leaderOrdinal >= 0) return running[leaderOrdinal]?.ordinal ?? -1;
        }
        if (Date.now() > deadline) {
          throw new Error(`no agreed leader within ${timeoutMs} ms\n${cluster.logTail()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    logTail: (lines = 30) =>
      [...logs.entries()]
        .map(([ordinal, all]) => `--- raftkv-${ordinal}\n${all.slice(-lines).join('\n')}`)
        .join('\n'),
    destroy: async () => {
      for (const client of raftkvClients) client.close();
      for (const client of clients.values()) client.close();
      // A member left stopped by SIGSTOP would only die by SIGKILL: let it handle SIGTERM.
      for (const member of local.members) local.signal(member.ordinal, 'SIGCONT');
      await local.stopAll(10_000);
      rmSync(dataRoot, { recursive: true, force: true });
    },
    client: async (ordinals, requestTimeoutMs = 5000) => {
      const chosen = ordinals ?? local.members.map((member) => member.ordinal);
      const client = await RaftkvClient.connect({
        endpoints: chosen.map((ordinal) => local.member(ordinal).clientAddress),
        requestTimeoutMs,
        connectTimeoutMs: Math.min(1000, requestTimeoutMs),
      });
      raftkvClients.push(client);
      return client;
    },
    memberId: async (ordinal) => {
      const id = (await cluster.status(ordinal, 2000)).header?.memberId ?? 0;
      if (id === 0) throw new Error(`raftkv-${ordinal} reported no member id`);
      return id;
    },
    running: () =>
      local.members
        .filter((member) => member.process !== undefined)
        .map((member) => member.ordinal),
    killUnresponsive: async (timeoutMs = 1500) => {
      const running = cluster.running();
      const answers = await Promise.allSettled(
        running.map((ordinal) => cluster.status(ordinal, timeoutMs)),
      );
      const hung = running.filter((_, position) => answers[position]?.status === 'rejected');
      await Promise.all(hung.map((ordinal) => local.kill(ordinal)));
      return hung;
    },
    httpGet: async (ordinal, urlPath, timeoutMs = 2000) => {
      const response = await fetch(`http://${local.member(ordinal).httpAddress}${urlPath}`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, body: await response.text() };
    },
    waitForCaughtUp: async (ordinal, timeoutMs = 20_000, reference) => {
      const others = reference ?? cluster.running().filter((candidate) => candidate !== ordinal);
      const target = await waitUntil(
        `the commit index of raftkv-${others.join(',')} is known`,
        async () => {
          const statuses = await Promise.allSettled(
            others.map((other) => cluster.status(other, 1000)),
          );
          const indexes = statuses.flatMap((outcome) =>
            outcome.status === 'fulfilled' ? [outcome.value.raftIndex] : [],
          );
          return indexes.length === 0 ? undefined : Math.max(...indexes);
        },
        { timeoutMs, cluster },
      );
      await waitUntil(
        `raftkv-${ordinal} applied index reaches ${target}`,
        async () =>
          (await cluster.status(ordinal, 1000)).raftAppliedIndex >= target ? true : undefined,
        { timeoutMs, cluster },
      );
      return target;
    },
  };
  return cluster;
}
