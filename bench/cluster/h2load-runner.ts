/**
 * Raw throughput with h2load (apt `nghttp2-client`, /usr/bin/h2load): a C HTTP/2 load generator
 * costing ~5 µs of CPU per request here, an order of magnitude below any Node client, so it
 * leaves the two cores to the servers. It POSTs one pre-encoded gRPC frame (one key, one value)
 * over and over, with `content-type: application/grpc` and `te: trailers`.
 *
 * h2load knows nothing of gRPC: a gRPC error is an HTTP 200 whose grpc-status sits in trailers,
 * so h2load counts it as "succeeded". What this module verifies, from h2load's own exact counts:
 *  - every request was answered with a 2xx and none failed, errored or timed out;
 *  - the DATA bytes received equal `succeeded x expectedReplyBytes`, where the caller passes the
 *    size of a successful reply to the very same request, taken with the node:http2 client just
 *    before. A gRPC error reply (trailers-only) carries no DATA at all, so every error would take
 *    a whole reply's bytes off the total. This is exact when the reply size cannot change during
 *    the run: true for linearizable gets of one key with no writes (same revision, same term).
 *    Put replies grow by a byte when the revision varint does, so for puts the caller checks the
 *    data bytes only as a lower bound and proves success by the revision instead: each put
 *    raises the store revision by exactly one, so `revision after - revision before = n`
 *    (read with Maintenance.Status, nothing else writing) means all n puts were applied.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { removeDirectory, trackChild, trackDirectory } from './cleanup.js';

export const H2LOAD_BINARY = process.env['H2LOAD_BINARY'] ?? '/usr/bin/h2load';

export interface H2loadOptions {
  /** "host:port" */
  readonly endpoint: string;
  /** gRPC method path, e.g. /etcdserverpb.KV/Put */
  readonly path: string;
  /** The request body: one length-prefixed gRPC message. */
  readonly frame: Buffer;
  /** h2load -c: connections. */
  readonly clients: number;
  /** h2load -m: concurrent streams per connection. In flight = clients x streams. */
  readonly streamsPerClient: number;
  /** Either a request count (h2load -n) ... */
  readonly requests?: number;
  /** ... or a duration (h2load -D), used to calibrate the count. */
  readonly durationSeconds?: number;
  /** h2load is killed (by its PID) after this long; default: duration + 120 s. */
  readonly limitSeconds?: number;
}

export interface H2loadResult {
  readonly requests: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly timedOut: number;
  readonly status2xx: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly dataBytes: number;
  /** h2load's "time for request" (send to last byte) over all requests, milliseconds. */
  readonly meanMilliseconds: number;
  readonly maxMilliseconds: number;
  readonly commandLine: string;
}

/** "1.23ms", "418us", "3.50s" in milliseconds. */
function parseDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 'ms' ? value : value * 1000;
}

function requireMatch(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (match === null) throw new Error(`h2load output without ${what}:\n${output}`);
  return match;
}

export function parseH2loadOutput(output: string): Omit<H2loadResult, 'commandLine'> {
  const finished = requireMatch(
    output,
    /finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req\/s/,
    'a "finished" line',
  );
  const requests = requireMatch(
    output,
    /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/,
    'a "requests" line',
  );
  const statuses = requireMatch(output, /status codes: (\d+) 2xx/, 'a "status codes" line');
  const traffic = requireMatch(output, /traffic: .*?, [^,]*\((\d+)\) data/, 'a "traffic" line');
  const timing = requireMatch(
    output,
    /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/,
    'a "time for request" line',
  );
  return {
    requests: Number(requests[1]),
    succeeded: Number(requests[2]),
    failed: Number(requests[3]),
    errored: Number(requests[4]),
    timedOut: Number(requests[5]),
    status2xx: Number(statuses[1]),
    seconds: parseDuration(finished[1] ?? '') / 1000,
    perSecond: Number(finished[2]),
    dataBytes: Number(traffic[1]),
    maxMilliseconds: parseDuration(timing[2] ?? ''),
    meanMilliseconds: parseDuration(timing[3] ?? ''),
  };
}

/** Runs h2load once against a cleartext HTTP/2 (h2c) endpoint. */
export async function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-bench-h2load-'));
  trackDirectory(directory);
  const bodyFile = path.join(directory, 'request.bin');
  fs.writeFileSync(bodyFile, options.frame);
  const args = [
    ...(options.requests !== undefined ? ['-n', String(options.requests)] : []),
    ...(options.durationSeconds !== undefined ? ['-D', String(options.durationSeconds)] : []),
    '-c',
    String(options.clients),
    '-m',
    String(options.streamsPerClient),
    '-t',
    '1',
    '-d',
    bodyFile,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    `http://${options.endpoint}${options.path}`,
  ];
  const commandLine = `h2load ${args.join(' ').replace(bodyFile, '<frame>')}`;
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(H2LOAD_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      trackChild(child);
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      // A hung server must not hang the benchmark: bound the run and kill h2load by its PID.
      const limitMs = (options.limitSeconds ?? (options.durationSeconds ?? 0) + 120) * 1000;
      const timer = setTimeout(() => {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }, limitMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(text);
        else reject(new Error(`${commandLine} ended with ${code ?? signal}:\n${text}`));
      });
    });
    return { ...parseH2loadOutput(output), commandLine };
  } finally {
    removeDirectory(directory);
  }
}

/**
 * The problems with a run's replies, empty when all were verified: all 2xx, none failed, and the
 * DATA bytes equal (`isExact`) or at least (`!isExact`) succeeded x expectedReplyBytes.
 */
export function replyProblems(
  result: H2loadResult,
  expectedReplyBytes: number,
  isExact: boolean,
): string[] {
  const problems: string[] = [];
  if (result.succeeded !== result.requests || result.status2xx !== result.requests) {
    problems.push(
      `${result.requests} requests: ${result.succeeded} succeeded, ${result.status2xx} 2xx, ` +
        `${result.failed} failed, ${result.errored} errored, ${result.timedOut} timed out`,
    );
  }
  const expected = result.succeeded * expectedReplyBytes;
  if (isExact ? result.dataBytes !== expected : result.dataBytes < expected) {
    const missing = Math.round((expected - result.dataBytes) / expectedReplyBytes);
    problems.push(
      `DATA ${result.dataBytes} B, expected ${isExact ? '' : '>= '}${expected} B ` +
        `(${result.succeeded} x ${expectedReplyBytes} B; ~${missing} replies without a message, ` +
        'i.e. gRPC errors, if the reply size did not change)',
    );
  }
  return problems;
}
