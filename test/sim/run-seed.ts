/**
 * One simulation run from one seed (TigerBeetle's VOPR): build the cluster, the workload, the
 * membership driver and the checkers, each from its own PRNG stream derived from the seed; run
 * the safety phase (faults and membership changes); then the liveness phase (faults stop, a
 * majority core heals, a new proposal must commit in bounded time); then the end checks
 * (linearizability of the client history). The run stops at the first violation and reports
 * its checker, tick and a tail of the trace. Nothing escapes: core assertions and other
 * exceptions become violations too, so every failure carries its seed.
 */
import { AssertionError, type Logger } from '../../src/common/index.js';
import type { DeliberateBugs, SoftState } from '../../src/raft/index.js';
import { AppliedPrefixChecker } from './checkers/applied-prefix.js';
import type { Checker } from './checkers/checker.js';
import { type CheckerName, InvariantViolation } from './checkers/violation.js';
import { CommitAgreementChecker } from './checkers/commit-agreement.js';
import { CurrentTermCommitChecker } from './checkers/current-term-commit.js';
import { ElectionSafetyChecker } from './checkers/election-safety.js';
import { LeaderCompletenessChecker } from './checkers/leader-completeness.js';
import { checkLinearizability, formatHistory } from './checkers/linearizability.js';
import { LogMatchingChecker } from './checkers/log-matching.js';
import { MonotonicityChecker } from './checkers/monotonicity.js';
import { PersistBeforeSendChecker } from './checkers/persist-before-send.js';
import { SingleVoteChecker } from './checkers/single-vote.js';
import { Cluster, type ClusterStats } from './cluster.js';
import { type ClusterObserver, combineObservers, type NodeView } from './cluster-observer.js';
import { LivenessProbe } from './liveness.js';
import { LogicalClock } from './logical-clock.js';
import { MembershipDriver, type MembershipStats } from './membership-driver.js';
import type { NetworkStats } from './network.js';
import { createStream } from './seed-streams.js';
import {
  deriveSimulationOptions,
  type FaultProfile,
  SAFETY_TICKS_DEFAULT,
  type SimulationOptions,
} from './simulation-options.js';
import { Trace, type TraceSink } from './trace.js';
import { Workload, type WorkloadStats } from './workload.js';

/** The deliberate core bugs a run can switch on (raft-options.ts DeliberateBugs). */
export type BugName = 'commitPreviousTerm' | 'voteWithoutSync';

/** Trace events a violation report carries by default. */
export const TRACE_TAIL_EVENTS_DEFAULT = 30;

/** How a run is set up beyond its seed. */
export interface RunSeedOptions {
  /** Ticks of the safety phase; default SAFETY_TICKS_DEFAULT. */
  readonly safetyTicks?: number;
  readonly bug?: BugName | null;
  /** Fault intensity; default 'swarm' (drawn per seed). */
  readonly profile?: FaultProfile;
  /** Receives every trace event as it happens (replays). */
  readonly traceSink?: TraceSink | null;
  /** Also trace every message (needs a sink). */
  readonly isMessageTraced?: boolean;
  /** Receives the cores' own log lines. */
  readonly coreLogger?: Logger;
  /** Checkers to leave out (to show another one catches a bug too). */
  readonly checkersDisabled?: readonly CheckerName[];
  readonly traceTailEventsCount?: number;
  /** Adjusts the options the seed chose (tests pin one aspect this way). */
  readonly adjustOptions?: (options: SimulationOptions) => SimulationOptions;
}

/** A property found broken. */
export interface Violation {
  readonly seed: number;
  readonly tick: number;
  readonly checker: CheckerName;
  readonly message: string;
  readonly traceTail: readonly string[];
}

/** What happened in a run, for summaries. */
export interface RunStats {
  readonly network: NetworkStats;
  readonly cluster: ClusterStats;
  readonly workload: WorkloadStats;
  readonly membership: MembershipStats;
  readonly leaderTermCount: number;
  readonly committedIndexMax: number;
  readonly historyOperationCount: number;
  /** 'unknown' when the checker's search budget ran out (not a violation). */
  readonly linearizability: 'linearizable' | 'notLinearizable' | 'unknown' | 'notChecked';
  readonly livenessCore: readonly number[];
  readonly isLivenessCoreMajority: boolean;
  /** Ticks from the start of the liveness phase until the probe was applied. */
  readonly livenessTicks: number | null;
}

