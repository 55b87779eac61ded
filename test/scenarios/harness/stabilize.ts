/**
 * `stabilize [ID...]`: repeats rounds of "every running node handles one Ready, then every
 * waiting message is delivered" until a round does nothing. With ids, only those nodes handle
 * Readies and only messages to them are delivered; the rest stay pending. Messages across a
 * partition or to a crashed node are lost and shown as such.
 */
import type { NodeId } from '../../../src/common/index.js';
import { type CommandLine, CommandError, positionalIds } from './command-line.js';
import { deliverTo, pendingTargets } from './deliver-msgs.js';
import type { InteractionEnv } from './interaction-env.js';
import { handleReady } from './process-ready.js';

/** A scenario that has not settled after this many rounds is livelocked: stop with an error. */
const STABILIZE_ROUNDS_MAX = 200;

function runRound(env: InteractionEnv, ids: readonly NodeId[]): boolean {
  let isActive = false;
  for (const id of ids) {
    const node = env.node(id);
    if (node.rawNode === null || !node.rawNode.hasReady()) continue;
    handleReady(env, node);
    isActive = true;
  }
  for (const to of pendingTargets(env)) {
    if (!ids.includes(to) && env.nodes.has(to)) continue;
    isActive = deliverTo(env, to, false) || isActive;
  }
  return isActive;
}

/** The command handler. */
export function stabilize(env: InteractionEnv, command: CommandLine): void {
  const ids = command.positional.length === 0 ? env.ids() : positionalIds(command);
  for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
    if (!runRound(env, ids)) return;
  }
  throw new CommandError(`not stable after ${STABILIZE_ROUNDS_MAX} rounds`);
}
