/**
 * `deliver-msgs [ID...] [from=(ID,...)] [drop=(ID,...)]`: delivers the messages waiting in the
 * outboxes to the named targets, and discards those to the `drop=` targets; with neither, it
 * delivers to every target. `from=` limits both to messages sent by those ids. A message across a partition,
 * or to a crashed or unknown node, is lost on the way. Messages to one target arrive ordered by
 * sender id, each sender's in sending order; messages not selected stay waiting. Also exports
 * the delivery routine for `stabilize`.
 */
import type { NodeId } from '../../../src/common/index.js';
import type { Message } from '../../../src/raft/index.js';
import { type CommandLine, checkNamedKeys, namedIds, positionalIds } from './command-line.js';
import type { InteractionEnv } from './interaction-env.js';
import { renderMessage } from './render.js';

/** Removes and returns the messages to `to` from the selected senders, by sender id. */
function takeMessagesTo(
  env: InteractionEnv,
  to: NodeId,
  senders: ReadonlySet<NodeId> | null,
): Message[] {
  const taken: Message[] = [];
  const senderIds = [...env.outboxes.keys()].sort((a, b) => a - b);
  for (const sender of senderIds) {
    if (senders !== null && !senders.has(sender)) continue;
    const outbox = env.outboxes.get(sender) ?? [];
    taken.push(...outbox.filter((message) => message.to === to));
    env.outboxes.set(
      sender,
      outbox.filter((message) => message.to !== to),
    );
  }
  return taken;
}

/** Why a message does not arrive, or null if it does. */
function lossReason(env: InteractionEnv, message: Message, isDropped: boolean): string | null {
  if (isDropped) return 'dropped';
  const target = env.nodes.get(message.to);
  if (target === undefined) return `dropped: no node ${message.to}`;
  if (target.rawNode === null) return `dropped: ${message.to} is crashed`;
  if (!env.isConnected(message.from, message.to)) return 'dropped: partitioned';
  return null;
}

/**
 * Delivers (or loses) every message to `to` from the selected senders (all when null).
 * Returns whether there was any.
 */
export function deliverTo(
  env: InteractionEnv,
  to: NodeId,
  isDropped: boolean,
  senders: ReadonlySet<NodeId> | null = null,
): boolean {
  const messages = takeMessagesTo(env, to, senders);
  if (messages.length === 0) return false;
  env.trace(`> ${to} receiving messages`);
  env.indented(() => {
    for (const message of messages) {
      const reason = lossReason(env, message, isDropped);
      env.trace(renderMessage(message) + (reason === null ? '' : ` (${reason})`));
      if (reason !== null) continue;
      env.indented(() => env.rawNode(to).step(message));
    }
  });
  return true;
}

/** Every target id that has messages waiting, ascending. */
export function pendingTargets(env: InteractionEnv): NodeId[] {
  const targets = new Set<NodeId>();
  for (const outbox of env.outboxes.values()) {
    for (const message of outbox) targets.add(message.to);
  }
  return [...targets].sort((a, b) => a - b);
}

/** The command handler. */
export function deliverMsgs(env: InteractionEnv, command: CommandLine): void {
  checkNamedKeys(command, ['drop', 'from']);
  const only = positionalIds(command);
  const dropped = new Set(namedIds(command, 'drop'));
  const senders = command.named.has('from') ? new Set(namedIds(command, 'from')) : null;
  let isAnyDelivered = false;
  for (const to of pendingTargets(env)) {
    const isDropped = dropped.has(to);
    const isDelivered = only.includes(to) || (only.length === 0 && dropped.size === 0);
    if (!isDropped && !isDelivered) continue;
    isAnyDelivered = deliverTo(env, to, isDropped, senders) || isAnyDelivered;
  }
  if (!isAnyDelivered) env.write('no messages');
}
