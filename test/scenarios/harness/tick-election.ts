/**
 * `tick-election ID...`: advances the named nodes' clocks together, one tick each per round,
 * until an election timer fires. If every named node leads, they tick exactly one base election
 * timeout (one CheckQuorum round, and a heartbeat every heartbeat interval). Otherwise they tick
 * until some named node changes role or term, at most twice the base timeout (the randomized
 * timeout lies in [base, 2*base)); nodes that cannot campaign just tick that long. Ticking
 * several nodes together is how real clocks behave: a follower whose timer fires first finds
 * the others out of their leader lease too.
 */
import type { NodeId } from '../../../src/common/index.js';
import { ELECTION_TIMEOUT_TICKS_DEFAULT, type RawNode } from '../../../src/raft/index.js';
import { type CommandLine, CommandError, positionalIds } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

function baseTimeoutTicks(env: InteractionEnv, ids: readonly NodeId[]): number {
  const timeouts = ids.map(
    (id) => env.node(id).settings.electionTimeoutTicks ?? ELECTION_TIMEOUT_TICKS_DEFAULT,
  );
  return Math.max(...timeouts);
}

function roleAndTerm(rawNode: RawNode): string {
  const status = rawNode.status();
  return `${status.role}/${status.term}`;
}

/** The command handler. */
export function tickElection(env: InteractionEnv, command: CommandLine): void {
  if (command.positional.length === 0) throw new CommandError('tick-election needs node ids');
  const ids = positionalIds(command);
  const rawNodes = ids.map((id) => env.rawNode(id));
  const baseTicks = baseTimeoutTicks(env, ids);
  if (rawNodes.every((rawNode) => rawNode.status().role === 'leader')) {
    for (let tick = 0; tick < baseTicks; tick++) rawNodes.forEach((rawNode) => rawNode.tick());
    return;
  }
  const before = rawNodes.map(roleAndTerm);
  for (let tick = 0; tick < 2 * baseTicks; tick++) {
    rawNodes.forEach((rawNode) => rawNode.tick());
    if (rawNodes.some((rawNode, position) => roleAndTerm(rawNode) !== before[position])) return;
  }
}
