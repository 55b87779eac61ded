/**
 * Runs one scenario file in a fresh environment and renders it again with the actual outputs.
 * A failing command (bad arguments, or an assertion inside the core) prints `error: ...` as its
 * output and the scenario goes on, so a transcript shows exactly where and how things broke.
 */
import { CommandError, parseCommandLine } from './command-line.js';
import { HANDLERS } from './handlers.js';
import { InteractionEnv } from './interaction-env.js';
import { parseScenarioFile, renderScenarioFile, type ScenarioBlock } from './scenario-file.js';

function describeError(error: unknown): string {
  if (error instanceof CommandError) return `error: ${error.message}`;
  if (error instanceof Error) return `error: ${error.name}: ${error.message}`;
  return `error: ${String(error)}`;
}

/** Runs one block; returns its output, `ok` when it printed nothing. */
function runBlock(env: InteractionEnv, block: ScenarioBlock): string {
  try {
    const command = parseCommandLine(block.command);
    const handler = HANDLERS.get(command.name);
    if (handler === undefined) throw new CommandError(`unknown command "${command.name}"`);
    handler(env, command);
  } catch (error) {
    env.write(describeError(error));
  }
  const lines = env.takeOutput().filter((line) => line.trim() !== '');
  return lines.length === 0 ? 'ok' : lines.join('\n');
}

/** Runs every block of `text` in order and returns the file rendered with actual outputs. */
export function runScenario(text: string): string {
  const file = parseScenarioFile(text);
  const env = new InteractionEnv();
  const outputs = file.blocks.map((block) => runBlock(env, block));
  return renderScenarioFile(file, outputs);
}
