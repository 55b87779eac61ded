/**
 * Runs the real etcdctl (3.4, API v3) as a child process and hands back its exit code, stdout
 * and stderr, never throwing on a non-zero exit: the compatibility tests assert on all three.
 * etcdctl's own retry warnings (JSON lines on stderr) are kept apart from its messages.
 */
import { spawn } from 'node:child_process';

export const ETCDCTL_BINARY = process.env.RAFTKV_TEST_ETCDCTL ?? '/usr/bin/etcdctl';

/** What one etcdctl run printed. */
export interface EtcdctlResult {
  /** Exit code; -1 if it was killed by the runner's timeout. */
  readonly code: number;
  readonly stdout: string;
  /** stderr without clientv3's JSON warning lines. */
  readonly stderr: string;
  /** The JSON warning lines clientv3 logs on stderr (retries). */
  readonly warnings: readonly string[];
  readonly milliseconds: number;
}

/** Options of {@link runEtcdctl}. */
export interface EtcdctlOptions {
  /** Text fed on stdin (then closed). */
  readonly input?: string;
  /** Kill etcdctl (SIGKILL, by PID) after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** etcdctl's `--command-timeout`; default 5s. */
  readonly commandTimeout?: string;
  /** Run through a wrapper, e.g. `['ip', 'netns', 'exec', NS]`. */
  readonly prefix?: readonly string[];
}

/** Runs `etcdctl --endpoints=E ARGS...`. */
export function runEtcdctl(
  endpoints: readonly string[],
  commandArguments: readonly string[],
  options: EtcdctlOptions = {},
): Promise<EtcdctlResult> {
  const started = performance.now();
  const fullArguments = [
    `--endpoints=${endpoints.join(',')}`,
    `--command-timeout=${options.commandTimeout ?? '5s'}`,
    ...commandArguments,
  ];
  const [executable, ...rest] = [...(options.prefix ?? []), ETCDCTL_BINARY, ...fullArguments];
  return new Promise((resolve, reject) => {
    const child = spawn(executable ?? ETCDCTL_BINARY, rest, {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const lines = stderr.split('\n');
      const isWarning = (line: string): boolean => line.startsWith('{"level":');
      resolve({
        code: code ?? -1,
        stdout,
        stderr: lines.filter((line) => !isWarning(line)).join('\n'),
        warnings: lines.filter(isWarning),
        milliseconds: performance.now() - started,
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The `Error: ...` line etcdctl printed last, or '' if none. */
export function errorLine(result: EtcdctlResult): string {
  return (
    result.stderr
      .split('\n')
      .filter((line) => line.startsWith('Error: '))
      .at(-1) ?? ''
  );
}

/** Parses etcdctl's `-w json` output, failing with the whole output if it is not JSON. */
export function parseJson<T>(result: EtcdctlResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `etcdctl printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/** Base64 as etcdctl's JSON prints bytes. */
export function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** Decodes etcdctl's base64 JSON bytes. */
export function fromBase64(text: string | undefined): string {
  return Buffer.from(text ?? '', 'base64').toString('utf8');
}

/** The JSON shapes etcdctl prints (field names as etcd's JSON printer writes them). */
export interface JsonHeader {
  readonly cluster_id: number;
  readonly member_id: number;
  readonly revision?: number;
  readonly raft_term: number;
}
export interface JsonKeyValue {
  readonly key: string;
  readonly create_revision: number;
  readonly mod_revision: number;
  readonly version: number;
  readonly value?: string;
}
export interface JsonRange {
  readonly header: JsonHeader;
  readonly kvs?: JsonKeyValue[];
  readonly more?: boolean;
  readonly count?: number;
}
export interface JsonMember {
  readonly ID: number;
  readonly name?: string;
  readonly peerURLs?: string[];
  readonly clientURLs?: string[];
  readonly isLearner?: boolean;
}
export interface JsonStatus {
  readonly Endpoint: string;
  readonly Status: {
    readonly header: JsonHeader;
    readonly version: string;
    readonly leader: number;
    readonly raftIndex: number;
    readonly raftTerm: number;
    readonly raftAppliedIndex: number;
    readonly isLearner?: boolean;
  };
}

/** Big member ids lose precision in JSON.parse; raftkv ids stay below 2^53 (decision 0002). */
export function hexId(id: number): string {
  return id.toString(16);
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Waits until `count` members are listed with a name and client URLs: a member publishes them
 * shortly after the first leader is elected (until then it is listed as unstarted).
 */
export async function waitForPublishedMembers(
  endpoints: readonly string[],
  count: number,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await runEtcdctl(endpoints, ['member', 'list', '-w', 'json']);
    if (result.code === 0) {
      const members = (JSON.parse(result.stdout) as { members?: JsonMember[] }).members ?? [];
      const published = members.filter(
        (member) => (member.name ?? '') !== '' && (member.clientURLs ?? []).length > 0,
      );
      if (published.length >= count) return;
    }
    if (Date.now() > deadline) {
      throw new Error(`members not published within ${timeoutMs} ms: ${result.stdout}`);
    }
    await sleep(100);
  }
}
