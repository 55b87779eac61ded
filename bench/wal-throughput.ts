/**
 * bench:wal: what the write-ahead log costs against what the disk can do. In one run, in one
 * temporary directory on one file system:
 *
 * 1. the physical reference: 4 KiB write + fdatasync, one at a time, with the fastest honest
 *    method Node has (synchronous `fs.writeSync` + `fs.fdatasyncSync`, no thread-pool hop), on a
 *    growing file. It is measured before and after the storage rows and the two are pooled, so
 *    that a disk that gets busier or quieter during the run moves both sides of the comparison.
 *    For information also: the same on a preallocated (zero-filled) file, and on a growing file
 *    through the libuv thread pool, as any storage must that does not block the event loop;
 * 2. DurableStorage with 1, 64 and 256 concurrent producers: each producer loops "persist one
 *    256-byte entry plus hard state with mustSync, wait, record the latency". Fsyncs are counted
 *    through the StorageObserver, so records per sync shows how well group commit groups.
 *
 * Every row also shows the process CPU time (user + system, all threads) per operation, and the
 * storage rows the CPU share (100% = one core), which tell a CPU-bound row from a disk-bound one.
 *
 * Then it checks the targets of issue #3 on each run and on the median of the runs: 1-producer
 * p50 <= 1.3x raw p50, and 64-producer records/s >= 20x raw syncs/s.
 *
 * Usage: npm run bench:wal -- [--dir D] [--runs 3] [--seconds 3] [--raw-seconds 1.5]
 * [--producers 1,64,256] [--segment-mib 64]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import type { Entry, HardState } from '../src/raft/index.js';
import { DurableStorage, type StorageObserver } from '../src/storage/index.js';
import { formatCount, median, percentile } from './statistics.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: os.tmpdir() },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    'raw-seconds': { type: 'string', default: '1.5' },
    producers: { type: 'string', default: '1,64,256' },
    'segment-mib': { type: 'string', default: '64' },
  },
});
const runCount = Number(values.runs);
const rowSeconds = Number(values.seconds);
const rawSeconds = Number(values['raw-seconds']);
const producerCounts = values.producers.split(',').map(Number);
const segmentBytesTarget = Number(values['segment-mib']) * 1024 * 1024;
const ENTRY_DATA_BYTES = 256;
const RAW_WRITE_BYTES = 4096;
const RAW_WARM_UP_SYNCS = 100;
/** The preallocated reference file: room for more syncs than fit in --raw-seconds. */
const RAW_PREALLOCATED_BYTES = 128 * 1024 * 1024;
const STORAGE_WARM_UP_SECONDS = 1;

/** Latencies (milliseconds) of operations done one after another over `seconds`. */
interface Samples {
  readonly latencies: number[];
  readonly seconds: number;
  /** Process CPU time (user + system, all threads) spent meanwhile, microseconds. */
  readonly cpuMicroseconds: number;
}

/** A rate per second and latency percentiles in milliseconds. */
interface Measurement {
  readonly perSecond: number;
  readonly p50Milliseconds: number;
  readonly p99Milliseconds: number;
  /** Process CPU time per operation (user + system, all threads), microseconds. */
  readonly cpuMicrosecondsPerOperation: number;
}

interface StorageRow extends Measurement {
  readonly syncsPerSecond: number;
  readonly recordsPerSync: number;
  readonly segmentsCreated: number;
  /** Process CPU time (user + system, all threads) over the row's wall time; 2 = two cores. */
  readonly cpuShare: number;
}

/** Process CPU time since `since` (from `process.cpuUsage()`), microseconds. */
function cpuMicrosecondsSince(since: NodeJS.CpuUsage): number {
  const usage = process.cpuUsage(since);
  return usage.user + usage.system;
}

function measure(...parts: Samples[]): Measurement {
  const latencies = parts.flatMap((part) => part.latencies).sort((a, b) => a - b);
  const seconds = parts.reduce((sum, part) => sum + part.seconds, 0);
  const cpuMicroseconds = parts.reduce((sum, part) => sum + part.cpuMicroseconds, 0);
  return {
    perSecond: latencies.length / seconds,
    p50Milliseconds: percentile(latencies, 0.5),
    p99Milliseconds: percentile(latencies, 0.99),
    cpuMicrosecondsPerOperation: cpuMicroseconds / latencies.length,
  };
}

