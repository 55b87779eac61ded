/**
 * The numeric vocabulary shared by every module: terms, log indexes and node ids.
 *
 * They are plain `number` aliases, not branded types (see docs/decisions/0002-numeric-ids.md):
 * the core does index arithmetic on nearly every line and brands would need a cast at each one.
 * All three are non-negative safe integers; 0 means "none" for `NodeId` and "before the first
 * entry" for `LogIndex`.
 */

/** A Raft term number (§5.1). 0 is the term before any election. */
export type Term = number;

/** A position in the replicated log. The first entry has index 1; 0 means "no entry". */
export type LogIndex = number;

/** A member's identity, stable for one incarnation of its data directory. 0 means "none". */
export type NodeId = number;

/** The id that means "no node" (no leader known, no vote cast). */
export const NO_NODE: NodeId = 0;
