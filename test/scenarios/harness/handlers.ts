/**
 * The command table: every command a scenario file may use, mapped to its handler (one file per
 * command, named after it).
 */
import { addNodes } from './add-nodes.js';
import { campaign } from './campaign.js';
import { compact } from './compact.js';
import { crash } from './crash.js';
import { deliverMsgs } from './deliver-msgs.js';
import { heal } from './heal.js';
import type { Handler } from './interaction-env.js';
import { isolate } from './isolate.js';
import { logLevel } from './log-level.js';
import { partition } from './partition.js';
import { processReady } from './process-ready.js';
import { proposeConfChange } from './propose-conf-change.js';
import { propose } from './propose.js';
import { raftLog } from './raft-log.js';
import { readIndex } from './read-index.js';
import { restart } from './restart.js';
import { stabilize } from './stabilize.js';
import { status } from './status.js';
import { tickElection } from './tick-election.js';
import { tickHeartbeat } from './tick-heartbeat.js';
import { tick } from './tick.js';
import { transferLeadership } from './transfer-leadership.js';

/** Command name to handler. */
export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['add-nodes', addNodes],
  ['campaign', campaign],
  ['compact', compact],
  ['crash', crash],
  ['deliver-msgs', deliverMsgs],
  ['heal', heal],
  ['isolate', isolate],
  ['log-level', logLevel],
  ['partition', partition],
  ['process-ready', processReady],
  ['propose', propose],
  ['propose-conf-change', proposeConfChange],
  ['raft-log', raftLog],
  ['read-index', readIndex],
  ['restart', restart],
  ['stabilize', stabilize],
  ['status', status],
  ['tick', tick],
  ['tick-election', tickElection],
  ['tick-heartbeat', tickHeartbeat],
  ['transfer-leadership', transferLeadership],
]);