/** The file system holding `directory`, from /proc/mounts (Linux); "unknown" elsewhere. */
function describeFileSystem(directory: string): string {
  const real = fs.realpathSync(directory);
  let best: { mountPoint: string; device: string; type: string; options: string } | undefined;
  try {
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, mountPoint, type, options] = line.split(' ');
      if (device === undefined || mountPoint === undefined || type === undefined) continue;
      const isUnder =
        real === mountPoint || real.startsWith(mountPoint === '/' ? '/' : `${mountPoint}/`);
      if (isUnder && (best === undefined || mountPoint.length >= best.mountPoint.length)) {
        best = { mountPoint, device, type, options: options ?? '' };
      }
    }
  } catch {
    return 'unknown file system';
  }
  if (best === undefined) return 'unknown file system';
  return `${best.type} on ${best.device} mounted at ${best.mountPoint} (${best.options})`;
}

/**
 * The physical reference: one 4 KiB write and one fdatasync at a time, synchronously. A growing
 * file makes every sync commit the new file size too; a preallocated (zero-filled, fsynced) file
 * does not.
 */
function sampleRawSyncs(directory: string, isPreallocated: boolean): Samples {
  const file = path.join(directory, isPreallocated ? 'raw-preallocated.bin' : 'raw-growing.bin');
  const block = Buffer.alloc(RAW_WRITE_BYTES, 0x5a);
  const fd = fs.openSync(file, 'wx+');
  try {
    if (isPreallocated) {
      const zeros = Buffer.alloc(1024 * 1024);
      for (let position = 0; position < RAW_PREALLOCATED_BYTES; position += zeros.byteLength) {
        fs.writeSync(fd, zeros, 0, zeros.byteLength, position);
      }
      fs.fsyncSync(fd);
    }
    const latencies: number[] = [];
    let position = 0;
    const syncOnce = (): number => {
      const before = performance.now();
      fs.writeSync(fd, block, 0, RAW_WRITE_BYTES, position);
      fs.fdatasyncSync(fd);
      position += RAW_WRITE_BYTES;
      return performance.now() - before;
    };
    for (let count = 0; count < RAW_WARM_UP_SYNCS; count++) syncOnce();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + rawSeconds * 1000;
    const positionMax = isPreallocated ? RAW_PREALLOCATED_BYTES : Number.POSITIVE_INFINITY;
    while (performance.now() < deadline && position < positionMax) latencies.push(syncOnce());
    const seconds = (performance.now() - started) / 1000;
    return { latencies, seconds, cpuMicroseconds: cpuMicrosecondsSince(cpuBefore) };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

/**
 * For information: the growing-file reference through the libuv thread pool (`fs.write` and
 * `fs.fdatasync` with callbacks). The difference to the reference is the price of two
 * thread-pool round trips, which any storage pays that does not block the event loop.
 */
async function sampleThreadPoolSyncs(directory: string): Promise<Samples> {
  const file = path.join(directory, 'raw-thread-pool.bin');
  const block = Buffer.alloc(RAW_WRITE_BYTES, 0x5a);
  const fd = fs.openSync(file, 'wx+');
  let position = 0;
  const syncOnce = async (): Promise<number> => {
    const before = performance.now();
    await new Promise<void>((resolve, reject) =>
      fs.write(fd, block, 0, RAW_WRITE_BYTES, position, (error) =>
        error === null ? resolve() : reject(error),
      ),
    );
    await new Promise<void>((resolve, reject) =>
      fs.fdatasync(fd, (error) => (error === null ? resolve() : reject(error))),
    );
    position += RAW_WRITE_BYTES;
    return performance.now() - before;
  };
  try {
    for (let count = 0; count < RAW_WARM_UP_SYNCS; count++) await syncOnce();
    const latencies: number[] = [];
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + rawSeconds * 1000;
    while (performance.now() < deadline) latencies.push(await syncOnce());
    const seconds = (performance.now() - started) / 1000;
    return { latencies, seconds, cpuMicroseconds: cpuMicrosecondsSince(cpuBefore) };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

/** Counts what the storage reports while a row runs. */
class CountingObserver implements StorageObserver {
  syncs = 0;
  segmentsCreated = 0;
  walSynced(): void {
    this.syncs++;
  }
  walSegmentCreated(): void {
    this.segmentsCreated++;
  }
}

/**
 * Producers persisting one entry plus hard state at a time. Indexes come from one counter at
 * call time; persist calls resolve in call order, so the log stays consecutive.
 */
class ProducerLoad {
  private nextIndex = 1;
  private readonly data = new Uint8Array(ENTRY_DATA_BYTES).fill(0x61);

  constructor(
    private readonly storage: DurableStorage,
    private readonly observer: CountingObserver,
  ) {}

  async run(producerCount: number, seconds: number): Promise<StorageRow> {
    const latencies: number[] = [];
    const syncsBefore = this.observer.syncs;
    const segmentsBefore = this.observer.segmentsCreated;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const producers: Promise<void>[] = [];
    for (let producer = 0; producer < producerCount; producer++) {
      producers.push(this.produce(deadline, latencies));
    }
    await Promise.all(producers);
    const elapsedSeconds = (performance.now() - started) / 1000;
    const cpuMicroseconds = cpuMicrosecondsSince(cpuBefore);
    const syncs = this.observer.syncs - syncsBefore;
    return {
      ...measure({ latencies, seconds: elapsedSeconds, cpuMicroseconds }),
      syncsPerSecond: syncs / elapsedSeconds,
      recordsPerSync: latencies.length / syncs,
      segmentsCreated: this.observer.segmentsCreated - segmentsBefore,
      cpuShare: cpuMicroseconds / 1e6 / elapsedSeconds,
    };
  }

  private async produce(deadline: number, latencies: number[]): Promise<void> {
    while (performance.now() < deadline) {
      const index = this.nextIndex++;
      const entry: Entry = { kind: 'normal', index, term: 1, data: this.data };
      const hardState: HardState = { term: 1, votedFor: 1, commitIndex: index - 1 };
      const before = performance.now();
      await this.storage.persist({ entries: [entry], hardState, mustSync: true });
      latencies.push(performance.now() - before);
    }
  }
}

interface RunResult {
  readonly raw: Measurement;
  readonly rawPreallocated: Measurement;
  readonly rawThreadPool: Measurement;
  readonly rows: ReadonlyMap<number, StorageRow>;
  /** 1-producer p50 / raw p50 (target <= 1.3). */
  readonly latencyRatio: number;
  /** 64-producer records/s / raw syncs/s (target >= 20). */
  readonly throughputRatio: number;
}

async function runStorageRows(directory: string): Promise<Map<number, StorageRow>> {
  const storageDirectory = fs.mkdtempSync(path.join(directory, 'storage-'));
  const observer = new CountingObserver();
  const storage = await DurableStorage.open({
    directory: storageDirectory,
    clusterId: 0x7261667400000001n,
    nodeId: 1,
    incarnationForNewDirectory: 1n,
    observer,
    segmentBytesTarget,
  });
  const rows = new Map<number, StorageRow>();
  try {
    const load = new ProducerLoad(storage, observer);
    // Warm up the JIT and let the background preallocation of the next segment finish.
    await load.run(64, STORAGE_WARM_UP_SECONDS);
    for (const producerCount of producerCounts) {
      rows.set(producerCount, await load.run(producerCount, rowSeconds));
    }
  } finally {
    await storage.close();
    fs.rmSync(storageDirectory, { recursive: true, force: true });
  }
  return rows;
}

async function runOnce(directory: string): Promise<RunResult> {
  const rawBefore = sampleRawSyncs(directory, false);
  const rawPreallocated = measure(sampleRawSyncs(directory, true));
  const rawThreadPool = measure(await sampleThreadPoolSyncs(directory));
  const rows = await runStorageRows(directory);
  const raw = measure(rawBefore, sampleRawSyncs(directory, false));
  return {
    raw,
    rawPreallocated,
    rawThreadPool,
    rows,
    latencyRatio: (rows.get(1)?.p50Milliseconds ?? Number.NaN) / raw.p50Milliseconds,
    throughputRatio: (rows.get(64)?.perSecond ?? Number.NaN) / raw.perSecond,
  };
}

const formatMilliseconds = (value: number): string => value.toFixed(3);

function describe(label: string, figures: Measurement, unit: string): string {
  return (
    `${label.padEnd(40)} ${formatCount(figures.perSecond).padStart(9)} ${unit.padEnd(9)}` +
    `  p50 ${formatMilliseconds(figures.p50Milliseconds)} ms` +
    `  p99 ${formatMilliseconds(figures.p99Milliseconds)} ms` +
    `  CPU ${figures.cpuMicrosecondsPerOperation.toFixed(1).padStart(5)} µs/op`
  );
}

function describeRow(producerCount: number, row: StorageRow): string {
  return (
    `${describe(`storage, ${producerCount} producer${producerCount === 1 ? '' : 's'}`, row, 'records/s')}` +
    `  ${formatCount(row.syncsPerSecond)} syncs/s, ${row.recordsPerSync.toFixed(1)} records/sync, ` +
    `CPU ${(row.cpuShare * 100).toFixed(0)}% of a core` +
    (row.segmentsCreated > 0 ? `, ${row.segmentsCreated} new segments` : '')
  );
}

function printRun(label: string, result: RunResult): void {
  console.log(`${label}:`);
  console.log(`  ${describe('raw 4 KiB + fdatasync, growing (reference)', result.raw, 'syncs/s')}`);
  console.log(`  ${describe('raw, preallocated file', result.rawPreallocated, 'syncs/s')}`);
  console.log(
    `  ${describe('raw, growing, via the thread pool', result.rawThreadPool, 'syncs/s')}`,
  );
  for (const [producerCount, row] of result.rows)
    console.log(`  ${describeRow(producerCount, row)}`);
}

function medianMeasurement(items: readonly Measurement[]): Measurement {
  return {
    perSecond: median(items.map((item) => item.perSecond)),
    p50Milliseconds: median(items.map((item) => item.p50Milliseconds)),
    p99Milliseconds: median(items.map((item) => item.p99Milliseconds)),
    cpuMicrosecondsPerOperation: median(items.map((item) => item.cpuMicrosecondsPerOperation)),
  };
}

/** Each figure the median of that figure over the runs. */
function medianRun(results: readonly RunResult[]): RunResult {
  const rows = new Map<number, StorageRow>();
  for (const producerCount of producerCounts) {
    const items = results.flatMap((result) => result.rows.get(producerCount) ?? []);
    rows.set(producerCount, {
      ...medianMeasurement(items),
      syncsPerSecond: median(items.map((item) => item.syncsPerSecond)),
      recordsPerSync: median(items.map((item) => item.recordsPerSync)),
      segmentsCreated: 0,
      cpuShare: median(items.map((item) => item.cpuShare)),
    });
  }
  return {
    raw: medianMeasurement(results.map((result) => result.raw)),
    rawPreallocated: medianMeasurement(results.map((result) => result.rawPreallocated)),
    rawThreadPool: medianMeasurement(results.map((result) => result.rawThreadPool)),
    rows,
    latencyRatio: median(results.map((result) => result.latencyRatio)),
    throughputRatio: median(results.map((result) => result.throughputRatio)),
  };
}

function printTargets(results: readonly RunResult[], medians: RunResult): void {
  const perRun = (pick: (result: RunResult) => number, digits: number): string =>
    results.map((result) => pick(result).toFixed(digits)).join(', ');
  const single = medians.rows.get(1);
  if (single !== undefined) {
    const ratio = medians.latencyRatio;
    console.log(
      `target: 1-producer p50 / raw p50 <= 1.3: median of per-run ratios ${ratio.toFixed(2)} ` +
        `(runs: ${perRun((result) => result.latencyRatio, 2)}; medians ` +
        `${formatMilliseconds(single.p50Milliseconds)} / ` +
        `${formatMilliseconds(medians.raw.p50Milliseconds)} ms): ${ratio <= 1.3 ? 'PASS' : 'MISS'}`,
    );
  }
  const sixtyFour = medians.rows.get(64);
  if (sixtyFour !== undefined) {
    const ratio = medians.throughputRatio;
    console.log(
      `target: 64-producer records/s / raw syncs/s >= 20: median of per-run ratios ` +
        `${ratio.toFixed(1)} (runs: ${perRun((result) => result.throughputRatio, 1)}; medians ` +
        `${formatCount(sixtyFour.perSecond)} / ${formatCount(medians.raw.perSecond)}): ` +
        (ratio >= 20 ? 'PASS' : 'MISS'),
    );
  }
}

async function main(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(values.dir, 'raftkv-bench-wal-'));
  console.log(`bench:wal in ${directory}`);
  console.log(`file system: ${describeFileSystem(directory)}`);
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs, load average ` +
      `${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}; ${runCount} runs; raw: ${RAW_WRITE_BYTES} B writes for ${rawSeconds} s ` +
      `(reference: before and after the storage rows); storage: ${ENTRY_DATA_BYTES} B entries + ` +
      `hard state, mustSync, ${rowSeconds} s per row, segments of ` +
      `${segmentBytesTarget / 1024 / 1024} MiB`,
  );
  const results: RunResult[] = [];
  try {
    for (let run = 1; run <= runCount; run++) {
      const result = await runOnce(directory);
      results.push(result);
      printRun(`run ${run}`, result);
    }
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
  const medians = medianRun(results);
  printRun(`median of ${results.length} runs`, medians);
  printTargets(results, medians);
}

await main();
