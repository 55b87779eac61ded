/**
 * `raft-log ID`: what node ID has written to its storage: the snapshot, every stored entry and
 * the hard state.
 */
import { type CommandLine, requireInteger } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { renderEntry, renderHardState, renderSnapshot } from './render.js';

/** The command handler. */
export function raftLog(env: InteractionEnv, command: CommandLine): void {
  const { storage } = env.node(requireInteger(command, 0, 'node id'));
  env.write(`snapshot ${renderSnapshot(storage.snapshot())}`);
  const entries = storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Infinity);
  if (entries !== 'compacted') for (const entry of entries) env.write(renderEntry(entry));
  env.write(`hardState ${renderHardState(storage.initialState().hardState)}`);
}
