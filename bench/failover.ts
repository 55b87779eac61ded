/**
 * bench:failover: how long a 3-member cluster cannot take writes when its leader dies, and
 * whether it keeps its leader under steady load. For each system in turn (never both at once):
 *
 * 1. Kills: an open-loop writer issues one put every --interval-ms (a new key each time,
 *    256-byte value), round-robin over the members that are up, each with a 5 s deadline. Per
 *    kill: wait until all members agree on a leader and the writer's puts succeed, SIGKILL the
 *    leader's PID, stop sending to it, and measure from the kill to the completion of the first
 *    successful put *issued after* the kill (puts already in flight at the kill do not count).
 *    Then restart the member on its data directory and wait until it is healthy (answers
 *    Status, agrees on the leader, applied what was committed) before the next kill.
 * 2. Steady (--steady-minutes, 0 to skip): 64 closed-loop clients put random keys to the
 *    leader with no faults, while Maintenance.Status is polled on every member every 250 ms.
 *    Reported: leader changes seen by the polls (a member naming a different non-zero leader
 *    than at its previous answer), raft terms at start and end, and each member's own
 *    leader-changes counter from /metrics (etcd_server_leader_changes_seen_total for etcd,
 *    raftkv_server_leader_changes_seen_total for raftkv) as the change over the phase.
 *
 * Usage: npm run bench:failover -- [--systems etcd,raftkv] [--kills 10] [--steady-minutes 10]
 * [--interval-ms 10]
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import type { ClusterUnderTest, MemberStatus } from './cluster/cluster-under-test.js';
import { encodePutFrame, formatMemberId, GRPC_STATUS_OK, PUT_PATH } from './cluster/grpc-wire.js';
import {
  benchmarkKey,
  type CallOutcome,
  GrpcEndpoint,
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
import { formatCount, median } from './statistics.js';

const { values } = parseArgs({
  options: {
    systems: { type: 'string', default: 'etcd,raftkv' },
    kills: { type: 'string', default: '10' },
    'steady-minutes': { type: 'string', default: '10' },
    'interval-ms': { type: 'string', default: '10' },
    'steady-clients': { type: 'string', default: '64' },
  },
});
const systems = parseSystems(values.systems);
const killCount = Number(values.kills);
const steadyMinutes = Number(values['steady-minutes']);
const intervalMs = Number(values['interval-ms']);
const steadyClients = Number(values['steady-clients']);
const VALUE_BYTES = 256;
const PUT_TIMEOUT_MS = 5000;
/** A kill whose writes do not come back within this long counts as a failure of the run. */
const RECOVERY_LIMIT_MS = 60_000;
const HEALTHY_LIMIT_MS = 60_000;
const STATUS_POLL_MS = 250;
const STEADY_KEY_SPACE = 100_000;
const percent = (share: number): string => `${(share * 100).toFixed(0)}%`;

interface PutRecord {
  readonly sentAt: number;
  readonly member: number;
  readonly doneAt: number;
  readonly outcome: CallOutcome;
}

/**
 * One put every `intervalMs`, whatever the previous ones are doing (open loop), round-robin
 * over the members not excluded. Remembers every completed put since the last `mark`.
 */
class OpenLoopWriter {
  private readonly endpoints: GrpcEndpoint[];
  private readonly excluded = new Set<number>();
  private readonly value = Buffer.alloc(VALUE_BYTES, 0x66);
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sequence = 0;
  private turn = 0;
  private completed: PutRecord[] = [];
  private waiters: { after: number; resolve: (record: PutRecord | undefined) => void }[] = [];

  constructor(addresses: readonly string[]) {
    this.endpoints = addresses.map((address) => new GrpcEndpoint(address));
  }

