/**
 * The simulator's seed sweep (DESIGN.md §10.3): many whole-cluster runs with network, disk and
 * crash faults, membership changes and leadership transfers, every checker on, each followed by
 * a liveness phase. Any violation fails the test and prints the seed, the checker, the trace
 * tail and the command that replays the run. Also checks that a run is a pure function of its
 * seed, and that the simulator itself never reads the wall clock or Math.random.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSeed, type RunSeedOptions, type SeedResult } from './run-seed.js';
import { SAFETY_TICKS_DEFAULT } from './simulation-options.js';

/**
 * Seeds of the sweep, in blocks so that progress shows and a failure names its block. Every seed
 * must pass; at least QUALIFYING_SEEDS_MIN of them must also have had faults (loss,
 * duplication, partitions or crashes) and at least one applied membership change, which about
 * four seeds in five do.
 */
const SWEEP_SEEDS_COUNT = 400;
const QUALIFYING_SEEDS_MIN = 300;
const SWEEP_BLOCK_SEEDS_COUNT = 50;
/** Seeds run with the crash-heavy profile. */
const CRASH_HEAVY_SEEDS_COUNT = 100;
/** A block of 50 seeds takes ~10 s on one core; the limit leaves room for slow machines. */
const BLOCK_TIMEOUT_MS = 120_000;

/** Seeds of the swarm sweep that had faults and an applied membership change. */
let qualifyingSeedsCount = 0;

/** Whether a run exercised faults and membership changes (not only delays and reordering). */
function isQualifying(result: SeedResult): boolean {
  const { network, cluster, membership } = result.stats;
  const faultCount =
    network.lostCount + network.duplicatedCount + network.partitionCount + cluster.crashCount;
  return faultCount > 0 && membership.appliedCount > 0;
}

/** Runs `count` seeds from `first`; returns the results that have violations. */
function sweep(first: number, count: number, options: RunSeedOptions): SeedResult[] {
  const failures: SeedResult[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const result = runSeed(seed, options);
    expect(result.ticks).toBeGreaterThanOrEqual(SAFETY_TICKS_DEFAULT);
    if (result.violations.length > 0) failures.push(result);
    if (options.profile === undefined && isQualifying(result)) qualifyingSeedsCount++;
  }
  return failures;
}

/** A readable report of failing seeds, with replay commands. */
function describeFailures(failures: readonly SeedResult[], flags: string): string {
  return failures
    .flatMap((failure) =>
      failure.violations.map(
        (violation) =>
          `seed ${failure.seed}: ${violation.checker} at tick ${violation.tick}: ` +
          `${violation.message}\n${violation.traceTail.join('\n')}\n` +
          `replay: npm run sim -- --seed ${failure.seed}${flags}`,
      ),
    )
    .join('\n\n');
}

describe('simulator sweep, swarm profile (faults and membership changes drawn per seed)', () => {
  for (let first = 1; first <= SWEEP_SEEDS_COUNT; first += SWEEP_BLOCK_SEEDS_COUNT) {
    const last = first + SWEEP_BLOCK_SEEDS_COUNT - 1;
    it(
      `seeds ${first}..${last} find no violation`,
      () => {
        const failures = sweep(first, SWEEP_BLOCK_SEEDS_COUNT, {});
        expect(failures, describeFailures(failures, '')).toEqual([]);
      },
      BLOCK_TIMEOUT_MS,
    );
  }
  it(`at least ${QUALIFYING_SEEDS_MIN} seeds had faults and applied membership changes`, () => {
    expect(qualifyingSeedsCount).toBeGreaterThanOrEqual(QUALIFYING_SEEDS_MIN);
  });
});

describe('simulator sweep, crash-heavy profile', () => {
  it(
    `seeds 1..${CRASH_HEAVY_SEEDS_COUNT} find no violation`,
    () => {
      const failures = sweep(1, CRASH_HEAVY_SEEDS_COUNT, { profile: 'crashHeavy' });
      expect(failures, describeFailures(failures, ' --profile crashHeavy')).toEqual([]);
    },
    BLOCK_TIMEOUT_MS,
  );
});

describe('simulator determinism', () => {
  it('replays a seed exactly: same ticks, stats, trace and verdict', () => {
    const traceOf = (seed: number): { result: SeedResult; lines: string[] } => {
      const lines: string[] = [];
      const result = runSeed(seed, { traceSink: (line) => lines.push(line) });
      return { result, lines };
    };
    const first = traceOf(7);
    const second = traceOf(7);
    expect(second.result.ticks).toBe(first.result.ticks);
    expect(second.result.stats).toEqual(first.result.stats);
    expect(second.result.violations).toEqual(first.result.violations);
    expect(second.lines).toEqual(first.lines);
    expect(first.lines.length).toBeGreaterThan(50);
  });

  it('does different things for different seeds', () => {
    expect(runSeed(8).stats).not.toEqual(runSeed(9).stats);
  });

  it('exercises what it claims to: crashes, partitions, snapshots, membership, reads', () => {
    const totals = { crashes: 0, partitions: 0, compactions: 0, changes: 0, completed: 0 };
    for (let seed = 1; seed <= 10; seed++) {
      const { stats } = runSeed(seed);
      totals.crashes += stats.cluster.crashCount;
      totals.partitions += stats.network.partitionCount;
      totals.compactions += stats.cluster.compactionCount;
      totals.changes += stats.membership.appliedCount;
      totals.completed += stats.workload.completedCount;
      expect(stats.linearizability).toBe('linearizable');
      expect(stats.livenessTicks).not.toBeNull();
    }
    for (const total of Object.values(totals)) expect(total).toBeGreaterThan(10);
  });
});

describe('simulator sources', () => {
  it('use no wall clock and no Math.random outside main.ts', () => {
    const directory = import.meta.dirname;
    const files = readdirSync(directory, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'main.ts',
    );
    expect(files.length).toBeGreaterThan(10);
    const forbidden = /\bMath\.random\b|\bDate\b|\bperformance\.|\bsetTimeout\b|\bsetInterval\b/;
    for (const file of files) {
      const code = readFileSync(join(directory, file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/)/.test(line));
      const offending = code.filter((line) => forbidden.test(line));
      expect(offending, `${file} reads the clock or Math.random`).toEqual([]);
    }
  });
});
