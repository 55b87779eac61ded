/**
 * A real raftkv cluster on this machine: N `raftkv serve` processes on 127.0.0.1, each with its
 * own data directory, ports from one fixed scheme, and peer addresses from address templates.
 * Used by `raftkv local start` (and so `npm start`), the integration tests and the benchmarks.
 * Owns the child processes it starts and nothing else: it stops them by PID, never by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The ports of member K: base + stride × K. */
export interface LocalPortScheme {
  readonly clientPortBase: number;
  readonly peerPortBase: number;
  readonly httpPortBase: number;
  readonly stride: number;
}

/** Ports like etcd's (2379 client, 2380 peer, 2381 metrics) for member 0, +10000 per member. */
export const DEFAULT_PORT_SCHEME: LocalPortScheme = {
  clientPortBase: 2379,
  peerPortBase: 2380,
  httpPortBase: 2381,
  stride: 10_000,
};

/** Options of a local cluster. */
export interface LocalClusterOptions {
  /** Members started by {@link LocalCluster.startAll}; the initial cluster size. */
  readonly size: number;
  /** Parent of the members' data directories (`<dataRoot>/raftkv-K`). */
  readonly dataRoot: string;
  readonly ports?: LocalPortScheme;
  /** The CLI entry file to run (`dist/cli/main.js` or `src/cli/main.ts`); default: beside this. */
  readonly cliEntry?: string;
  /** Extra `raftkv serve` flags for every member (timings, limits). */
  readonly extraArguments?: readonly string[];
  /** Each stdout/stderr line of member K, as it arrives. */
  readonly onLine?: (ordinal: number, line: string, stream: 'stdout' | 'stderr') => void;
  /** Member K exited (on its own or stopped). */
  readonly onExit?: (ordinal: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

/** One member process. */
export interface LocalMember {
  readonly ordinal: number;
  readonly name: string;
  readonly clientAddress: string;
  readonly peerAddress: string;
  readonly httpAddress: string;
  readonly dataDirectory: string;
  process: ChildProcess | undefined;
}

/**
 * The command that runs the CLI: Node with `cliEntry` (default: the main file next to this one).
 * A TypeScript entry runs through tsx's loader.
 */
function cliCommand(cliEntry: string | undefined): {
  readonly executable: string;
  readonly prefix: readonly string[];
} {
  const here = fileURLToPath(import.meta.url);
  const main =
    cliEntry ?? path.join(path.dirname(here), here.endsWith('.ts') ? 'main.ts' : 'main.js');
  const loader = main.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return { executable: process.execPath, prefix: [...loader, main] };
}

/** N local members, started and stopped as real processes. */
export class LocalCluster {
  readonly members: LocalMember[] = [];
  private readonly ports: LocalPortScheme;

  constructor(private readonly options: LocalClusterOptions) {
    this.ports = options.ports ?? DEFAULT_PORT_SCHEME;
    for (let ordinal = 0; ordinal < options.size; ordinal++) this.addMemberSlot();
  }

  /** Client endpoints (`host:port`) of every member slot. */
  get clientEndpoints(): string[] {
    return this.members.map((member) => member.clientAddress);
  }

  /** Adds the slot of the next ordinal (not started); used to grow the cluster. */
  addMemberSlot(): LocalMember {
    const ordinal = this.members.length;
    const { clientPortBase, peerPortBase, httpPortBase, stride } = this.ports;
    const name = `raftkv-${ordinal}`;
    const member: LocalMember = {
      ordinal,
      name,
      clientAddress: `127.0.0.1:${clientPortBase + stride * ordinal}`,
      peerAddress: `127.0.0.1:${peerPortBase + stride * ordinal}`,
      httpAddress: `127.0.0.1:${httpPortBase + stride * ordinal}`,
      dataDirectory: path.join(this.options.dataRoot, name),
      process: undefined,
    };
    this.members.push(member);
    return member;
  }

  /** The `raftkv serve` arguments of member K. */
  serveArguments(ordinal: number, extra: readonly string[] = []): string[] {
    const member = this.member(ordinal);
    const { clientPortBase, peerPortBase, httpPortBase, stride } = this.ports;
    return [
      'serve',
      `--hostname=${member.name}`,
      `--name=${member.name}`,
      `--data-dir=${member.dataDirectory}`,
      '--listen-host=127.0.0.1',
      `--client-port=${clientPortBase + stride * ordinal}`,
      `--peer-port=${peerPortBase + stride * ordinal}`,
      `--http-port=${httpPortBase + stride * ordinal}`,
      `--peer-address-template=127.0.0.1:{${peerPortBase}+${stride}*ordinal}`,
      `--client-address-template=127.0.0.1:{${clientPortBase}+${stride}*ordinal}`,
      `--initial-cluster-size=${this.options.size}`,
      '--log-format=json',
      ...(this.options.extraArguments ?? []),
      ...extra,
    ];
  }

  /** Starts every member slot that is not running. */
  startAll(): void {
    for (const member of this.members) {
      if (member.process === undefined) this.start(member.ordinal);
    }
  }

  /** Starts member K (`extra` flags, e.g. `--initial-cluster-state=existing` for a new one). */
  start(ordinal: number, extra: readonly string[] = []): ChildProcess {
    const member = this.member(ordinal);
    if (member.process !== undefined) throw new Error(`${member.name} is already running`);
    mkdirSync(this.options.dataRoot, { recursive: true });
    const { executable, prefix } = cliCommand(this.options.cliEntry);
    const child = spawn(executable, [...prefix, ...this.serveArguments(ordinal, extra)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: Ctrl-C in a terminal reaches the launcher, which stops members in order.
      detached: true,
    });
    member.process = child;
    forwardLines(child.stdout, (line) => this.options.onLine?.(ordinal, line, 'stdout'));
    forwardLines(child.stderr, (line) => this.options.onLine?.(ordinal, line, 'stderr'));
    child.once('exit', (code, signal) => {
      if (member.process === child) member.process = undefined;
      this.options.onExit?.(ordinal, code, signal);
    });
    return child;
  }

  /** Sends `signal` to member K's process (by PID); no-op if it is not running. */
  signal(ordinal: number, signal: NodeJS.Signals): void {
    const child = this.member(ordinal).process;
    if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
  }

  /** Stops member K: SIGTERM, then SIGKILL after `timeoutMs`. Resolves when it has exited. */
  async stop(ordinal: number, timeoutMs = 15_000): Promise<number | null> {
    const child = this.member(ordinal).process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return null;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    this.signal(ordinal, 'SIGTERM');
    const timer = setTimeout(() => this.signal(ordinal, 'SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /** Kills member K with SIGKILL and waits for it to be gone. */
  async kill(ordinal: number): Promise<void> {
    const child = this.member(ordinal).process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.signal(ordinal, 'SIGKILL');
    await exited;
  }

  /** Stops every running member, all at once. */
  async stopAll(timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.members.map((member) => this.stop(member.ordinal, timeoutMs)));
  }

  member(ordinal: number): LocalMember {
    const member = this.members[ordinal];
    if (member === undefined) throw new Error(`no member slot ${ordinal}`);
    return member;
  }
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (pending.length > 0) onLine(pending);
  });
}
