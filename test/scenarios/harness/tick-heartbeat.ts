/**
 * `tick-heartbeat ID`: ticks node ID for one heartbeat interval, so a leader queues one round of
 * heartbeats.
 */
import { HEARTBEAT_INTERVAL_TICKS_DEFAULT } from '../../../src/raft/index.js';
import { type CommandLine, requireInteger } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { tickNode } from './tick.js';

/** The command handler. */
export function tickHeartbeat(env: InteractionEnv, command: CommandLine): void {
  const id = requireInteger(command, 0, 'node id');
  const ticks = env.node(id).settings.heartbeatIntervalTicks ?? HEARTBEAT_INTERVAL_TICKS_DEFAULT;
  tickNode(env, id, ticks);
}
