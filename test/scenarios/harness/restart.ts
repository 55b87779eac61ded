/**
 * `restart ID [applied=N]`: starts a crashed node again from its durable storage, with a fresh
 * state machine restored from the stored snapshot (committed entries after it are applied again
 * as the core hands them out) and the same seeded PRNG as at first start. With `applied=N` the
 * shell instead claims a durable state machine that had applied up to N, and passes that to
 * the core as `RaftOptions.appliedIndex`.
 */
import {
  type CommandLine,
  CommandError,
  checkNamedKeys,
  namedValue,
  parsePositiveInteger,
  requireInteger,
} from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** The command handler. */
export function restart(env: InteractionEnv, command: CommandLine): void {
  const node = env.node(requireInteger(command, 0, 'node id'));
  if (node.rawNode !== null) throw new CommandError(`node ${node.id} is running; crash it first`);
  checkNamedKeys(command, ['applied']);
  const appliedText = namedValue(command, 'applied');
  // `crash` already put the node back on its durable storage.
  const appliedIndex =
    appliedText === undefined ? undefined : parsePositiveInteger(appliedText, 'applied');
  env.startNode(node, appliedIndex);
}
