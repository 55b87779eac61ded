/**
 * The table of node options: for each field of {@link NodeConfig}, its flag, environment variable
 * (derived from the flag), value type with bounds, default and help line. This is the one place
 * to add or change an option; the parser, the help and the tests read it. Defaults follow etcd
 * where etcd has the same knob. It must not read argv or the environment (node-config.ts does).
 */
import { hostname } from 'node:os';

import { CLIENTS_MAX_DEFAULT, TXN_OPS_MAX_DEFAULT } from '../kv/index.js';
import { ELECTION_TIMEOUT_TICKS_DEFAULT, HEARTBEAT_INTERVAL_TICKS_DEFAULT } from '../raft/index.js';
import {
  checkDnsLabel,
  checkDnsSubdomain,
  checkHostname,
  checkMemberName,
  checkPrintable,
  checkServiceName,
} from './node-config-checks.js';
import {
  booleanOption,
  byteSizeOption,
  durationMsOption,
  enumOption,
  fixed,
  fixedBytes,
  integerOption,
  optionalStringOption,
  type OptionSpec,
  stringOption,
  templateOption,
} from './node-config-option-spec.js';
import {
  INITIAL_CLUSTER_STATES,
  LOG_FORMATS,
  LOG_LEVELS,
  type NodeConfig,
} from './node-config-types.js';
import { formatByteSize } from './node-config-values.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const PORT = { min: 1, max: 65_535 } as const;
const TEN_MINUTES_MS = 600_000;
/** etcd's --max-request-bytes default. */
const REQUEST_BYTES_MAX_DEFAULT = 1.5 * MIB;
/**
 * etcd bounds keys only through the request size. raftkv bounds them on their own as well, since
 * every key stays in memory in the ordered map and in each revision's index; 32 KiB is far above
 * what Kubernetes or etcd tools write (a few hundred bytes).
 */
const KEY_BYTES_MAX_DEFAULT = 32 * KIB;

