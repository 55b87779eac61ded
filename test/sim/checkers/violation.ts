/**
 * The names of the properties the simulator checks and the violation a checker throws when one
 * does not hold. Leaf module: it imports nothing from the simulator.
 */

/** Every property a run can find violated. */
export const CHECKER_NAMES = [
  'electionSafety',
  'singleVote',
  'logMatching',
  'leaderCompleteness',
  'commitAgreement',
  'currentTermCommit',
  'appliedPrefix',
  'monotonicity',
  'persistBeforeSend',
  'readyContract',
  'linearizability',
  'liveness',
  'coreAssertion',
  'exception',
] as const;

/** The name of a checked property. */
export type CheckerName = (typeof CHECKER_NAMES)[number];

/** Thrown by a checker when the property it guards does not hold. Ends the run. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  readonly checker: CheckerName;

  constructor(checker: CheckerName, message: string) {
    super(message);
    this.checker = checker;
  }
}

/** Throws an {@link InvariantViolation} of `checker` unless `condition` holds. */
export function check(
  condition: boolean,
  checker: CheckerName,
  message: () => string,
): asserts condition {
  if (!condition) throw new InvariantViolation(checker, message());
}
