/**
 * `compact ID INDEX`: node ID snapshots its state machine at INDEX, which must be its applied
 * index (the membership in force there is `status().configuration`), and drops the log up to it,
 * in its storage and in the durable copy alike (a snapshot is written durably).
 */
import { type CommandLine, CommandError, requireInteger } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { renderSnapshot } from './render.js';

/** The command handler. */
export function compact(env: InteractionEnv, command: CommandLine): void {
  const id = requireInteger(command, 0, 'node id');
  const index = requireInteger(command, 1, 'index');
  const node = env.node(id);
  const status = env.rawNode(id).status();
  if (index !== status.appliedIndex) {
    throw new CommandError(`compact: ${index} is not the applied index ${status.appliedIndex}`);
  }
  if (node.durable.lastIndex() < index) {
    throw new CommandError(`compact: entry ${index} is not durable`);
  }
  const data = node.stateMachine.snapshotData();
  const snapshot = node.storage.createSnapshot(index, status.configuration, data);
  node.durable.createSnapshot(index, status.configuration, data);
  const log = `[${node.storage.firstIndex()},${node.storage.lastIndex()}]`;
  env.write(`snapshot ${renderSnapshot(snapshot)} log=${log}`);
}
