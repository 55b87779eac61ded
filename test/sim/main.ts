/**
 * Command line of the simulator (`npm run sim -- ...`):
 *
 *   --seed N        replay one seed exactly, printing its trace (add --messages for every
 *                   message, --core-log for the cores' own log lines, --quiet for none)
 *   --seeds K       sweep K seeds, 1..K, or S..S+K-1 with --from S
 *   --ticks T       ticks of the safety phase (default 2000)
 *   --bug NAME      switch on a deliberate core bug: commitPreviousTerm | voteWithoutSync
 *   --profile P     fault intensity: swarm (default, drawn per seed) | crashHeavy
 *   --disable A,B   leave checkers out (their violations are ignored)
 *
 * Prints a summary (seeds, ticks, wall time, violations) and, for each failing seed, its
 * checker, tick, message, trace tail and the command that replays it. Exits non-zero on any
 * violation. The only place in the simulator that reads the wall clock (for the summary).
 */
import { performance } from 'node:perf_hooks';
import type { Logger, LogFields } from '../../src/common/index.js';
import { CHECKER_NAMES, type CheckerName } from './checkers/violation.js';
import { type BugName, runSeed, type RunSeedOptions, type SeedResult } from './run-seed.js';
import { type FaultProfile, SAFETY_TICKS_DEFAULT } from './simulation-options.js';

/** Parsed command line. */
interface CommandLine {
  readonly seed: number | null;
  readonly seedsCount: number;
  readonly fromSeed: number;
  readonly safetyTicks: number;
  readonly bug: BugName | null;
  readonly profile: FaultProfile;
  readonly checkersDisabled: readonly CheckerName[];
  readonly isQuiet: boolean;
  readonly isMessageTraced: boolean;
  readonly isCoreLogged: boolean;
}

const USAGE =
  'usage: npm run sim -- (--seed N | --seeds K [--from S]) [--ticks T] ' +
  '[--bug commitPreviousTerm|voteWithoutSync] [--profile swarm|crashHeavy] ' +
  '[--disable checker,...] ' +
  '[--messages] [--core-log] [--quiet]';

function parseCommandLine(args: readonly string[]): CommandLine {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let position = 0; position < args.length; position++) {
    const arg = args[position] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const [name, inlineValue] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (['messages', 'core-log', 'quiet', 'help'].includes(name)) {
      flags.add(name);
    } else {
      const value = inlineValue ?? args[++position];
      if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
      values.set(name, value);
    }
  }
  if (flags.has('help')) throw new Error(USAGE);
  const integer = (name: string, fallback: number): number => {
    const text = values.get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} must be an integer`);
    return value;
  };
  const bug = values.get('bug') ?? null;
  if (bug !== null && bug !== 'commitPreviousTerm' && bug !== 'voteWithoutSync') {
    throw new Error(`unknown --bug ${bug}\n${USAGE}`);
  }
  const profile = values.get('profile') ?? 'swarm';
  if (profile !== 'swarm' && profile !== 'crashHeavy') {
    throw new Error(`unknown --profile ${profile}\n${USAGE}`);
  }
  return {
    profile,
    seed: values.has('seed') ? integer('seed', 0) : null,
    seedsCount: integer('seeds', values.has('seed') ? 1 : 100),
    fromSeed: integer('from', 1),
    safetyTicks: integer('ticks', SAFETY_TICKS_DEFAULT),
    bug,
    checkersDisabled: parseCheckerNames(values.get('disable') ?? ''),
    isQuiet: flags.has('quiet'),
    isMessageTraced: flags.has('messages'),
    isCoreLogged: flags.has('core-log'),
  };
}

function parseCheckerNames(text: string): CheckerName[] {
  const names = text.split(',').filter((name) => name.length > 0);
  for (const name of names) {
    if (!(CHECKER_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown checker ${name}; known: ${CHECKER_NAMES.join(', ')}`);
    }
  }
  return names as CheckerName[];
}

/** The command that replays `seed` with the same settings. */
function replayCommand(seed: number, commandLine: CommandLine): string {
  const parts = [`npm run sim -- --seed ${seed}`];
  if (commandLine.safetyTicks !== SAFETY_TICKS_DEFAULT)
    parts.push(`--ticks ${commandLine.safetyTicks}`);
  if (commandLine.bug !== null) parts.push(`--bug ${commandLine.bug}`);
  if (commandLine.profile !== 'swarm') parts.push(`--profile ${commandLine.profile}`);
  if (commandLine.checkersDisabled.length > 0) {
    parts.push(`--disable ${commandLine.checkersDisabled.join(',')}`);
  }
  return parts.join(' ');
}

function printFailure(result: SeedResult, commandLine: CommandLine): void {
  for (const violation of result.violations) {
    console.log(`\nseed ${result.seed}: ${violation.checker} violated at tick ${violation.tick}`);
    console.log(violation.message);
    console.log('trace tail:');
    for (const line of violation.traceTail) console.log(`  ${line}`);
    console.log(`replay: ${replayCommand(result.seed, commandLine)}`);
  }
}

/** A core logger that prints each line with the tick-stamped trace. */
function consoleLogger(): Logger {
  const print = (level: string) => (fields: LogFields, message: string) =>
    console.log(`      core ${level} ${message} ${JSON.stringify(fields)}`);
  return { debug: print('debug'), info: print('info'), warn: print('warn'), error: print('error') };
}

function runOptionsFor(commandLine: CommandLine, isReplay: boolean): RunSeedOptions {
  const isTraced = isReplay && !commandLine.isQuiet;
  return {
    safetyTicks: commandLine.safetyTicks,
    bug: commandLine.bug,
    profile: commandLine.profile,
    checkersDisabled: commandLine.checkersDisabled,
    traceSink: isTraced ? (line: string) => console.log(line) : null,
    isMessageTraced: isTraced && commandLine.isMessageTraced,
    ...(isTraced && commandLine.isCoreLogged ? { coreLogger: consoleLogger() } : {}),
  };
}

function main(): number {
  const commandLine = parseCommandLine(process.argv.slice(2));
  const isReplay = commandLine.seed !== null;
  const firstSeed = commandLine.seed ?? commandLine.fromSeed;
  const runOptions = runOptionsFor(commandLine, isReplay);
  const startMs = performance.now();
  const failures: SeedResult[] = [];
  let ticksTotal = 0;
  for (let seed = firstSeed; seed < firstSeed + commandLine.seedsCount; seed++) {
    const result = runSeed(seed, runOptions);
    ticksTotal += result.ticks;
    if (result.violations.length > 0) {
      failures.push(result);
      printFailure(result, commandLine);
    }
    if (isReplay) console.log(`\nstats: ${JSON.stringify(result.stats)}`);
  }
  const seconds = (performance.now() - startMs) / 1000;
  const lastSeed = firstSeed + commandLine.seedsCount - 1;
  console.log(
    `\nsimulated seeds ${firstSeed}..${lastSeed} (${commandLine.seedsCount}), ` +
      `${ticksTotal} ticks in ${seconds.toFixed(1)} s` +
      (commandLine.bug === null ? '' : `, bug ${commandLine.bug}`) +
      (commandLine.profile === 'swarm' ? '' : `, profile ${commandLine.profile}`) +
      `: ${failures.length} with violations`,
  );
  for (const failure of failures) {
    const checkers = failure.violations.map((violation) => violation.checker).join(',');
    console.log(
      `  seed ${failure.seed} (${checkers}): ${replayCommand(failure.seed, commandLine)}`,
    );
  }
  return failures.length === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
