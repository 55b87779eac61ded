/**
 * A raftkv cluster whose members live in network namespaces this helper creates, so that a test
 * can cut a member off with iptables as a real network partition would: one namespace per
 * member (`rkv-<pid>-<k>`, interface eth0 at 10.X.Y.(k+1)/24) and a hub namespace
 * (`rkv-<pid>-hub`) holding a bridge that every member's veth pair plugs into, with the hub at
 * 10.X.Y.254; clients (etcdctl) run inside the hub. Nothing touches the host's interfaces or
 * firewall: the /24 is picked at random among those the host does not route, the veth pairs are
 * created inside the namespaces, and the iptables rules are written inside a member's namespace.
 *
 * Root only. Processes are stopped by PID; `destroy()` kills them, deletes every namespace it
 * created (which removes their interfaces and rules) and the data directory, and is also run
 * synchronously if the test process exits without calling it.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { type EtcdctlOptions, type EtcdctlResult, runEtcdctl } from '../compat/etcdctl-runner.js';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI_ENTRY = path.join(ROOT, 'dist', 'cli', 'main.js');
const CLIENT_PORT = 2379;
const PEER_PORT = 2380;
const HTTP_PORT = 2381;
const HUB_HOST = 254;
/** The interface of a member namespace facing the hub's bridge. */
export const MEMBER_INTERFACE = 'eth0';

/** Whether this machine can run the namespace tests, and if not, why (RAFTKV_TEST_SKIP_NETNS=1 skips). */
export function netnsSupport(): { readonly isSupported: boolean; readonly reason: string } {
  if (process.env.RAFTKV_TEST_SKIP_NETNS === '1') {
    return { isSupported: false, reason: 'RAFTKV_TEST_SKIP_NETNS=1' };
  }
  if (process.platform !== 'linux') return { isSupported: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0) return { isSupported: false, reason: 'not running as root' };
  for (const tool of ['ip', 'iptables']) {
    if (findExecutable(tool) === undefined) {
      return { isSupported: false, reason: `'${tool}' is not installed (not on PATH)` };
    }
  }
  if (!existsSync(CLI_ENTRY)) return { isSupported: false, reason: `${CLI_ENTRY} is missing` };
  return { isSupported: true, reason: '' };
}

function findExecutable(name: string): string | undefined {
  const directories = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return directories
    .map((directory) => path.join(directory, name))
    .find((file) => existsSync(file));
}

async function ip(...commandArguments: string[]): Promise<string> {
  try {
    return (await execFileAsync('ip', commandArguments)).stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`ip ${commandArguments.join(' ')} failed: ${stderr}`, { cause: error });
  }
}

