/**
 * `propose-conf-change ID [add-voter=..] [add-learner=..] [remove=..] [leave-joint]`: proposes
 * one membership change on node ID. Each argument (a single id or a list) adds steps in the
 * order written, so `add-voter=4 remove=1` is one change that replaces 1 by 4. `leave-joint`
 * alone proposes the empty change that leaves a joint configuration.
 */
import type { MembershipChange } from '../../../src/raft/index.js';
import {
  type CommandLine,
  CommandError,
  checkNamedKeys,
  parsePositiveInteger,
  requireInteger,
} from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { renderRequestResult } from './render.js';

const STEP_KINDS: Readonly<Record<string, MembershipChange['kind']>> = {
  'add-voter': 'addVoter',
  'add-learner': 'addLearner',
  remove: 'removeNode',
};

/** The command handler. */
export function proposeConfChange(env: InteractionEnv, command: CommandLine): void {
  checkNamedKeys(command, Object.keys(STEP_KINDS));
  const rawNode = env.rawNode(requireInteger(command, 0, 'node id'));
  const isLeaveJoint = command.positional[1] === 'leave-joint';
  if (command.positional.length > (isLeaveJoint ? 2 : 1)) {
    throw new CommandError(`unexpected argument "${command.positional.at(-1) ?? ''}"`);
  }
  const changes: MembershipChange[] = [];
  for (const [key, values] of command.namedInOrder) {
    const kind = STEP_KINDS[key] as MembershipChange['kind'];
    for (const value of values) changes.push({ kind, nodeId: parsePositiveInteger(value, key) });
  }
  if (isLeaveJoint === changes.length > 0) {
    throw new CommandError('give either membership steps or leave-joint');
  }
  env.write(renderRequestResult(rawNode.proposeConfChange({ changes })));
}
