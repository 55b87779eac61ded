/**
 * bench:wal-recovery: how long a member takes to start from a write-ahead log of 1,000,000
 * entries of 256 bytes and no snapshot (issue #3 target: under 5 s). The parent writes the log
 * once (large batches, one sync at the end), then starts a fresh process for each measurement,
 * which times `DurableStorage.open` (reads every segment and verifies every checksum) and
 * `loadInto` a MemoryStorage, and reports its memory after. A fresh process per measurement
 * keeps the writer's garbage out of the memory figures and starts the JIT cold every time.
 *
 * Each run measures twice: "cold", after dropping the WAL files from the page cache
 * (`dd iflag=nocache count=0`, which asks the kernel to evict that file's pages and touches
 * nothing else), and "warm", right after, with the files cached.
 *
 * Usage: npm run bench:wal-recovery -- [--dir D] [--entries 1000000] [--bytes 256] [--runs 3]
 * [--keep]. With --keep the data directory is left in place, so that one recovery can be
 * profiled on its own: `node --cpu-prof --import tsx bench/wal-recovery.ts --recover <dir>`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { type Entry, MemoryStorage } from '../src/raft/index.js';
import { DurableStorage } from '../src/storage/index.js';
import { formatCount, median } from './statistics.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: os.tmpdir() },
    entries: { type: 'string', default: '1000000' },
    bytes: { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    /** Internal: recover the data directory given and print the figures as JSON. */
    recover: { type: 'string' },
  },
});
const entryCount = Number(values.entries);
const entryDataBytes = Number(values.bytes);
const runCount = Number(values.runs);
const CLUSTER_ID = 0x7261667400000002n;
const NODE_ID = 1;
const BATCH_ENTRIES = 4096;
const MEBIBYTE = 1024 * 1024;

/** What one recovering process reports. */
interface RecoveryFigures {
  readonly openSeconds: number;
  readonly reportedSeconds: number;
  readonly loadSeconds: number;
  readonly entriesRecovered: number;
  readonly segmentCount: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly arrayBuffersBytes: number;
}

function openOptions(directory: string) {
  return { directory, clusterId: CLUSTER_ID, nodeId: NODE_ID, incarnationForNewDirectory: 1n };
}

/** Writes entries 1..entryCount in batches; returns the seconds it took. */
async function writeLog(directory: string): Promise<number> {
  const started = performance.now();
  const storage = await DurableStorage.open(openOptions(directory));
  // A few distinct payloads of arbitrary bytes, so that nothing on the way can shortcut zeros.
  const payloads = Array.from({ length: 16 }, (_, variant) => {
    const data = new Uint8Array(entryDataBytes);
    for (let k = 0; k < data.byteLength; k++) data[k] = (k * 131 + variant * 17 + 7) & 0xff;
    return data;
  });
  try {
    for (let first = 1; first <= entryCount; first += BATCH_ENTRIES) {
      const last = Math.min(entryCount, first + BATCH_ENTRIES - 1);
      const entries: Entry[] = [];
      for (let index = first; index <= last; index++) {
        entries.push({ kind: 'normal', index, term: 1, data: payloads[index % 16] as Uint8Array });
      }
      const isFinal = last === entryCount;
      await storage.persist({
        entries,
        hardState: { term: 1, votedFor: NODE_ID, commitIndex: last },
        mustSync: isFinal,
      });
    }
  } finally {
    await storage.close();
  }
  return (performance.now() - started) / 1000;
}

function walFiles(directory: string): string[] {
  const walDirectory = path.join(directory, 'wal');
  return fs
    .readdirSync(walDirectory)
    .filter((name) => name.endsWith('.wal'))
    .map((name) => path.join(walDirectory, name));
}

/** Asks the kernel to drop the cached pages of each file (posix_fadvise DONTNEED, via dd). */
function dropFromPageCache(files: readonly string[]): boolean {
  for (const file of files) {
    const result = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    if (result.status !== 0) return false;
  }
  return true;
}

/** Runs one recovery in a fresh process (this script with --recover). */
function recoverInChild(directory: string): RecoveryFigures {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(
    process.execPath,
    [...process.execArgv, script, '--recover', directory, '--entries', String(entryCount)],
    { encoding: 'utf8', maxBuffer: 16 * MEBIBYTE },
  );
  if (result.status !== 0) {
    throw new Error(`recovery process failed (${result.status}): ${result.stderr}`);
  }
  const lastLine = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(lastLine) as RecoveryFigures;
}

