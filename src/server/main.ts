/**
 * `raftkv serve`: the entry point of a member process. Parses flags and environment, builds the
 * process's only logger (pino) and metrics registry, derives the identity, starts the member and
 * stops it on SIGTERM or SIGINT (leadership handed over first), exiting 0 within the shutdown
 * timeout. Fatal errors exit 1 after the log is flushed.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

import type { Logger } from '../common/index.js';
import { createNodeMetrics } from '../metrics/index.js';
import { parseNodeConfig, unknownNodeConfigEnvVariables } from './node-config.js';
import type { NodeConfig } from './node-config-types.js';
import { ConfigError } from './node-config-error.js';
import { deriveNodeIdentity } from './node-identity.js';
import { createNodeObservers } from './node-observers.js';
import { RaftkvNode, type RaftkvNodeOptions } from './raftkv-node.js';

export { ConfigError } from './node-config-error.js';
export { formatNodeConfigHelp } from './node-config-help.js';

/** raftkv's version, reported in logs, metrics and Maintenance.Status. */
export const RAFTKV_VERSION = '0.1.0';

function createLogger(config: NodeConfig): PinoLogger {
  const options = { level: config.logLevel, base: { member: config.name } };
  if (config.logFormat === 'pretty') {
    return pino(options, pretty({ colorize: process.stdout.isTTY, sync: true }));
  }
  return pino(options);
}

/** Adapts pino to the Logger port the modules receive. */
function asLogger(logger: PinoLogger): Logger {
  return {
    debug: (fields, message) => logger.debug(fields, message),
    info: (fields, message) => logger.info(fields, message),
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
  };
}

/**
 * Runs a member until it is stopped; resolves with the process exit code. Throws a ConfigError
 * (before anything starts) when the flags are wrong.
 */
export async function runServe(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const config = parseNodeConfig(argv, env);
  const identity = deriveNodeIdentity(config);
  const pinoLogger = createLogger(config);
  const logger = asLogger(pinoLogger);
  for (const name of unknownNodeConfigEnvVariables(env)) {
    logger.warn({ variable: name }, 'unknown RAFTKV_ environment variable ignored');
  }
  const metrics = createNodeMetrics({
    version: RAFTKV_VERSION,
    isProcessMetricsEnabled: config.isProcessMetricsEnabled,
  });
  const observers = createNodeObservers(metrics, logger);
  let exitCode = 0;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const options: RaftkvNodeOptions = {
    name: config.name,
    dataDirectory: config.dataDir,
    listenHost: config.listenHost,
    clientPort: config.clientPort,
    peerPort: config.peerPort,
    httpPort: config.httpPort,
    advertisedPeerAddress: identity.peerAddress,
    advertisedClientAddress: identity.clientAddress,
    clusterId: identity.clusterId,
    founderId:
      identity.isFoundingMember && config.initialClusterState === 'new'
        ? identity.bootstrapMemberId
        : null,
    founders: identity.bootstrapMembers.map((member) => ({
      id: member.id,
      peerAddress: member.peerAddress,
      clientAddress: member.clientAddress,
    })),
    discoveryAddresses: discoveryAddresses(identity),
    tickIntervalMs: config.tickIntervalMs,
    electionTimeoutTicks: config.electionTimeoutTicks,
    heartbeatIntervalTicks: config.heartbeatIntervalTicks,
    requestTimeoutMs: config.requestTimeoutMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    limits: {
      keyBytesMax: config.keyBytesMax,
      valueBytesMax: config.valueBytesMax,
      requestBytesMax: config.requestBytesMax,
      txnOpsMax: config.txnOpsMax,
    },
    pendingRequestsMax: config.pendingProposalsMax,
    clientsMax: config.clientsMax,
    snapshotEntriesThreshold: config.snapshotEntriesThreshold,
    snapshotBytesThreshold: config.snapshotBytesThreshold,
    snapshotsRetained: config.snapshotsRetained,
    walSegmentBytes: config.walSegmentBytes,
    logger,
    observers,
    onExit: (reason, error) => {
      if (reason === 'fatal') {
        logger.error({ err: error }, 'member stopping after a fatal error');
        exitCode = 1;
      }
      finish(exitCode);
    },
  };
  const abort = new AbortController();
  let node: RaftkvNode | undefined;
  let isStopping = false;
  const stop = (signal: string): void => {
    if (isStopping) return;
    isStopping = true;
    logger.info({ signal }, 'stopping');
    const forced = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long: exiting');
      finish(1);
    }, config.shutdownTimeoutMs);
    forced.unref();
    abort.abort();
    if (node === undefined) {
      finish(0);
      return;
    }
    node.stop().then(
      () => finish(exitCode),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        finish(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    node = await RaftkvNode.start(options, abort.signal);
  } catch (error) {
    if (abort.signal.aborted) return 0;
    logger.error({ err: error }, 'member failed to start');
    pinoLogger.flush();
    throw error;
  }
  const sampler = setInterval(() => {
    if (node !== undefined) observers.sample(node.loop.status(), node.loop.applied());
  }, 1000);
  const code = await finished;
  clearInterval(sampler);
  pinoLogger.flush();
  return code;
}

/**
 * Ordinals an empty member asks before it may found a cluster, at least: not only the founding
 * ones. A cluster founded by one member and grown since has its other members above the initial
 * size; a founder whose storage was reset must find them, not found a second cluster.
 */
const DISCOVERY_ORDINALS_MIN = 16;

/**
 * Peer addresses of the StatefulSet's ordinals that may hold members, except this node's own.
 * Stops at the first ordinal the address template cannot give a port (a local port scheme ends
 * below 65536): no member can be there or above.
 */
export function discoveryAddresses(identity: ReturnType<typeof deriveNodeIdentity>): string[] {
  const addresses = new Set<string>();
  const count = Math.max(
    identity.bootstrapMembers.length,
    identity.ordinal + 1,
    DISCOVERY_ORDINALS_MIN,
  );
  for (let ordinal = 0; ordinal < count; ordinal++) {
    if (ordinal === identity.ordinal) continue;
    let address: string;
    try {
      address = identity.peerAddressOf(ordinal);
    } catch (error) {
      if (error instanceof ConfigError && ordinal >= identity.bootstrapMembers.length) break;
      throw error;
    }
    addresses.add(address);
  }
  return [...addresses];
}
