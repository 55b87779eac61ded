/**
 * The shape every checker shares: a cluster observer with a name, plus an optional final check.
 * A checker only records and compares; it never changes the cluster.
 */
import type { ClusterObserver } from '../cluster-observer.js';
import type { CheckerName } from './violation.js';

/** A property checker: incremental through the observer callbacks, plus an optional end check. */
export interface Checker extends ClusterObserver {
  readonly name: CheckerName;
  /** Runs once at the end of a run that had no violation so far. */
  finish?(): void;
}
