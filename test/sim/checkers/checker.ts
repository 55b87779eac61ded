/**
 * The shape every checker shares: a cluster observer with a name.
 * A checker only records and compares; it never changes the cluster.
 */
import type { ClusterObserver } from '../cluster-observer.js';
import type { CheckerName } from './violation.js';

/** A property checker: incremental through the observer callbacks. */
export interface Checker extends ClusterObserver {
  readonly name: CheckerName;
}
