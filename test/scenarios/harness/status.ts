/**
 * `status [ID...]`: each node's role, term, vote, leader, commit and applied indexes, log range
 * and membership; on the leader one line per member's replication progress; and the commands
 * its state machine applied. Without ids, every node.
 */
import { type CommandLine, positionalIds } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { renderStatus } from './render.js';

/** The command handler. */
export function status(env: InteractionEnv, command: CommandLine): void {
  const ids = command.positional.length === 0 ? env.ids() : positionalIds(command);
  for (const id of ids) {
    const node = env.node(id);
    if (node.rawNode === null) {
      env.write(`${id}: crashed`);
      continue;
    }
    for (const line of renderStatus(node.rawNode.status())) env.write(line);
    env.write(`  applied ${node.stateMachine.describe()}`);
  }
}
