/**
 * `raftkv operator [FLAGS]`: runs the operator in the foreground, the same program as the
 * image's `node dist/operator/main.js` (`--platform=local` runs it against a local cluster
 * directory instead of Kubernetes).
 */
import { operatorHelp, runOperatorMain } from '../operator/index.js';
import type { Command, ExitCode } from './command.js';

/** `raftkv operator`. */
export const OPERATOR_COMMAND: Command = {
  words: ['operator'],
  synopsis: 'operator [FLAGS]',
  summary: 'run the operator (Kubernetes, or --platform=local)',
  help: operatorHelp(),
  run: async (commandArguments) =>
    (await runOperatorMain(commandArguments, process.env)) as ExitCode,
};
