/**
 * `transfer-leadership FROM TO`: asks leader FROM to hand leadership to TO and prints whether
 * the transfer started or why it was rejected.
 */
import { type CommandLine, requireInteger } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';

/** The command handler. */
export function transferLeadership(env: InteractionEnv, command: CommandLine): void {
  const rawNode = env.rawNode(requireInteger(command, 0, 'leader id'));
  const result = rawNode.transferLeadership(requireInteger(command, 1, 'target id'));
  env.write(
    result.kind === 'started'
      ? `transfer started target=${result.targetId}`
      : `transfer rejected reason=${result.reason}`,
  );
}
