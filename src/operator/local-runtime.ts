/**
 * The operator's runtime on the local platform: the cluster directory's resource as the source,
 * real `raftkv serve` processes as pods, and a lock file instead of a Lease (one local operator
 * per directory; a killed one is replaced at once, its pods adopted).
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Logger } from '../common/index.js';
import { LocalClusterSource } from './local-cluster-source.js';
import { LocalPlatform, type LocalPlatformOptions } from './local-platform.js';
import type { OperatorOptions } from './operator-options.js';
import type { OperatorRuntime } from './operator-runner.js';

/**
 * The `raftkv` CLI entry the pods run: `src/cli/main.ts` (through tsx) next to this source, or
 * `dist/cli/main.js` next to this build. Computed, not imported: the operator may not import the
 * CLI module.
 */
export function cliEntryCommand(): { readonly file: string; readonly args: readonly string[] } {
  const here = fileURLToPath(import.meta.url);
  const isSource = here.endsWith('.ts');
  const main = path.join(path.dirname(here), '..', 'cli', isSource ? 'main.ts' : 'main.js');
  return { file: process.execPath, args: isSource ? ['--import', 'tsx', main] : [main] };
}

/** Builds the local runtime for `options.dataDir`. */
export function localRuntime(
  options: OperatorOptions,
  logger: Logger,
  extra: Pick<LocalPlatformOptions, 'onEvent' | 'gracePeriodMs'> = {},
): OperatorRuntime & { readonly platform: LocalPlatform } {
  const root = path.resolve(options.dataDir);
  const platform = new LocalPlatform({
    root,
    ports: {
      clientPortBase: options.clientPortBase,
      peerPortBase: options.peerPortBase,
      httpPortBase: options.httpPortBase,
      stride: options.portStride,
    },
    nodeCommand: cliEntryCommand(),
    extraArgs: options.nodeArguments,
    logger,
    ...extra,
  });
  return {
    platform,
    source: new LocalClusterSource({ root, logger }),
    leaseStore: null,
    identity: `local-${process.pid}-${randomUUID().slice(0, 8)}`,
  };
}

/** The name of the cluster `raftkv local start` creates (its members are raftkv-0, raftkv-1...). */
export const LOCAL_CLUSTER_NAME = 'raftkv';
