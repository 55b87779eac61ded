/**
 * `isolate ID`: cuts node ID off from every other node (a partition of ID against the rest).
 */
import { type CommandLine, requireInteger } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** The command handler. */
export function isolate(env: InteractionEnv, command: CommandLine): void {
  const id = requireInteger(command, 0, 'node id');
  env.node(id);
  env.partitionGroups = new Map([[id, 1]]);
}
