/**
 * bench:cluster: raftkv against etcd, side by side, in one run on one machine. Each system in
 * turn (never both at once: they would share the two cores) runs as a 3-member cluster on
 * 127.0.0.1 with a temporary data directory, and is driven with the same light clients:
 *
 * | row                      | figures         | tool and load                                     |
 * | ------------------------ | --------------- | ------------------------------------------------- |
 * | put, 1 in flight         | ops/s, p50, p99 | node:http2 client, random keys, 1 worker          |
 * | put, 64 / 256 in flight  | ops/s (raw)     | h2load, one key, 1 connection x 64 / 256 streams  |
 * | put, 64 / 256 in flight  | ops/s, p50, p99 | node:http2 client, random keys, 1 session x 64 / 256 workers |
 * | linearizable get, 64     | ops/s (raw)     | h2load, one existing key, 1 connection x 64 streams |
 * | linearizable get, 64     | ops/s, p50, p99 | node:http2 client, random existing keys, 64 workers |
 *
 * Every request goes to the leader (the member all members name in Maintenance.Status when the
 * system's turn starts), over one HTTP/2 connection, like one gRPC channel; values are 256 bytes,
 * keys 12 bytes. Random keys come from --key-space keys for puts and from --read-key-space keys
 * written beforehand for gets. The node:http2 rows are closed loops (each worker waits for its
 * reply) measured over --duration-seconds after --warm-up-seconds; ops/s counts the successful
 * calls completed in the window, p50/p99 are their latencies (send to last byte). h2load gives no
 * percentiles (only mean and max, printed in the details); its request count is calibrated by a
 * --warm-up-seconds run with -D, then it sends exactly n requests with -n, and the replies are
 * verified as h2load-runner.ts describes (puts: the revision rose by exactly n; gets: DATA bytes
 * equal n successful replies). The node:http2 client costs ~50-80 µs of CPU per call
 * (performance.md; up to ~150 µs measured on a busy machine), so its rows are client-limited
 * from 64 in flight; h2load (~5 µs) shows what the servers can do. One connection: in a probe,
 * h2load -c 1 -m 64 got more etcd puts/s than -c 4 -m 16, -c 8 -m 8 or -c 64 -m 1. Each row
 * also reports who used the CPU (members, client, everything else on the machine), since the
 * figures mean little when other processes compete for the two cores.
 *
 * Usage: npm run bench:cluster -- [--systems etcd,raftkv] [--duration-seconds 10]
 * [--warm-up-seconds 2] [--skip-h2load] [--key-space 100000] [--read-key-space 1000]
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import type { ClusterUnderTest } from './cluster/cluster-under-test.js';
import {
  decodeRangeCounts,
  encodePutFrame,
  encodeRangeFrame,
  GRPC_STATUS_OK,
  parseGrpcFrames,
  PUT_PATH,
  RANGE_PATH,
} from './cluster/grpc-wire.js';
import { replyProblems, runH2load } from './cluster/h2load-runner.js';
import {
  benchmarkKey,
  GrpcEndpoint,
  type LoadResult,
  randomBelow,
  runClosedLoopLoad,
} from './cluster/http2-grpc-client.js';
import {
  cpuSecondsOf,
  createCluster,
  describeMachine,
  formatMilliseconds,
  machineBusySeconds,
  ownCpuSeconds,
  parseSystems,
  type SystemName,
} from './cluster/systems.js';
import { formatCount } from './statistics.js';

const { values } = parseArgs({
  options: {
    systems: { type: 'string', default: 'etcd,raftkv' },
    'duration-seconds': { type: 'string', default: '10' },
    'warm-up-seconds': { type: 'string', default: '2' },
    'skip-h2load': { type: 'boolean', default: false },
    'key-space': { type: 'string', default: '100000' },
    'read-key-space': { type: 'string', default: '1000' },
  },
});
const systems = parseSystems(values.systems);
const durationSeconds = Number(values['duration-seconds']);
const warmUpSeconds = Number(values['warm-up-seconds']);
const isH2loadSkipped = values['skip-h2load'];
const keySpace = Number(values['key-space']);
const readKeySpace = Number(values['read-key-space']);
const VALUE_BYTES = 256;
const CALL_TIMEOUT_MS = 10_000;
const H2LOAD_MIN_REQUESTS = 1000;
const PUT_PREFIX = 'put/';
const GET_PREFIX = 'get/';

type Tool = 'node:http2' | 'h2load';

interface RowSpec {
  readonly label: string;
  readonly kind: 'put' | 'get';
  readonly inFlight: number;
  readonly tool: Tool;
}

/** In running order; the table prints them in this order too. */
const ALL_ROWS: readonly RowSpec[] = [
  { label: 'put, 1 in flight', kind: 'put', inFlight: 1, tool: 'node:http2' },
  { label: 'put, 64 in flight', kind: 'put', inFlight: 64, tool: 'h2load' },
  { label: 'put, 64 in flight', kind: 'put', inFlight: 64, tool: 'node:http2' },
  { label: 'put, 256 in flight', kind: 'put', inFlight: 256, tool: 'h2load' },
  { label: 'put, 256 in flight', kind: 'put', inFlight: 256, tool: 'node:http2' },
  { label: 'linearizable get, 64 in flight', kind: 'get', inFlight: 64, tool: 'h2load' },
  { label: 'linearizable get, 64 in flight', kind: 'get', inFlight: 64, tool: 'node:http2' },
];
const ROWS = ALL_ROWS.filter((row) => !(isH2loadSkipped && row.tool === 'h2load'));

