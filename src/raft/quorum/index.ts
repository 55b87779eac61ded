/**
 * The quorum sub-module's public surface: majority and joint counting of acknowledgements and
 * votes. Pure functions only; nothing here holds state or imports the rest of the core.
 */
export {
  type AckedIndexLookup,
  COMMITTED_INDEX_UNBOUNDED,
  majorityCommittedIndex,
  majorityVoteResult,
  type VoteResult,
} from './majority.js';
export { jointCommittedIndex, jointVoteResult } from './joint.js';
