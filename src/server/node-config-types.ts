/**
 * The shape of a node's configuration: one readonly field per option of the table in
 * node-config-options.ts (which holds flags, variables, defaults and descriptions). This file
 * owns only types; it must not parse or default anything.
 */
import type { AddressTemplate } from './node-identity-address-template.js';

/** Log levels the node's logger accepts. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json` for machines (the default), `pretty` for a person at a terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * `new`: the member may found the cluster if none exists yet (it still asks its peers first,
 * DESIGN.md §7). `existing`: it never bootstraps and waits to be added through the membership API.
 */
export const INITIAL_CLUSTER_STATES = ['new', 'existing'] as const;
export type InitialClusterState = (typeof INITIAL_CLUSTER_STATES)[number];

/**
 * Everything a node is started with, fully defaulted and checked. Field names are the flags in
 * camelCase (booleans read `isXEnabled`); see `raftkv serve --help` for each one's meaning.
 */
export interface NodeConfig {
  // Node
  /** `--data-dir`: the member's data directory (WAL, snapshots, identity stamp). */
  readonly dataDir: string;
  /** `--name`: the member's human-readable name, shown in member lists. */
  readonly name: string;
  /** `--hostname`: the host name the ordinal is read from (`NAME-K`). */
  readonly hostname: string;

  // Network
  /** `--listen-host`: the address every server socket binds to. */
  readonly listenHost: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly httpPort: number;

  // Cluster identity
  /** `--peer-service`: the headless Service; `null` means `<statefulset>-peers`. */
  readonly peerService: string | null;
  readonly namespace: string;
  readonly clusterDomain: string;
  /** `--peer-address-template`: set for local runs (together with the client one), else `null`. */
  readonly peerAddressTemplate: AddressTemplate | null;
  readonly clientAddressTemplate: AddressTemplate | null;
  readonly initialClusterSize: number;
  readonly initialClusterToken: string;
  readonly initialClusterState: InitialClusterState;

  // Timing
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;

  // Limits
  readonly requestBytesMax: number;
  readonly txnOpsMax: number;
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly clientsMax: number;
  readonly pendingProposalsMax: number;

  // Snapshots
  readonly snapshotEntriesThreshold: number;
  readonly snapshotBytesThreshold: number;
  readonly snapshotsRetained: number;
  /** `--wal-segment-bytes`: target size of each preallocated WAL segment. */
  readonly walSegmentBytes: number;

  // Observability
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** `--process-metrics`: also export Node.js process metrics (CPU, memory, event loop). */
  readonly isProcessMetricsEnabled: boolean;
}
