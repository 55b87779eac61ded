/**
 * Real etcd (3.4, /usr/bin/etcd) for the client and CLI tests: one or more members on free
 * loopback ports with data directories in one temporary directory, started and stopped by PID,
 * the directory removed on stop. Readiness is judged by etcdctl, not by the code under test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const ETCD_BINARY = process.env.RAFTKV_TEST_ETCD ?? '/usr/bin/etcd';
export const ETCDCTL_BINARY = process.env.RAFTKV_TEST_ETCDCTL ?? '/usr/bin/etcdctl';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface EtcdMember {
  readonly name: string;
  /** `127.0.0.1:port` of the client API. */
  readonly endpoint: string;
  readonly peerUrl: string;
  readonly dataDirectory: string;
  process: ChildProcess | undefined;
}

/** Free loopback ports, all held open at once so that they are distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  return ports;
}

/** Runs etcdctl (API v3) and returns its stdout; rejects when it exits non-zero. */
export async function etcdctl(endpoints: readonly string[], ...commandArguments: string[]) {
  const { stdout } = await execFileAsync(
    ETCDCTL_BINARY,
    [`--endpoints=${endpoints.join(',')}`, '--command-timeout=5s', ...commandArguments],
    { env: { ...process.env, ETCDCTL_API: '3' } },
  );
  return stdout;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

export class EtcdCluster {
  private constructor(
    readonly root: string,
    readonly members: EtcdMember[],
  ) {}

  /** Starts `size` members as a new cluster and waits until every one is healthy. */
  static async start(size: number): Promise<EtcdCluster> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-etcd-'));
    const ports = await freePorts(2 * size);
    const members = Array.from({ length: size }, (_, position) =>
      EtcdCluster.describe(root, `etcd${position}`, ports[2 * position], ports[2 * position + 1]),
    );
    const cluster = new EtcdCluster(root, members);
    const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
    try {
      for (const member of members) cluster.launch(member, initialCluster, 'new');
      await cluster.waitHealthy(members.map((member) => member.endpoint));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private static describe(
    root: string,
    name: string,
    clientPort: number | undefined,
    peerPort: number | undefined,
  ): EtcdMember {
    return {
      name,
      endpoint: `127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${peerPort}`,
      dataDirectory: path.join(root, name),
      process: undefined,
    };
  }

  get endpoints(): string[] {
    return this.members.map((member) => member.endpoint);
  }

  /** Describes a further member on fresh ports (for `member add`), without starting it. */
  async newMember(name: string): Promise<EtcdMember> {
    const [clientPort, peerPort] = await freePorts(2);
    const member = EtcdCluster.describe(this.root, name, clientPort, peerPort);
    this.members.push(member);
    return member;
  }

  /** Starts a member already added to the cluster (initial cluster state 'existing'). */
  async join(member: EtcdMember, initialCluster: string): Promise<void> {
    this.launch(member, initialCluster, 'existing');
    // A learner serves no reads, so `endpoint health` fails on it; status is served.
    await this.waitHealthy([member.endpoint], 'status');
  }

  private launch(member: EtcdMember, initialCluster: string, state: 'new' | 'existing'): void {
    const clientUrl = `http://${member.endpoint}`;
    member.process = spawn(
      ETCD_BINARY,
      [
        `--name=${member.name}`,
        `--data-dir=${member.dataDirectory}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${member.peerUrl}`,
        `--initial-advertise-peer-urls=${member.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-state=${state}`,
        `--initial-cluster-token=${path.basename(this.root)}`,
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
  }

  private async waitHealthy(
    endpoints: readonly string[],
    check: 'health' | 'status' = 'health',
  ): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        await etcdctl(endpoints, 'endpoint', check);
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          const stderr = String((error as { stderr?: unknown }).stderr ?? '');
          const lastLine = stderr.trim().split('\n').at(-1) ?? '';
          throw new Error(`etcd not ready at ${endpoints.join(',')}: ${lastLine}`, {
            cause: error,
          });
        }
        await sleep(200);
      }
    }
  }

  /** Stops one member by its PID (SIGTERM, then SIGKILL) and waits for it to exit. */
  async stopMember(member: EtcdMember): Promise<void> {
    const child = member.process;
    member.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT'); // in case a test paused it
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every member and removes the temporary directory. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => this.stopMember(member)));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