const rowKey = (row: RowSpec): string => `${row.label} (${row.tool})`;
const percent = (share: number): string => `${(share * 100).toFixed(0)}%`;
/** Above this share of a core used by other processes during a row, the table warns. */
const OTHER_CPU_WARNING_SHARE = 0.15;

interface CpuShares {
  /** Member processes' CPU over the wall time; 1 = one core. */
  readonly serverCpuShare: number;
  /** This process's CPU plus h2load's, over the wall time; 1 = one core. */
  readonly clientCpuShare: number;
  /**
   * Everything else the machine did meanwhile (other processes; kernel work not charged to a
   * process): busy time of all cores minus servers and client. Large values mean the figures
   * were taken on a shared, busy machine.
   */
  readonly otherCpuShare: number;
}

interface RowResult extends CpuShares {
  readonly perSecond: number;
  readonly p50Milliseconds: number;
  readonly p99Milliseconds: number;
  /** False when errors occurred or h2load's replies could not be verified. */
  readonly isClean: boolean;
  readonly details: readonly string[];
}

interface SystemResult {
  readonly name: SystemName;
  readonly version: string;
  readonly rows: Map<string, RowResult>;
  readonly notes: string[];
  error?: string;
}

/** Runs `work` and measures who used the CPU meanwhile. */
async function withCpu<T>(
  cluster: ClusterUnderTest,
  work: () => Promise<T>,
): Promise<{ value: T } & CpuShares> {
  const pids = cluster.pids();
  const serverBefore = cpuSecondsOf(pids);
  const clientBefore = ownCpuSeconds();
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  const value = await work();
  const seconds = (performance.now() - started) / 1000;
  const server = cpuSecondsOf(pids) - serverBefore;
  const client = ownCpuSeconds() - clientBefore;
  const machine = machineBusySeconds() - machineBefore;
  return {
    value,
    serverCpuShare: server / seconds,
    clientCpuShare: client / seconds,
    otherCpuShare: Math.max(0, machine - server - client) / seconds,
  };
}

function describeFailures(load: LoadResult): string[] {
  return [...load.failureKinds].map(([kind, count]) => `${formatCount(count)} x ${kind}`);
}

class SystemBench {
  private readonly value = Buffer.alloc(VALUE_BYTES, 0x76);
  private readonly target: GrpcEndpoint;

