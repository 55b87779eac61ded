/**
 * `campaign ID`: the node starts an election now (a pre-vote round first if enabled), as when
 * its election timer fires. The requests wait in the next Ready.
 */
import { type CommandLine, requireInteger } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** The command handler. */
export function campaign(env: InteractionEnv, command: CommandLine): void {
  env.rawNode(requireInteger(command, 0, 'node id')).campaign();
}