  start(): void {
    this.timer = setInterval(() => this.issue(), intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
    for (const endpoint of this.endpoints) endpoint.close();
  }

  exclude(member: number): void {
    this.excluded.add(member);
    this.endpoints[member]?.close();
  }

  include(member: number): void {
    this.excluded.delete(member);
  }

  /** Forgets the puts completed so far. */
  mark(): void {
    this.completed = [];
  }

  /** Puts completed since the last mark. */
  records(): readonly PutRecord[] {
    return this.completed;
  }

  /** The first put sent at or after `after` that succeeds (undefined after `limitMs`). */
  async firstSuccessSentAfter(after: number, limitMs: number): Promise<PutRecord | undefined> {
    const already = this.completed.find(
      (record) => record.sentAt >= after && record.outcome.status === GRPC_STATUS_OK,
    );
    if (already !== undefined) return already;
    let waiter: { after: number; resolve: (record: PutRecord | undefined) => void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    const result = await new Promise<PutRecord | undefined>((resolve) => {
      waiter = { after, resolve };
      this.waiters.push(waiter);
      timer = setTimeout(() => resolve(undefined), limitMs);
    });
    clearTimeout(timer);
    this.waiters = this.waiters.filter((item) => item !== waiter);
    return result;
  }

  private issue(): void {
    const members = this.endpoints.map((_, index) => index).filter((i) => !this.excluded.has(i));
    if (members.length === 0) return;
    const member = members[this.turn++ % members.length] ?? 0;
    const endpoint = this.endpoints[member];
    if (endpoint === undefined) return;
    const key = benchmarkKey('failover/', this.sequence++ % STEADY_KEY_SPACE);
    const sentAt = performance.now();
    const call = endpoint
      .call(PUT_PATH, encodePutFrame(key, this.value), { timeoutMs: PUT_TIMEOUT_MS })
      .then((outcome) => {
        const record: PutRecord = { sentAt, member, doneAt: performance.now(), outcome };
        this.completed.push(record);
        if (outcome.status !== GRPC_STATUS_OK) return;
        for (const waiter of this.waiters) {
          if (sentAt >= waiter.after) waiter.resolve(record);
        }
      });
    const tracked = call.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}

interface KillResult {
  readonly killed: number;
  readonly termBefore: bigint;
  /** Kill to the completion of the first successful put issued after it; NaN if none. */
  readonly unavailableMilliseconds: number;
  /** When that put was issued, after the kill. */
  readonly issuedAfterMilliseconds: number;
  readonly newLeader: number;
  readonly termAfter: bigint;
  /** Puts issued after the kill and before that first success, by outcome. */
  readonly outagePuts: ReadonlyMap<string, number>;
  readonly healthyAfterRestartMilliseconds: number;
}

function maxTerm(statuses: readonly MemberStatus[]): bigint {
  return statuses.reduce(
    (term, item) =>
      item.status !== undefined && item.status.raftTerm > term ? item.status.raftTerm : term,
    0n,
  );
}

async function killOnce(cluster: ClusterUnderTest, writer: OpenLoopWriter): Promise<KillResult> {
  const leader = await cluster.waitForLeader(HEALTHY_LIMIT_MS);
  const termBefore = maxTerm(await cluster.statusAll());
  // The writer must be getting through before the kill, or the figure would include a
  // previous outage.
  const ready = await writer.firstSuccessSentAfter(performance.now(), RECOVERY_LIMIT_MS);
  if (ready === undefined) throw new Error('puts do not succeed before the kill');
  writer.mark();
  const killedAt = performance.now();
  writer.exclude(leader);
  await cluster.kill(leader);
  const first = await writer.firstSuccessSentAfter(killedAt, RECOVERY_LIMIT_MS);
  const newLeader = await cluster.leaderIndex();
  const termAfter = maxTerm(await cluster.statusAll());
  const restartedAt = performance.now();
  await cluster.restart(leader);
  await cluster.waitHealthy(leader, HEALTHY_LIMIT_MS);
  const healthyAfterRestartMilliseconds = performance.now() - restartedAt;
  writer.include(leader);
  // The fate of the puts issued during the outage (after the kill, before the first one that
  // succeeded): wait until each has had its deadline, then count them by outcome.
  const outageEnd = first?.sentAt ?? performance.now();
  const settledAt = outageEnd + PUT_TIMEOUT_MS + 500;
  if (performance.now() < settledAt) await sleep(settledAt - performance.now());
  const outagePuts = new Map<string, number>();
  for (const record of writer.records()) {
    if (record.sentAt < killedAt || record.sentAt >= outageEnd) continue;
    const kind =
      record.outcome.status === GRPC_STATUS_OK
        ? 'ok (late)'
        : `${record.outcome.status}: ${record.outcome.message}`;
    outagePuts.set(kind, (outagePuts.get(kind) ?? 0) + 1);
  }
  return {
    killed: leader,
    termBefore,
    unavailableMilliseconds: first === undefined ? Number.NaN : first.doneAt - killedAt,
    issuedAfterMilliseconds: first === undefined ? Number.NaN : first.sentAt - killedAt,
    newLeader,
    termAfter,
    outagePuts,
    healthyAfterRestartMilliseconds,
  };
}

function describeKill(number: number, result: KillResult): string {
  const outagePuts = [...result.outagePuts].map(([kind, count]) => `${count} x ${kind}`).join('; ');
  return (
    `kill ${number}: leader member ${result.killed} (term ${result.termBefore}) -> ` +
    (Number.isNaN(result.unavailableMilliseconds)
      ? `NO successful put within ${RECOVERY_LIMIT_MS} ms`
      : `${formatCount(result.unavailableMilliseconds)} ms unavailable (first good put issued ` +
        `at +${formatCount(result.issuedAfterMilliseconds)} ms)`) +
    `; new leader member ${result.newLeader}, term ${result.termAfter}; ` +
    `restarted member healthy after ${formatCount(result.healthyAfterRestartMilliseconds)} ms` +
    (outagePuts === '' ? '' : `; puts issued during the outage: ${outagePuts}`)
  );
}

interface SteadyResult {
  readonly minutes: number;
  readonly putsPerSecond: number;
  readonly p50Milliseconds: number;
  readonly p99Milliseconds: number;
  readonly maxMilliseconds: number;
  readonly failed: number;
  readonly failureKinds: ReadonlyMap<string, number>;
  /** Leader changes seen by polling, summed over members. */
  readonly polledLeaderChanges: number;
  readonly polledChangeLog: readonly string[];
  readonly termsBefore: string;
  readonly termsAfter: string;
  /** Per member: change of its own leader-changes counter over the phase (undefined: none). */
  readonly metricLeaderChanges: readonly (number | undefined)[];
  readonly polls: number;
  readonly unansweredPolls: number;
  /** CPU shares over the phase (1 = one core): members, this process, everything else. */
  readonly serverCpuShare: number;
  readonly clientCpuShare: number;
  readonly otherCpuShare: number;
}

function describeTerms(statuses: readonly MemberStatus[]): string {
  return statuses
    .map((item) => (item.status === undefined ? '?' : String(item.status.raftTerm)))
    .join('/');
}

async function steady(cluster: ClusterUnderTest): Promise<SteadyResult> {
  await cluster.waitForLeader(HEALTHY_LIMIT_MS);
  const leaderAddress = await cluster.leaderEndpoint();
  const members = cluster.clientEndpoints.map((_, index) => index);
  const metricsBefore = await Promise.all(members.map((index) => cluster.leaderChangesSeen(index)));
  const statusesBefore = await cluster.statusAll();
  const lastLeader = statusesBefore.map((item) => item.status?.leader ?? 0n);
  const changeLog: string[] = [];
  let polledLeaderChanges = 0;
  let polls = 0;
  let unansweredPolls = 0;
  let isLoadRunning = true;
  const started = performance.now();
  const poller = (async (): Promise<void> => {
    while (isLoadRunning) {
      await sleep(STATUS_POLL_MS);
      for (const item of await cluster.statusAll()) {
        polls++;
        if (item.status === undefined) {
          unansweredPolls++;
          continue;
        }
        const previous = lastLeader[item.index] ?? 0n;
        const leader = item.status.leader;
        if (leader !== 0n && leader !== previous) {
          if (previous !== 0n) {
            polledLeaderChanges++;
            changeLog.push(
              `+${((performance.now() - started) / 1000).toFixed(1)} s member ${item.index}: ` +
                `leader ${formatMemberId(previous)} -> ${formatMemberId(leader)}, term ` +
                `${item.status.raftTerm}`,
            );
          }
          lastLeader[item.index] = leader;
        }
      }
    }
  })();
  const pids = cluster.pids();
  const serverCpuBefore = cpuSecondsOf(pids);
  const clientCpuBefore = ownCpuSeconds();
  const machineBefore = machineBusySeconds();
  const target = new GrpcEndpoint(leaderAddress);
  const value = Buffer.alloc(VALUE_BYTES, 0x73);
  let load;
  try {
    load = await runClosedLoopLoad({
      targets: [target],
      concurrency: steadyClients,
      path: PUT_PATH,
      frameFor: () => encodePutFrame(benchmarkKey('steady/', randomBelow(STEADY_KEY_SPACE)), value),
      warmUpSeconds: 0,
      seconds: steadyMinutes * 60,
      timeoutMs: PUT_TIMEOUT_MS,
    });
  } finally {
    isLoadRunning = false;
    await poller;
    target.close();
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const serverCpu = cpuSecondsOf(pids) - serverCpuBefore;
  const clientCpu = ownCpuSeconds() - clientCpuBefore;
  const otherCpu = Math.max(0, machineBusySeconds() - machineBefore - serverCpu - clientCpu);
  const statusesAfter = await cluster.statusAll();
  const metricsAfter = await Promise.all(members.map((index) => cluster.leaderChangesSeen(index)));
  return {
    minutes: steadyMinutes,
    putsPerSecond: load.perSecond,
    p50Milliseconds: load.p50Milliseconds,
    p99Milliseconds: load.p99Milliseconds,
    maxMilliseconds: load.maxMilliseconds,
    failed: load.failed,
    failureKinds: load.failureKinds,
    polledLeaderChanges,
    polledChangeLog: changeLog,
    termsBefore: describeTerms(statusesBefore),
    termsAfter: describeTerms(statusesAfter),
    metricLeaderChanges: members.map((index) => {
      const before = metricsBefore[index];
      const after = metricsAfter[index];
      return before === undefined || after === undefined ? undefined : after - before;
    }),
    polls,
    unansweredPolls,
    serverCpuShare: serverCpu / wallSeconds,
    clientCpuShare: clientCpu / wallSeconds,
    otherCpuShare: otherCpu / wallSeconds,
  };
}

function describeSteady(result: SteadyResult): string[] {
  const failures = [...result.failureKinds].map(([kind, count]) => `${count} x ${kind}`);
  return [
    `steady ${result.minutes} min, ${steadyClients} clients putting to the leader: ` +
      `${formatCount(result.putsPerSecond)} puts/s, p50 ${formatMilliseconds(result.p50Milliseconds)} ms, ` +
      `p99 ${formatMilliseconds(result.p99Milliseconds)} ms, max ${formatMilliseconds(result.maxMilliseconds)} ms, ` +
      `${result.failed} failed` +
      (failures.length > 0 ? ` (${failures.join('; ')})` : '') +
      `; CPU: servers ${percent(result.serverCpuShare)}, client ${percent(result.clientCpuShare)}, ` +
      `others ${percent(result.otherCpuShare)}`,
    `leader changes seen by polling Status every ${STATUS_POLL_MS} ms: ${result.polledLeaderChanges} ` +
      `(terms ${result.termsBefore} -> ${result.termsAfter}; ${result.polls} polls, ` +
      `${result.unansweredPolls} unanswered)`,
    ...result.polledChangeLog.map((line) => `  ${line}`),
    `leader changes by each member's own /metrics counter: ` +
      result.metricLeaderChanges
        .map((count) => (count === undefined ? 'n/a' : String(count)))
        .join('/'),
  ];
}

interface SystemResult {
  readonly name: SystemName;
  readonly kills: KillResult[];
  steady?: SteadyResult;
  error?: string;
}

async function benchSystem(name: SystemName): Promise<SystemResult> {
  const cluster = createCluster(name);
  const result: SystemResult = { name, kills: [] };
  let writer: OpenLoopWriter | undefined;
  try {
    console.log(`\n${name} ${await cluster.version()}: starting 3 members`);
    await cluster.start();
    console.log(
      `${name}: members ${cluster.clientEndpoints.join(', ')}, PIDs ${cluster.pids().join(', ')}`,
    );
    if (killCount > 0) {
      writer = new OpenLoopWriter(cluster.clientEndpoints);
      writer.start();
      for (let kill = 1; kill <= killCount; kill++) {
        const killResult = await killOnce(cluster, writer);
        result.kills.push(killResult);
        console.log(`${name} ${describeKill(kill, killResult)}`);
      }
      await writer.stop();
      writer = undefined;
      const figures = result.kills.map((kill) => kill.unavailableMilliseconds);
      console.log(
        `${name} failover over ${figures.length} kills: ` +
          `${figures.map((ms) => formatCount(ms)).join(', ')} ms; median ` +
          `${formatCount(median(figures))} ms, max ${formatCount(Math.max(...figures))} ms`,
      );
    }
    if (steadyMinutes > 0) {
      console.log(`${name}: steady phase, ${steadyMinutes} min`);
      result.steady = await steady(cluster);
      for (const line of describeSteady(result.steady)) console.log(`${name} ${line}`);
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    console.error(`${name}: FAILED: ${result.error}`);
  } finally {
    await writer?.stop();
    await cluster.stop();
  }
  return result;
}

function printSummary(results: readonly SystemResult[]): void {
  console.log(
    '\n| system | kills | unavailable median ms | max ms | steady puts/s | leader changes (polled) | leader changes (metrics, per member) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const result of results) {
    const figures = result.kills.map((kill) => kill.unavailableMilliseconds);
    const steadyResult = result.steady;
    console.log(
      `| ${result.name}${result.error === undefined ? '' : ' (FAILED)'} | ${figures.length} | ` +
        `${figures.length === 0 ? '-' : formatCount(median(figures))} | ` +
        `${figures.length === 0 ? '-' : formatCount(Math.max(...figures))} | ` +
        `${steadyResult === undefined ? '-' : formatCount(steadyResult.putsPerSecond)} | ` +
        `${steadyResult === undefined ? '-' : steadyResult.polledLeaderChanges} | ` +
        `${steadyResult === undefined ? '-' : steadyResult.metricLeaderChanges.map((count) => count ?? 'n/a').join('/')} |`,
    );
  }
}

async function main(): Promise<void> {
  console.log(`bench:failover: ${systems.join(' then ')}, one at a time`);
  for (const line of await describeMachine()) console.log(line);
  console.log(
    `${killCount} leader kills (SIGKILL) under one put every ${intervalMs} ms, round-robin over ` +
      `the live members, ${PUT_TIMEOUT_MS} ms deadline; steady: ${steadyMinutes} min of ` +
      `${steadyClients} clients`,
  );
  const results: SystemResult[] = [];
  for (const name of systems) results.push(await benchSystem(name));
  printSummary(results);
  const isClean = results.every(
    (result) =>
      result.error === undefined &&
      result.kills.every((kill) => !Number.isNaN(kill.unavailableMilliseconds)),
  );
  if (!isClean) process.exitCode = 1;
}

await main();