/** The outcome of one seed. */
export interface SeedResult {
  readonly seed: number;
  readonly ticks: number;
  readonly violations: readonly Violation[];
  readonly stats: RunStats;
  readonly options: SimulationOptions;
}

/** Everything a run is made of. */
interface RunParts {
  readonly trace: Trace;
  readonly options: SimulationOptions;
  readonly cluster: Cluster;
  readonly workload: Workload;
  readonly membership: MembershipDriver;
  readonly liveness: LivenessProbe;
  readonly checkers: readonly Checker[];
  readonly checkersDisabled: ReadonlySet<CheckerName>;
  readonly electionSafety: ElectionSafetyChecker;
  readonly commitAgreement: CommitAgreementChecker;
  linearizability: RunStats['linearizability'];
}

/** Runs one seed to its end or its first violation. Never throws. */
export function runSeed(seed: number, runOptions: RunSeedOptions = {}): SeedResult {
  const parts = buildRun(seed, runOptions);
  const violations: Violation[] = [];
  try {
    parts.cluster.bootstrap();
    runSafetyPhase(parts);
    runLivenessPhase(parts);
    finishRun(parts);
  } catch (error) {
    violations.push(toViolation(seed, parts, error, runOptions));
  }
  return {
    seed,
    ticks: parts.cluster.now,
    violations,
    stats: collectStats(parts),
    options: parts.options,
  };
}

function buildRun(seed: number, runOptions: RunSeedOptions): RunParts {
  const clock = new LogicalClock();
  const trace = new Trace(
    {
      sink: runOptions.traceSink ?? null,
      isMessageTraced: runOptions.isMessageTraced ?? false,
    },
    clock,
  );
  const derived = deriveSimulationOptions(
    createStream(seed, 'options'),
    deliberateBugsOf(runOptions.bug ?? null),
    runOptions.safetyTicks ?? SAFETY_TICKS_DEFAULT,
    runOptions.profile ?? 'swarm',
  );
  const options = runOptions.adjustOptions?.(derived) ?? derived;
  const { checkers, electionSafety, commitAgreement } = buildCheckers();
  const workload = new Workload(options.workload, createStream(seed, 'workload'), clock);
  const membership = new MembershipDriver(
    options.membership,
    options.cluster,
    createStream(seed, 'membership'),
    trace,
  );
  const liveness = new LivenessProbe(
    createStream(seed, 'liveness'),
    trace,
    clock,
    options.cluster.electionTimeoutTicks,
  );
  const observers: ClusterObserver[] = [
    ...checkers,
    workload,
    membership,
    liveness,
    roleTracer(trace),
  ];
  const checkersDisabled: ReadonlySet<CheckerName> = new Set(runOptions.checkersDisabled ?? []);
  const cluster = new Cluster({
    seed,
    options,
    trace,
    clock,
    observer: combineObservers(observers, checkersDisabled),
    ...(runOptions.coreLogger === undefined ? {} : { coreLogger: runOptions.coreLogger }),
  });
  return {
    trace,
    options,
    cluster,
    workload,
    membership,
    liveness,
    checkers,
    checkersDisabled,
    electionSafety,
    commitAgreement,
    linearizability: 'notChecked',
  };
}

function buildCheckers() {
  const logMatching = new LogMatchingChecker();
  const commitAgreement = new CommitAgreementChecker(logMatching);
  const electionSafety = new ElectionSafetyChecker();
  const checkers: Checker[] = [
    // Log matching first: the checkers after it read its mirror of each log.
    logMatching,
    commitAgreement,
    new LeaderCompletenessChecker(logMatching, commitAgreement),
    electionSafety,
    new SingleVoteChecker(),
    new AppliedPrefixChecker(),
    new MonotonicityChecker(),
    new PersistBeforeSendChecker(),
    new CurrentTermCommitChecker(),
  ];
  return { checkers, electionSafety, commitAgreement };
}