/** The child: opens the directory, loads a MemoryStorage, prints the figures as JSON. */
async function recover(directory: string): Promise<void> {
  const started = performance.now();
  const storage = await DurableStorage.open(openOptions(directory));
  const openSeconds = (performance.now() - started) / 1000;
  const memory = new MemoryStorage();
  const loadStarted = performance.now();
  storage.loadInto(memory);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const { entries, report } = storage.recovered;
  if (entries.length !== entryCount || memory.lastIndex() !== entryCount) {
    throw new Error(`recovered ${entries.length} entries, expected ${entryCount}`);
  }
  const usage = process.memoryUsage();
  const figures: RecoveryFigures = {
    openSeconds,
    reportedSeconds: report.durationSeconds,
    loadSeconds,
    entriesRecovered: entries.length,
    segmentCount: report.segmentCount,
    rssBytes: usage.rss,
    heapUsedBytes: usage.heapUsed,
    arrayBuffersBytes: usage.arrayBuffers,
  };
  await storage.close();
  console.log(JSON.stringify(figures));
}

function describe(label: string, figures: RecoveryFigures, walBytes: number): string {
  return (
    `${label.padEnd(6)} open ${figures.openSeconds.toFixed(2)} s ` +
    `(${(walBytes / MEBIBYTE / figures.openSeconds).toFixed(0)} MiB of segment files/s, ` +
    `${formatCount(figures.entriesRecovered / figures.openSeconds)} entries/s), ` +
    `loadInto ${(figures.loadSeconds * 1000).toFixed(1)} ms; after: ` +
    `rss ${(figures.rssBytes / MEBIBYTE).toFixed(0)} MiB, ` +
    `heap used ${(figures.heapUsedBytes / MEBIBYTE).toFixed(0)} MiB, ` +
    `array buffers ${(figures.arrayBuffersBytes / MEBIBYTE).toFixed(0)} MiB`
  );
}

function medianFigures(items: readonly RecoveryFigures[]): RecoveryFigures {
  const pick = (key: keyof RecoveryFigures): number => median(items.map((item) => item[key]));
  return {
    openSeconds: pick('openSeconds'),
    reportedSeconds: pick('reportedSeconds'),
    loadSeconds: pick('loadSeconds'),
    entriesRecovered: pick('entriesRecovered'),
    segmentCount: pick('segmentCount'),
    rssBytes: pick('rssBytes'),
    heapUsedBytes: pick('heapUsedBytes'),
    arrayBuffersBytes: pick('arrayBuffersBytes'),
  };
}

async function main(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(values.dir, 'raftkv-bench-wal-recovery-'));
  try {
    console.log(
      `bench:wal-recovery in ${directory}; node ${process.version}, ${os.cpus().length} CPUs`,
    );
    const writeSeconds = await writeLog(directory);
    const files = walFiles(directory);
    const walBytes = files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
    console.log(
      `wrote ${formatCount(entryCount)} entries of ${entryDataBytes} B in ${writeSeconds.toFixed(1)} s: ` +
        `${files.length} segments, ${(walBytes / MEBIBYTE).toFixed(0)} MiB on disk ` +
        `(segments are preallocated, so the last one is mostly zeros)`,
    );
    const cold: RecoveryFigures[] = [];
    const warm: RecoveryFigures[] = [];
    for (let run = 1; run <= runCount; run++) {
      if (!dropFromPageCache(files)) throw new Error('could not drop the WAL from the page cache');
      cold.push(recoverInChild(directory));
      warm.push(recoverInChild(directory));
      console.log(`run ${run}:`);
      console.log(`  ${describe('cold', cold.at(-1) as RecoveryFigures, walBytes)}`);
      console.log(`  ${describe('warm', warm.at(-1) as RecoveryFigures, walBytes)}`);
    }
    const coldMedian = medianFigures(cold);
    const warmMedian = medianFigures(warm);
    console.log(`median of ${runCount} runs (each a fresh process):`);
    console.log(`  ${describe('cold', coldMedian, walBytes)}`);
    console.log(`  ${describe('warm', warmMedian, walBytes)}`);
    const worst = Math.max(coldMedian.openSeconds, warmMedian.openSeconds);
    console.log(
      `target: recovery of ${formatCount(entryCount)} entries < 5 s: ` +
        `${worst.toFixed(2)} s (slower of cold and warm medians): ${worst < 5 ? 'PASS' : 'MISS'}`,
    );
  } finally {
    if (values.keep) console.log(`kept ${directory}`);
    else fs.rmSync(directory, { recursive: true, force: true });
  }
}

if (values.recover === undefined) await main();
else await recover(values.recover);
