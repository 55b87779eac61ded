/**
 * `crash ID`: stops node ID abruptly. Its storage falls back to what the last fsync made
 * durable (writes of Readies that did not ask for an fsync are lost), its state machine and all
 * volatile core state are gone. Messages it already sent stay on the network; messages to it
 * are lost until it restarts.
 */
import { renderHardState } from './render.js';
import { type CommandLine, requireInteger } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** The command handler. */
export function crash(env: InteractionEnv, command: CommandLine): void {
  const id = requireInteger(command, 0, 'node id');
  env.rawNode(id); // Throws unless the node is running.
  const node = env.node(id);
  const written = node.storage.initialState().hardState;
  const durable = node.durable.initialState().hardState;
  node.rawNode = null;
  node.storage = node.durable.clone();
  if (renderHardState(written) !== renderHardState(durable)) {
    env.write(`lost unsynced hardState ${renderHardState(written)}`);
    env.write(`durable hardState ${renderHardState(durable)}`);
  }
}