function deliberateBugsOf(bug: BugName | null): DeliberateBugs {
  if (bug === 'commitPreviousTerm') return { isCommitByCountingPreviousTerm: true };
  if (bug === 'voteWithoutSync') return { isVoteGrantedWithoutSync: true };
  return {};
}

/** Traces every role change the cores report. */
function roleTracer(trace: Trace): ClusterObserver {
  return {
    onSoftState(node: NodeView, softState: SoftState): void {
      const status = node.status();
      trace.event(
        `node ${node.id}: ${softState.role} in term ${status.term}` +
          (softState.leaderId === 0 ? '' : `, leader ${softState.leaderId}`),
      );
    },
  };
}

function stepTick(parts: RunParts): void {
  const { cluster } = parts;
  cluster.beginTick();
  parts.membership.tick(cluster);
  parts.workload.tick(cluster);
  parts.liveness.tick(cluster);
  cluster.finishTick();
}

function runSafetyPhase(parts: RunParts): void {
  while (parts.cluster.now < parts.options.safetyTicks) stepTick(parts);
}

function runLivenessPhase(parts: RunParts): void {
  const { cluster, liveness } = parts;
  parts.membership.stop();
  liveness.start(cluster);
  const startTick = cluster.now;
  while (liveness.committedTick === null) {
    if (cluster.now - startTick >= liveness.ticksAllowed) {
      if (parts.checkersDisabled.has('liveness')) return;
      throw new InvariantViolation(
        'liveness',
        `no proposal committed within ${liveness.ticksAllowed} ticks after healing ` +
          `core [${liveness.coreIds.join(',')}]: ${describeNodes(cluster)}`,
      );
    }
    stepTick(parts);
  }
}

function finishRun(parts: RunParts): void {
  if (parts.checkersDisabled.has('linearizability')) return;
  const history = parts.workload.history();
  const result = checkLinearizability(history);
  parts.linearizability = result.kind;
  if (result.kind !== 'notLinearizable') return;
  throw new InvariantViolation(
    'linearizability',
    `${result.explanation}\nhistory of key ${JSON.stringify(result.key)}:\n` +
      formatHistory(result.operations.slice(-40)),
  );
}

function describeNodes(cluster: Cluster): string {
  return [...cluster.nodes.values()]
    .map((node) => {
      if (!node.isRunning) return `${node.id}:${node.state}`;
      const status = node.status();
      return (
        `${node.id}:${status.role}@t${status.term} commit ${status.commitIndex} ` +
        `last ${status.lastIndex} voters [${status.configuration.voters.join(',')}]`
      );
    })
    .join('; ');
}

function toViolation(
  seed: number,
  parts: RunParts,
  error: unknown,
  runOptions: RunSeedOptions,
): Violation {
  const traceTail = parts.trace.tail(runOptions.traceTailEventsCount ?? TRACE_TAIL_EVENTS_DEFAULT);
  const tick = parts.cluster.now;
  if (error instanceof InvariantViolation) {
    return { seed, tick, checker: error.checker, message: error.message, traceTail };
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const shortStack = stack.split('\n').slice(0, 8).join('\n');
  const checker: CheckerName = error instanceof AssertionError ? 'coreAssertion' : 'exception';
  return { seed, tick, checker, message: shortStack, traceTail };
}

function collectStats(parts: RunParts): RunStats {
  const { liveness } = parts;
  return {
    network: parts.cluster.network.stats,
    cluster: parts.cluster.stats,
    workload: parts.workload.stats,
    membership: parts.membership.stats,
    leaderTermCount: parts.electionSafety.leaderTermCount,
    committedIndexMax: parts.commitAgreement.committedIndexMax,
    historyOperationCount: parts.workload.history().length,
    linearizability: parts.linearizability,
    livenessCore: liveness.coreIds,
    isLivenessCoreMajority: liveness.isMajorityCore,
    livenessTicks:
      liveness.committedTick === null || liveness.startTick === null
        ? null
        : liveness.committedTick - liveness.startTick,
  };
}
