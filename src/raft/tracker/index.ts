/**
 * The tracker sub-module's public surface: the leader's per-follower replication progress and
 * its inflight window. Plain state and transitions; nothing here sends messages or reads the log.
 */
export { Inflights } from './inflights.js';
export { Progress, type ProgressOptions, type ReplicationState } from './progress.js';