/** Every option, in help order. */
export const NODE_CONFIG_OPTIONS: { readonly [K in keyof NodeConfig]: OptionSpec<NodeConfig[K]> } =
  {
    dataDir: stringOption({
      flag: 'data-dir',
      group: 'Node',
      valueName: '<path>',
      description: "Directory of this member's write-ahead log, snapshots and identity stamp.",
      default: { derive: (read) => `./raftkv-data/${read('name')}`, text: './raftkv-data/{name}' },
    }),
    name: stringOption({
      flag: 'name',
      group: 'Node',
      description: "This member's name, shown in member lists (etcd's --name).",
      check: checkMemberName,
      default: { derive: (read) => read('hostname'), text: 'the --hostname value' },
    }),
    hostname: stringOption({
      flag: 'hostname',
      group: 'Node',
      description: 'Host name NAME-K; K is the StatefulSet ordinal of this member.',
      check: checkHostname,
      default: { derive: () => hostname(), text: "this machine's host name" },
    }),

    listenHost: stringOption({
      flag: 'listen-host',
      group: 'Network',
      valueName: '<address>',
      description: 'Address the client, peer and HTTP servers bind to.',
      check: (text) => checkPrintable(text, 253),
      default: fixed('0.0.0.0'),
    }),
    clientPort: integerOption({
      flag: 'client-port',
      group: 'Network',
      ...PORT,
      description: 'Port of the client gRPC API (etcd v3).',
      default: fixed(2379),
    }),
    peerPort: integerOption({
      flag: 'peer-port',
      group: 'Network',
      ...PORT,
      description: 'Port of the peer gRPC transport (Raft messages).',
      default: fixed(2380),
    }),
    httpPort: integerOption({
      flag: 'http-port',
      group: 'Network',
      ...PORT,
      description: 'Port of the HTTP server: /metrics, /livez, /readyz.',
      default: fixed(2381),
    }),

    peerService: optionalStringOption({
      flag: 'peer-service',
      group: 'Cluster identity',
      description: "Headless Service giving the StatefulSet's pods their DNS names.",
      check: checkServiceName,
      defaultText: '<statefulset>-peers',
    }),
    namespace: stringOption({
      flag: 'namespace',
      group: 'Cluster identity',
      description: 'Kubernetes namespace of the StatefulSet.',
      check: checkDnsLabel,
      default: fixed('default'),
    }),
    clusterDomain: stringOption({
      flag: 'cluster-domain',
      group: 'Cluster identity',
      description: "Kubernetes cluster DNS domain (the kubelet's clusterDomain).",
      check: checkDnsSubdomain,
      default: fixed('cluster.local'),
    }),
    peerAddressTemplate: templateOption({
      flag: 'peer-address-template',
      group: 'Cluster identity',
      description: "Local runs: each member's peer host:port, e.g. 127.0.0.1:{23800+ordinal}.",
    }),
    clientAddressTemplate: templateOption({
      flag: 'client-address-template',
      group: 'Cluster identity',
      description: "Local runs: each member's client host:port, e.g. 127.0.0.1:{23790+ordinal}.",
    }),
    initialClusterSize: integerOption({
      flag: 'initial-cluster-size',
      group: 'Cluster identity',
      min: 1,
      max: 128,
      description: 'Voters of a new cluster: ordinals 0..size-1 found it together.',
      default: fixed(3),
    }),
    initialClusterToken: stringOption({
      flag: 'initial-cluster-token',
      group: 'Cluster identity',
      description: 'Names a new cluster; the cluster id is a hash of it. Unique per cluster.',
      check: (text) => checkPrintable(text, 253),
      default: fixed('raftkv'),
    }),
    initialClusterState: enumOption({
      flag: 'initial-cluster-state',
      group: 'Cluster identity',
      values: INITIAL_CLUSTER_STATES,
      description: 'new: may found the cluster; existing: only waits to be added as a member.',
      default: fixed('new'),
    }),

    tickIntervalMs: durationMsOption({
      flag: 'tick-interval-ms',
      group: 'Timing',
      min: 1,
      max: 10_000,
      description: 'Length of one Raft tick; election and heartbeat timings count ticks.',
      default: fixed(100),
    }),
    electionTimeoutTicks: integerOption({
      flag: 'election-timeout-ticks',
      group: 'Timing',
      min: 2,
      max: 1000,
      description: 'Base election timeout; each node draws its own from [base, 2*base).',
      default: fixed(ELECTION_TIMEOUT_TICKS_DEFAULT),
    }),
    heartbeatIntervalTicks: integerOption({
      flag: 'heartbeat-interval-ticks',
      group: 'Timing',
      min: 1,
      max: 999,
      description: 'Leader heartbeat interval; less than the election timeout.',
      default: fixed(HEARTBEAT_INTERVAL_TICKS_DEFAULT),
    }),
    requestTimeoutMs: durationMsOption({
      flag: 'request-timeout-ms',
      group: 'Timing',
      min: 1,
      max: TEN_MINUTES_MS,
      description: "Time a client request may wait for commit and apply ('request timed out').",
      default: fixed(5000),
    }),
    shutdownTimeoutMs: durationMsOption({
      flag: 'shutdown-timeout-ms',
      group: 'Timing',
      min: 0,
      max: TEN_MINUTES_MS,
      description: 'Time a graceful shutdown (SIGTERM) may take before the node exits anyway.',
      default: fixed(10_000),
    }),

    requestBytesMax: byteSizeOption({
      flag: 'request-bytes-max',
      group: 'Limits',
      min: KIB,
      max: 32 * MIB,
      description: "Largest client request (etcd's --max-request-bytes).",
      default: fixedBytes(REQUEST_BYTES_MAX_DEFAULT),
    }),
    txnOpsMax: integerOption({
      flag: 'txn-ops-max',
      group: 'Limits',
      min: 1,
      max: 100_000,
      description: "Most operations in one transaction branch (etcd's --max-txn-ops).",
      default: fixed(TXN_OPS_MAX_DEFAULT),
    }),
    keyBytesMax: byteSizeOption({
      flag: 'key-bytes-max',
      group: 'Limits',
      min: 1,
      max: 32 * MIB,
      description: 'Largest key (and range end); at most --request-bytes-max.',
      default: {
        derive: (read) => String(Math.min(KEY_BYTES_MAX_DEFAULT, read('requestBytesMax'))),
        text: `${formatByteSize(KEY_BYTES_MAX_DEFAULT)}, or the --request-bytes-max value if smaller`,
      },
    }),
    valueBytesMax: byteSizeOption({
      flag: 'value-bytes-max',
      group: 'Limits',
      min: 1,
      max: 32 * MIB,
      description: 'Largest value; at most --request-bytes-max.',
      default: {
        derive: (read) => String(read('requestBytesMax')),
        text: 'the --request-bytes-max value',
      },
    }),
    clientsMax: integerOption({
      flag: 'clients-max',
      group: 'Limits',
      min: 1,
      max: 1_000_000,
      description: 'Clients whose last answer is kept for exactly-once retries.',
      default: fixed(CLIENTS_MAX_DEFAULT),
    }),
    pendingProposalsMax: integerOption({
      flag: 'pending-proposals-max',
      group: 'Limits',
      min: 1,
      max: 1_000_000,
      description: 'Proposals waiting for commit; more are refused (RESOURCE_EXHAUSTED).',
      default: fixed(4096),
    }),

    snapshotEntriesThreshold: integerOption({
      flag: 'snapshot-entries-threshold',
      group: 'Snapshots',
      min: 1,
      max: 100_000_000,
      description: 'Take a snapshot after this many entries applied since the last one.',
      default: fixed(10_000),
    }),
    snapshotBytesThreshold: byteSizeOption({
      flag: 'snapshot-bytes-threshold',
      group: 'Snapshots',
      min: MIB,
      max: 64 * GIB,
      description: 'Take a snapshot once the log since the last one holds this many bytes.',
      default: fixedBytes(256 * MIB),
    }),
    snapshotsRetained: integerOption({
      flag: 'snapshots-retained',
      group: 'Snapshots',
      min: 1,
      max: 100,
      description: 'Snapshot files kept; older ones are deleted.',
      default: fixed(2),
    }),
    walSegmentBytes: byteSizeOption({
      flag: 'wal-segment-bytes',
      group: 'Snapshots',
      min: MIB,
      max: GIB,
      description: 'Size of each preallocated WAL segment file (zero-filled before use).',
      default: fixedBytes(64 * MIB),
    }),

    logLevel: enumOption({
      flag: 'log-level',
      group: 'Observability',
      values: LOG_LEVELS,
      description: 'Least severe log level written.',
      default: fixed('info'),
    }),
    logFormat: enumOption({
      flag: 'log-format',
      group: 'Observability',
      values: LOG_FORMATS,
      description: 'json: one JSON object per line; pretty: coloured text for a terminal.',
      default: fixed('json'),
    }),
    isProcessMetricsEnabled: booleanOption({
      flag: 'process-metrics',
      group: 'Observability',
      description: 'Also export Node.js process metrics (CPU, memory, event loop lag, GC).',
      default: fixed(true),
    }),
  };

/** The options as a list, in help order. */
export const NODE_CONFIG_OPTION_LIST: readonly OptionSpec<unknown>[] =
  Object.values(NODE_CONFIG_OPTIONS);
