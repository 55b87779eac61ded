/**
 * `partition (1,2) (3)`: splits the network into the listed groups; nodes not listed form one
 * more group together. Messages between groups are lost when delivered. Replaces any earlier
 * partition.
 */
import { type CommandLine, CommandError, parseIdList } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** The command handler. */
export function partition(env: InteractionEnv, command: CommandLine): void {
  const groups = new Map<number, number>();
  command.positional.forEach((group, position) => {
    if (!group.startsWith('(') || !group.endsWith(')')) {
      throw new CommandError(`partition groups look like (1,2), got "${group}"`);
    }
    for (const id of parseIdList(group)) {
      if (groups.has(id)) throw new CommandError(`node ${id} is in two groups`);
      groups.set(id, position + 1);
    }
  });
  if (groups.size === 0) throw new CommandError('partition needs at least one group');
  env.partitionGroups = groups;
}
