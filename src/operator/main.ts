#!/usr/bin/env node
/**
 * `raftkv-operator` (`node dist/operator/main.js` in the image, `raftkv operator` in the CLI):
 * parses flags and environment, builds the process's only logger and metrics registry, the
 * platform's runtime, and runs the operator until SIGTERM/SIGINT (exit 0) or a lost Lease
 * (exit 1). Usage errors exit 2.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

import type { Logger } from '../common/index.js';
import { createOperatorMetrics } from '../metrics/index.js';
import { acquireLocalOperatorLock } from './local-operator-lock.js';
import { localRuntime } from './local-runtime.js';
import {
  operatorHelp,
  type OperatorOptions,
  OperatorUsageError,
  parseOperatorOptions,
} from './operator-options.js';
import { type OperatorRuntime, runOperator } from './operator-runner.js';

function createLogger(options: OperatorOptions): PinoLogger {
  const settings = { level: options.logLevel, base: { component: 'raftkv-operator' } };
  if (options.logFormat === 'pretty') {
    return pino(settings, pretty({ colorize: process.stdout.isTTY, sync: true }));
  }
  return pino(settings);
}

function asLogger(logger: PinoLogger): Logger {
  return {
    debug: (fields, message) => logger.debug(fields, message),
    info: (fields, message) => logger.info(fields, message),
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
  };
}

/** Runs the operator; resolves with the exit code. */
export async function runOperatorMain(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  if (argv.some((argument) => argument === '--help' || argument === '-h')) {
    process.stdout.write(`${operatorHelp()}\n`);
    return 0;
  }
  let options: OperatorOptions;
  try {
    options = parseOperatorOptions(argv, env);
  } catch (error) {
    if (!(error instanceof OperatorUsageError)) throw error;
    process.stderr.write(`raftkv-operator: ${error.message}\n${error.remedy}\n`);
    return 2;
  }
  const logger = asLogger(createLogger(options));
  const metrics = createOperatorMetrics({ isProcessMetricsEnabled: true });
  let runtime: OperatorRuntime;
  let release = async (): Promise<void> => undefined;
  if (options.platform === 'local') {
    release = await acquireLocalOperatorLock(options.dataDir);
    runtime = localRuntime(options, logger);
  } else {
    const { kubernetesRuntime } = await import('./kubernetes-runtime.js');
    runtime = await kubernetesRuntime(options, logger, env);
  }
  try {
    return await runOperator({ options, runtime, logger, metrics });
  } finally {
    await release();
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runOperatorMain(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`raftkv-operator: unexpected error ${String(error)}\n`);
      process.exit(70);
    },
  );
}
