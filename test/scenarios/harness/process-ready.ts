/**
 * `process-ready ID...`: handles one Ready of each named node the way ready.ts orders it:
 * persist the snapshot, the entries and the hard state (a durable copy is taken when the Ready
 * asks for an fsync), put the messages in the node's outbox (never delivered here), apply the
 * committed entries to the node's state machine, then `advance()`. Also exports that routine
 * for `stabilize`.
 */
import type { Ready } from '../../../src/raft/index.js';
import { type CommandLine, CommandError, positionalIds } from './command-line.js';
import type { InteractionEnv, ScenarioNode } from './interaction-env.js';
import {
  renderEntry,
  renderHardState,
  renderMessage,
  renderReadState,
  renderSnapshot,
  renderSoftState,
} from './render.js';

function writeSection(env: InteractionEnv, title: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  env.trace(`${title}:`);
  env.indented(() => lines.forEach((line) => env.trace(line)));
}

function writeReady(env: InteractionEnv, ready: Ready): void {
  if (ready.softState !== null) env.trace(`softState ${renderSoftState(ready.softState)}`);
  if (ready.hardState !== null) env.trace(`hardState ${renderHardState(ready.hardState)}`);
  if (ready.snapshot !== null) env.trace(`snapshot ${renderSnapshot(ready.snapshot)}`);
  writeSection(env, 'entries', ready.entries.map(renderEntry));
  writeSection(env, 'messages', ready.messages.map(renderMessage));
  writeSection(env, 'committed', ready.committedEntries.map(renderEntry));
  writeSection(env, 'readStates', ready.readStates.map(renderReadState));
}

/** Persists what the Ready asks to persist; an fsync makes everything written so far durable. */
function persist(node: ScenarioNode, ready: Ready): void {
  if (ready.snapshot !== null) {
    node.storage.applySnapshot(ready.snapshot);
    node.stateMachine.restore(ready.snapshot.data);
  }
  node.storage.append(ready.entries);
  if (ready.hardState !== null) node.storage.setHardState(ready.hardState);
  if (ready.mustSync) node.durable = node.storage.clone();
}

/** Handles one Ready of a running node that has one, writing it to the transcript. */
export function handleReady(env: InteractionEnv, node: ScenarioNode): void {
  const rawNode = node.rawNode;
  if (rawNode === null) throw new CommandError(`node ${node.id} is crashed`);
  const ready = rawNode.ready();
  env.trace(`> ${node.id} handling Ready${ready.mustSync ? ' (fsync)' : ''}`);
  env.indented(() => {
    writeReady(env, ready);
    persist(node, ready);
    env.outboxes.get(node.id)?.push(...ready.messages);
    for (const entry of ready.committedEntries) node.stateMachine.apply(entry);
    rawNode.advance();
  });
}

/** The command handler. Without ids, every running node. */
export function processReady(env: InteractionEnv, command: CommandLine): void {
  const ids =
    command.positional.length === 0
      ? env.ids().filter((id) => env.node(id).rawNode !== null)
      : positionalIds(command);
  for (const id of ids) {
    const node = env.node(id);
    if (node.rawNode === null) throw new CommandError(`node ${id} is crashed`);
    if (node.rawNode.hasReady()) handleReady(env, node);
    else env.write(`> ${id} has no Ready`);
  }
}