  constructor(
    private readonly cluster: ClusterUnderTest,
    private readonly leader: number,
  ) {
    this.target = new GrpcEndpoint(cluster.clientEndpoints[leader] ?? '');
  }

  close(): void {
    this.target.close();
  }

  private putFrame = (): Buffer =>
    encodePutFrame(benchmarkKey(PUT_PREFIX, randomBelow(keySpace)), this.value);

  private getFrame = (): Buffer =>
    encodeRangeFrame(benchmarkKey(GET_PREFIX, randomBelow(readKeySpace)));

  /** Writes every key of the read key space once, 64 at a time. */
  async preloadReadKeys(): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < readKeySpace) {
        const key = benchmarkKey(GET_PREFIX, next++);
        const outcome = await this.target.call(PUT_PATH, encodePutFrame(key, this.value), {
          timeoutMs: CALL_TIMEOUT_MS,
        });
        if (outcome.status !== GRPC_STATUS_OK) {
          throw new Error(`preloading ${key.toString()}: ${outcome.status} ${outcome.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  }

  async run(row: RowSpec): Promise<RowResult> {
    return row.tool === 'h2load' ? this.runH2load(row) : this.runHttp2(row);
  }

  private async runHttp2(row: RowSpec): Promise<RowResult> {
    const { value: load, ...cpu } = await withCpu(this.cluster, () =>
      runClosedLoopLoad({
        targets: [this.target],
        concurrency: row.inFlight,
        path: row.kind === 'put' ? PUT_PATH : RANGE_PATH,
        frameFor: row.kind === 'put' ? this.putFrame : this.getFrame,
        warmUpSeconds,
        seconds: durationSeconds,
        timeoutMs: CALL_TIMEOUT_MS,
      }),
    );
    const failures = describeFailures(load);
    return {
      perSecond: load.perSecond,
      p50Milliseconds: load.p50Milliseconds,
      p99Milliseconds: load.p99Milliseconds,
      ...cpu,
      isClean: load.failed === 0 && failures.length === 0,
      details: [
        `${formatCount(load.succeeded)} ok in ${durationSeconds} s, max ` +
          `${formatMilliseconds(load.maxMilliseconds)} ms, ${load.failed} failed in the window`,
        ...(failures.length > 0 ? [`failures (incl. warm-up): ${failures.join('; ')}`] : []),
      ],
    };
  }

  /** The store revision at the leader (each put raises it by exactly one). */
  private async revision(): Promise<bigint> {
    const statuses = await this.cluster.statusAll();
    const status = statuses[this.leader]?.status;
    if (status === undefined) throw new Error('the leader does not answer Status');
    return status.header.revision;
  }

  /**
   * The revision once it stopped moving: h2load -D abandons the requests in flight at its
   * deadline, and the server may still apply those puts after h2load has exited.
   */
  private async settledRevision(): Promise<bigint> {
    let previous = await this.revision();
    for (;;) {
      await sleep(200);
      const current = await this.revision();
      if (current === previous) return current;
      previous = current;
    }
  }

  private async runH2load(row: RowSpec): Promise<RowResult> {
    const frame =
      row.kind === 'put'
        ? encodePutFrame(benchmarkKey(PUT_PREFIX, 0), this.value)
        : encodeRangeFrame(benchmarkKey(GET_PREFIX, 0));
    const path = row.kind === 'put' ? PUT_PATH : RANGE_PATH;
    // The size of one successful reply to this very request, for the DATA byte check.
    const probe = await this.target.call(path, frame, {
      timeoutMs: CALL_TIMEOUT_MS,
      keepBody: true,
    });
    if (probe.status !== GRPC_STATUS_OK || probe.body === undefined) {
      throw new Error(`probe ${path} failed: ${probe.status} ${probe.message}`);
    }
    if (row.kind === 'get') {
      const [message] = parseGrpcFrames(probe.body);
      const kvs = message === undefined ? 0 : decodeRangeCounts(message).kvs;
      if (kvs !== 1) throw new Error(`probe ${path}: ${kvs} keys, expected the preloaded one`);
    }
    const endpoint = this.cluster.clientEndpoints[this.leader] ?? '';
    const shape = { endpoint, path, frame, clients: 1, streamsPerClient: row.inFlight };
    const calibration = await runH2load({ ...shape, durationSeconds: Math.max(1, warmUpSeconds) });
    const requests = Math.max(
      H2LOAD_MIN_REQUESTS,
      Math.round(calibration.perSecond * durationSeconds),
    );
    const revisionBefore = await this.settledRevision();
    const { value: result, ...cpu } = await withCpu(this.cluster, () =>
      runH2load({ ...shape, requests, limitSeconds: 10 * durationSeconds + 120 }),
    );
    // All n replies arrived before h2load exited, so the n puts are applied at the leader.
    const revisionDelta = (await this.revision()) - revisionBefore;
    const problems = replyProblems(result, probe.body.byteLength, row.kind === 'get');
    if (row.kind === 'put' && revisionDelta !== BigInt(requests)) {
      problems.push(`revision rose by ${revisionDelta}, not by the ${requests} puts sent`);
    }
    if (row.kind === 'get' && revisionDelta !== 0n) {
      problems.push(`revision moved by ${revisionDelta} during a read-only run`);
    }
    return {
      perSecond: result.perSecond,
      p50Milliseconds: Number.NaN,
      p99Milliseconds: Number.NaN,
      ...cpu,
      isClean: problems.length === 0,
      details: [
        `${result.commandLine} (calibrated at ${formatCount(calibration.perSecond)}/s): ` +
          `${formatCount(result.requests)} in ${result.seconds.toFixed(2)} s, mean ` +
          `${formatMilliseconds(result.meanMilliseconds)} ms, max ` +
          `${formatMilliseconds(result.maxMilliseconds)} ms`,
        problems.length === 0
          ? row.kind === 'put'
            ? `verified: all ${formatCount(requests)} 2xx, revision +${revisionDelta}, ` +
              `DATA ${formatCount(result.dataBytes)} B >= ${requests} x ${probe.body.byteLength} B`
            : `verified: all ${formatCount(requests)} 2xx, DATA ${formatCount(result.dataBytes)} B ` +
              `= ${requests} x ${probe.body.byteLength} B`
          : `NOT VERIFIED: ${problems.join('; ')}`,
      ],
    };
  }
}

function describeTerm(statuses: Awaited<ReturnType<ClusterUnderTest['statusAll']>>): string {
  return statuses
    .map((item) => (item.status === undefined ? '?' : String(item.status.raftTerm)))
    .join('/');
}

async function benchSystem(name: SystemName): Promise<SystemResult> {
  const cluster = createCluster(name);
  const result: SystemResult = {
    name,
    version: await cluster.version(),
    rows: new Map(),
    notes: [],
  };
  let bench: SystemBench | undefined;
  try {
    console.log(`\n${name} ${result.version}: starting 3 members`);
    await cluster.start();
    const leader = await cluster.waitForLeader(10_000);
    const before = await cluster.statusAll();
    console.log(
      `${name}: members ${cluster.clientEndpoints.join(', ')}, PIDs ${cluster.pids().join(', ')}; ` +
        `leader member ${leader}, terms ${describeTerm(before)}`,
    );
    bench = new SystemBench(cluster, leader);
    let areReadKeysWritten = false;
    for (const row of ROWS) {
      if (row.kind === 'get' && !areReadKeysWritten) {
        await bench.preloadReadKeys();
        areReadKeysWritten = true;
      }
      const rowResult = await bench.run(row);
      result.rows.set(rowKey(row), rowResult);
      console.log(
        `${name}: ${rowKey(row)}: ${formatCount(rowResult.perSecond)} ops/s` +
          (row.tool === 'h2load'
            ? ''
            : `, p50 ${formatMilliseconds(rowResult.p50Milliseconds)} ms, p99 ` +
              `${formatMilliseconds(rowResult.p99Milliseconds)} ms`) +
          `; CPU: servers ` +
          `${percent(rowResult.serverCpuShare)}, client ${percent(rowResult.clientCpuShare)}, ` +
          `others ${percent(rowResult.otherCpuShare)}${rowResult.isClean ? '' : ' (NOT CLEAN)'}`,
      );
      for (const line of rowResult.details) console.log(`    ${line}`);
    }
    const after = await cluster.statusAll();
    const leaderAfter = await cluster.leaderIndex();
    if (leaderAfter !== leader || describeTerm(after) !== describeTerm(before)) {
      result.notes.push(
        `leader or term changed during the run (member ${leader} -> ${leaderAfter}, terms ` +
          `${describeTerm(before)} -> ${describeTerm(after)}): figures are suspect`,
      );
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    console.error(`${name}: FAILED: ${result.error}`);
  } finally {
    bench?.close();
    await cluster.stop();
  }
  return result;
}

function printTable(results: readonly SystemResult[]): void {
  const etcd = results.find((result) => result.name === 'etcd');
  const raftkv = results.find((result) => result.name === 'raftkv');
  const cells = (result: SystemResult | undefined, key: string): string[] => {
    const row = result?.rows.get(key);
    if (row === undefined) return ['-', '-', '-'];
    const mark = row.isClean ? '' : ' (!)';
    return [
      `${formatCount(row.perSecond)}${mark}`,
      formatMilliseconds(row.p50Milliseconds),
      formatMilliseconds(row.p99Milliseconds),
    ];
  };
  console.log(
    '\n| row | tool | etcd ops/s | p50 ms | p99 ms | raftkv ops/s | p50 ms | p99 ms | ratio |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of ROWS) {
    const key = rowKey(row);
    const etcdRow = etcd?.rows.get(key);
    const raftkvRow = raftkv?.rows.get(key);
    const ratio =
      etcdRow !== undefined && raftkvRow !== undefined
        ? `${(raftkvRow.perSecond / etcdRow.perSecond).toFixed(2)}x`
        : '-';
    console.log(
      `| ${row.label} | ${row.tool} | ${cells(etcd, key).join(' | ')} | ` +
        `${cells(raftkv, key).join(' | ')} | ${ratio} |`,
    );
  }
  console.log(
    '\nratio = raftkv ops/s / etcd ops/s. h2load rows: ops/s only (h2load reports no ' +
      'percentiles; mean and max are in the details above). (!) = errors or unverified replies.',
  );
  for (const result of results) {
    const busyRows = [...result.rows].filter(
      ([, row]) => row.otherCpuShare > OTHER_CPU_WARNING_SHARE,
    );
    if (busyRows.length > 0) {
      console.log(
        `${result.name}: WARNING: other processes used the CPU during ` +
          busyRows.map(([key, row]) => `${key} (${percent(row.otherCpuShare)})`).join(', ') +
          ': this machine was shared, so these figures understate what the system does alone',
      );
    }
    for (const note of result.notes) console.log(`${result.name}: ${note}`);
    if (result.error !== undefined) console.log(`${result.name}: FAILED: ${result.error}`);
  }
}

async function main(): Promise<void> {
  console.log(`bench:cluster: ${systems.join(' then ')}, one at a time`);
  for (const line of await describeMachine()) console.log(line);
  console.log(
    `3 members each on 127.0.0.1; all requests to the leader; ${VALUE_BYTES} B values; ` +
      `${durationSeconds} s per row after ${warmUpSeconds} s warm-up; put keys random of ` +
      `${formatCount(keySpace)}, get keys random of ${formatCount(readKeySpace)} written first` +
      (isH2loadSkipped ? '; h2load skipped' : ''),
  );
  const results: SystemResult[] = [];
  for (const name of systems) results.push(await benchSystem(name));
  printTable(results);
  const isClean = results.every(
    (result) => result.error === undefined && [...result.rows.values()].every((row) => row.isClean),
  );
  if (!isClean) process.exitCode = 1;
}

await main();
