/**
 * `tick ID [COUNT]` or `tick (ID,ID,...) [COUNT]`: advances the clocks of the named nodes by
 * COUNT ticks (default 1), together, one tick each per round. Whatever the ticks cause
 * (heartbeats, a campaign) waits in the next Ready; log lines print here.
 */
import type { NodeId } from '../../../src/common/index.js';
import {
  type CommandLine,
  parseIdList,
  parsePositiveInteger,
  requirePositional,
} from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** Ticks one node `count` times. */
export function tickNode(env: InteractionEnv, id: NodeId, count: number): void {
  const rawNode = env.rawNode(id);
  for (let tick = 0; tick < count; tick++) rawNode.tick();
}

/** The command handler. */
export function tick(env: InteractionEnv, command: CommandLine): void {
  const rawNodes = parseIdList(requirePositional(command, 0, 'node id')).map((id) =>
    env.rawNode(id),
  );
  const countText = command.positional[1];
  const count = countText === undefined ? 1 : parsePositiveInteger(countText, 'tick count');
  for (let tick = 0; tick < count; tick++) rawNodes.forEach((rawNode) => rawNode.tick());
}