/** A random 10.X.Y prefix no host route or address uses. */
async function unusedSubnet(): Promise<string> {
  const inUse = (await ip('-4', 'route', 'show', 'table', 'all')) + (await ip('-4', '-o', 'addr'));
  for (let attempt = 0; attempt < 100; attempt++) {
    const prefix = `10.${16 + Math.floor(Math.random() * 230)}.${Math.floor(Math.random() * 256)}`;
    if (!inUse.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no unused 10.X.Y.0/24 found');
}

/** One member process inside its namespace. */
export interface NetnsMember {
  readonly ordinal: number;
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  /** `address:2379`, reachable from the hub. */
  readonly clientEndpoint: string;
  process: ChildProcess | undefined;
  isIsolated: boolean;
}

/** Options of {@link NetnsCluster.create}. */
export interface NetnsClusterOptions {
  readonly size: number;
  /** Extra `raftkv serve` flags (timings). */
  readonly serveArguments: readonly string[];
}

/** A raftkv cluster in network namespaces; see the file comment. */
export class NetnsCluster {
  readonly members: NetnsMember[] = [];
  private readonly namespaces: string[] = [];
  private readonly logs = new Map<number, string[]>();
  private readonly exitCleanup = (): void => this.destroySync();

  private constructor(
    readonly namePrefix: string,
    readonly subnet: string,
    readonly dataRoot: string,
    private readonly options: NetnsClusterOptions,
  ) {
    process.once('exit', this.exitCleanup);
  }

  get hubNamespace(): string {
    return `${this.namePrefix}-hub`;
  }

  /** Client endpoints of every member, as seen from the hub. */
  get endpoints(): string[] {
    return this.members.map((member) => member.clientEndpoint);
  }

  /** Builds the namespaces and network and starts every member. */
  static async create(options: NetnsClusterOptions): Promise<NetnsCluster> {
    const subnet = await unusedSubnet();
    const dataRoot = mkdtempSync(path.join(tmpdir(), 'raftkv-netns-'));
    const cluster = new NetnsCluster(`rkv-${process.pid}`, subnet, dataRoot, options);
    try {
      await cluster.buildNetwork();
      for (const member of cluster.members) cluster.start(member.ordinal);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private async addNamespace(name: string): Promise<void> {
    await ip('netns', 'add', name);
    this.namespaces.push(name);
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  }

  private async buildNetwork(): Promise<void> {
    const hub = this.hubNamespace;
    await this.addNamespace(hub);
    await ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', hub, 'addr', 'add', `${this.subnet}.${HUB_HOST}/24`, 'dev', 'br0');
    await ip('-n', hub, 'link', 'set', 'br0', 'up');
    for (let ordinal = 0; ordinal < this.options.size; ordinal++) {
      const namespace = `${this.namePrefix}-${ordinal}`;
      await this.addNamespace(namespace);
      const hubSide = `v${ordinal}`;
      // Created in the hub with its peer end moved straight into the member's namespace.
      await ip(
        '-n',
        hub,
        'link',
        'add',
        hubSide,
        'type',
        'veth',
        'peer',
        'name',
        MEMBER_INTERFACE,
        'netns',
        namespace,
      );
      await ip('-n', hub, 'link', 'set', hubSide, 'master', 'br0');
      await ip('-n', hub, 'link', 'set', hubSide, 'up');
      const address = `${this.subnet}.${ordinal + 1}`;
      await ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', MEMBER_INTERFACE);
      await ip('-n', namespace, 'link', 'set', MEMBER_INTERFACE, 'up');
      this.members.push({
        ordinal,
        name: `raftkv-${ordinal}`,
        namespace,
        address,
        clientEndpoint: `${address}:${CLIENT_PORT}`,
        process: undefined,
        isIsolated: false,
      });
    }
  }

  member(ordinal: number): NetnsMember {
    const member = this.members[ordinal];
    if (member === undefined) throw new Error(`no member ${ordinal}`);
    return member;
  }

  /** Starts member K inside its namespace (`ip netns exec` execs, so the PID is node's). */
  start(ordinal: number): void {
    const member = this.member(ordinal);
    if (member.process !== undefined) throw new Error(`${member.name} is already running`);
    const serve = [
      'serve',
      `--hostname=${member.name}`,
      `--name=${member.name}`,
      `--data-dir=${path.join(this.dataRoot, member.name)}`,
      '--listen-host=0.0.0.0',
      `--client-port=${CLIENT_PORT}`,
      `--peer-port=${PEER_PORT}`,
      `--http-port=${HTTP_PORT}`,
      `--peer-address-template=${this.subnet}.{1+ordinal}:${PEER_PORT}`,
      `--client-address-template=${this.subnet}.{1+ordinal}:${CLIENT_PORT}`,
      `--initial-cluster-size=${this.options.size}`,
      '--log-format=json',
      ...this.options.serveArguments,
    ];
    const child = spawn(
      'ip',
      ['netns', 'exec', member.namespace, process.execPath, CLI_ENTRY, ...serve],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    member.process = child;
    const lines = this.logs.get(ordinal) ?? [];
    this.logs.set(ordinal, lines);
    const keep = (chunk: string): void => {
      lines.push(...chunk.split('\n').filter((line) => line.length > 0));
      if (lines.length > 400) lines.splice(0, lines.length - 400);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.once('exit', (code, signal) => {
      if (member.process === child) member.process = undefined;
      keep(`[${member.name} exited: code ${code}, signal ${signal}]`);
    });
  }

  /** Stops member K by PID: SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(ordinal: number, timeoutMs = 5000): Promise<void> {
    const child = this.member(ordinal).process;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private iptablesRules(): string[][] {
    return [
      ['INPUT', '-i', MEMBER_INTERFACE, '-j', 'DROP'],
      ['OUTPUT', '-o', MEMBER_INTERFACE, '-j', 'DROP'],
    ];
  }

  /** Drops every packet in and out of member K's interface (inside its namespace). */
  async isolate(ordinal: number): Promise<void> {
    const member = this.member(ordinal);
    for (const [chain, ...rule] of this.iptablesRules()) {
      await ip('netns', 'exec', member.namespace, 'iptables', '-A', chain ?? '', ...rule);
    }
    member.isIsolated = true;
  }

  /** Deletes the rules {@link isolate} added. */
  async heal(ordinal: number): Promise<void> {
    const member = this.member(ordinal);
    for (const [chain, ...rule] of this.iptablesRules()) {
      await ip('netns', 'exec', member.namespace, 'iptables', '-D', chain ?? '', ...rule);
    }
    member.isIsolated = false;
  }

  /** The rules now in member K's filter table (`iptables -S`). */
  async rules(ordinal: number): Promise<string> {
    return ip('netns', 'exec', this.member(ordinal).namespace, 'iptables', '-S');
  }

  /** etcdctl run inside the hub namespace (default endpoints: every member). */
  etcdctl(
    commandArguments: readonly string[],
    options: EtcdctlOptions & { readonly endpoints?: readonly string[] } = {},
  ): Promise<EtcdctlResult> {
    return runEtcdctl(options.endpoints ?? this.endpoints, commandArguments, {
      ...options,
      prefix: ['ip', 'netns', 'exec', this.hubNamespace],
    });
  }

  /** etcdctl run inside member K's own namespace against 127.0.0.1 (reachable when isolated). */
  etcdctlInside(
    ordinal: number,
    commandArguments: readonly string[],
    options: EtcdctlOptions = {},
  ): Promise<EtcdctlResult> {
    return runEtcdctl([`127.0.0.1:${CLIENT_PORT}`], commandArguments, {
      ...options,
      prefix: ['ip', 'netns', 'exec', this.member(ordinal).namespace],
    });
  }

  /** The last log lines of every member. */
  logTail(lines = 20): string {
    return [...this.logs.entries()]
      .map(([ordinal, all]) => `--- raftkv-${ordinal}\n${all.slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** Names of the namespaces of this cluster that still exist. */
  static async leftoverNamespaces(namePrefix: string): Promise<string[]> {
    const listed = await ip('netns', 'list');
    return listed
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(`${namePrefix}-`));
  }

  /** Stops every member, deletes the namespaces and the data directory. */
  async destroy(): Promise<void> {
    await Promise.all(
      this.members.map((member) => this.stop(member.ordinal).catch(() => undefined)),
    );
    for (const namespace of this.namespaces.splice(0).reverse()) {
      await ip('netns', 'del', namespace).catch(() => undefined);
    }
    rmSync(this.dataRoot, { recursive: true, force: true });
    process.removeListener('exit', this.exitCleanup);
  }

  /** Last resort when the process exits without destroy(): SIGKILL by PID, delete namespaces. */
  private destroySync(): void {
    for (const member of this.members) {
      const pid = member.process?.pid;
      if (pid !== undefined && member.process?.exitCode === null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const namespace of this.namespaces.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}
