/**
 * `heal`: removes the partition; messages sent from now on (and those still waiting) arrive.
 */
import type { CommandLine } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** The command handler. */
export function heal(env: InteractionEnv, _command: CommandLine): void {
  env.partitionGroups = null;
}
