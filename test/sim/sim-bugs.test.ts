/**
 * Proof that the simulator's checkers catch real bugs: with a deliberately broken core
 * (raft-options.ts DeliberateBugs) a sweep must find a violation of the expected checker within
 * a bounded number of seeds. Each bug is caught twice: by the checker closest to the broken
 * rule, and, with that checker switched off, end to end (a double vote, two leaders in one
 * term, a committed entry lost) under the crash-heavy profile.
 */
import { describe, expect, it } from 'vitest';
import type { CheckerName } from './checkers/violation.js';
import { runSeed, type RunSeedOptions, type Violation } from './run-seed.js';

/** A bug must be found within this many seeds. */
const SEEDS_MAX = 200;
const TEST_TIMEOUT_MS = 120_000;

/** Checkers that observe a lost committed entry rather than the broken commit rule itself. */
const COMMITTED_ENTRY_LOST_CHECKERS: readonly CheckerName[] = [
  'leaderCompleteness',
  'commitAgreement',
  'appliedPrefix',
  'linearizability',
];

/** The first violation by one of `checkers` in seeds 1..SEEDS_MAX, or null. */
function findViolation(
  options: RunSeedOptions,
  checkers: readonly CheckerName[],
): Violation | null {
  for (let seed = 1; seed <= SEEDS_MAX; seed++) {
    const violation = runSeed(seed, options).violations[0];
    if (violation !== undefined && checkers.includes(violation.checker)) return violation;
  }
  return null;
}

describe('deliberate bug voteWithoutSync (vote granted before it is durable)', () => {
  it(
    'is caught by persistBeforeSend',
    () => {
      const violation = findViolation({ bug: 'voteWithoutSync' }, ['persistBeforeSend']);
      expect(violation?.message).toMatch(/voteRequest|voteResponse|term/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'is caught by singleVote (a node votes twice in a term) when persistBeforeSend is off',
    () => {
      const options: RunSeedOptions = {
        bug: 'voteWithoutSync',
        checkersDisabled: ['persistBeforeSend'],
      };
      expect(findViolation(options, ['singleVote'])?.message).toMatch(/voted for node/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'breaks election safety end to end (two leaders in one term)',
    () => {
      const options: RunSeedOptions = {
        bug: 'voteWithoutSync',
        profile: 'crashHeavy',
        checkersDisabled: ['persistBeforeSend', 'singleVote'],
      };
      expect(findViolation(options, ['electionSafety'])?.message).toMatch(/two leaders in term/);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('deliberate bug commitPreviousTerm (commit by counting older entries, Figure 8)', () => {
  it(
    'is caught by currentTermCommit',
    () => {
      const violation = findViolation({ bug: 'commitPreviousTerm' }, ['currentTermCommit']);
      expect(violation?.message).toMatch(/by counting replicas/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'loses a committed entry end to end when currentTermCommit is off',
    () => {
      const options: RunSeedOptions = {
        bug: 'commitPreviousTerm',
        profile: 'crashHeavy',
        checkersDisabled: ['currentTermCommit'],
      };
      expect(findViolation(options, COMMITTED_ENTRY_LOST_CHECKERS)).not.toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});
