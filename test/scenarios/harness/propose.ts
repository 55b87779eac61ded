/**
 * `propose ID DATA`: proposes a command on node ID and prints the core's answer (appended at
 * term/index, forwarded to the leader, or dropped with its reason).
 */
import { type CommandLine, requireInteger, requirePositional } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { renderRequestResult } from './render.js';

const encoder = new TextEncoder();

/** The command handler. */
export function propose(env: InteractionEnv, command: CommandLine): void {
  const rawNode = env.rawNode(requireInteger(command, 0, 'node id'));
  const data = requirePositional(command, 1, 'data');
  env.write(renderRequestResult(rawNode.propose(encoder.encode(data))));
}
