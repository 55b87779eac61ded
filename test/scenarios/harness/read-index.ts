/**
 * `read-index ID CONTEXT`: asks node ID for a linearizable read tagged CONTEXT and prints the
 * immediate answer (pending, forwarded, dropped); the confirmed read shows up later in a Ready's
 * readStates.
 */
import { type CommandLine, requireInteger, requirePositional } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { renderRequestResult } from './render.js';

/** The command handler. */
export function readIndex(env: InteractionEnv, command: CommandLine): void {
  const rawNode = env.rawNode(requireInteger(command, 0, 'node id'));
  const readContext = requirePositional(command, 1, 'read context');
  env.write(renderRequestResult(rawNode.readIndex(readContext)));
}
