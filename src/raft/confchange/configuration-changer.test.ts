/**
 * Tests for joint-consensus membership changes: the common reconfigurations, each typed error,
 * the invariant checker, and a property that any valid change enters and leaves cleanly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError, type NodeId } from '../../common/index.js';
import {
  type ConfigurationChange,
  type ConfigurationState,
  EMPTY_CONFIGURATION,
  type MembershipChange,
} from '../configuration.js';
import {
  checkConfigurationInvariants,
  type ConfigurationChangeError,
  describeConfiguration,
  enterJoint,
  leaveJoint,
} from './configuration-changer.js';

function configuration(
  voters: readonly NodeId[],
  learners: readonly NodeId[] = [],
): ConfigurationState {
  return { ...EMPTY_CONFIGURATION, voters, learners };
}

function change(...changes: MembershipChange[]): ConfigurationChange {
  return { changes };
}

const addVoter = (nodeId: NodeId): MembershipChange => ({ kind: 'addVoter', nodeId });
const addLearner = (nodeId: NodeId): MembershipChange => ({ kind: 'addLearner', nodeId });
const removeNode = (nodeId: NodeId): MembershipChange => ({ kind: 'removeNode', nodeId });

function isChangeError(
  result: ConfigurationState | ConfigurationChangeError,
): result is ConfigurationChangeError {
  return 'kind' in result;
}

function enterJointOrThrow(
  current: ConfigurationState,
  configurationChange: ConfigurationChange,
): ConfigurationState {
  const result = enterJoint(current, configurationChange);
  if (isChangeError(result)) {
    throw new Error(`unexpected error: ${result.message}`);
  }
  return result;
}

/** Enters and leaves, returning both descriptions for compact expectations. */
function roundTrip(current: ConfigurationState, configurationChange: ConfigurationChange) {
  const joint = enterJointOrThrow(current, configurationChange);
  return [describeConfiguration(joint), describeConfiguration(leaveJoint(joint))];
}

describe('enterJoint and leaveJoint', () => {
  it('grows 3 voters to 5', () => {
    expect(roundTrip(configuration([1, 2, 3]), change(addVoter(5), addVoter(4)))).toEqual([
      'voters=(1,2,3,4,5)&&(1,2,3) autoLeave',
      'voters=(1,2,3,4,5)',
    ]);
  });

  it('shrinks 5 voters to 3', () => {
    const current = configuration([1, 2, 3, 4, 5]);
    expect(roundTrip(current, change(removeNode(4), removeNode(5)))).toEqual([
      'voters=(1,2,3)&&(1,2,3,4,5) autoLeave',
      'voters=(1,2,3)',
    ]);
  });

  it('replaces one member', () => {
    expect(roundTrip(configuration([1, 2, 3]), change(removeNode(3), addVoter(4)))).toEqual([
      'voters=(1,2,4)&&(1,2,3) autoLeave',
      'voters=(1,2,4)',
    ]);
  });

  it('promotes a learner', () => {
    expect(roundTrip(configuration([1, 2, 3], [4]), change(addVoter(4)))).toEqual([
      'voters=(1,2,3,4)&&(1,2,3) autoLeave',
      'voters=(1,2,3,4)',
    ]);
  });

  it('demotes a voter to learner through learnersNext', () => {
    const joint = enterJointOrThrow(configuration([1, 2, 3], [4]), change(addLearner(3)));
    expect(joint).toEqual({
      voters: [1, 2],
      votersOutgoing: [1, 2, 3],
      learners: [4],
      learnersNext: [3],
      isAutoLeave: true,
    });
    expect(describeConfiguration(joint)).toBe(
      'voters=(1,2)&&(1,2,3) learners=(4) next=(3) autoLeave',
    );
    expect(leaveJoint(joint)).toEqual({
      voters: [1, 2],
      votersOutgoing: [],
      learners: [3, 4],
      learnersNext: [],
      isAutoLeave: false,
    });
  });

  it('adds a new learner directly and removes a learner', () => {
    expect(roundTrip(configuration([1, 2, 3], [4]), change(addLearner(5), removeNode(4)))).toEqual([
      'voters=(1,2,3)&&(1,2,3) learners=(5) autoLeave',
      'voters=(1,2,3) learners=(5)',
    ]);
  });

  it('leaves the inputs untouched', () => {
    const current = configuration([1, 2, 3], [4]);
    const snapshot = structuredClone(current);
    enterJointOrThrow(current, change(addLearner(1), addVoter(4)));
    expect(current).toEqual(snapshot);
  });
});

describe('enterJoint errors', () => {
  const current = configuration([1, 2, 3], [4]);
  const cases: ReadonlyArray<[string, ConfigurationState, ConfigurationChange, RegExp]> = [
    [
      'already joint',
      enterJointOrThrow(current, change(addVoter(5))),
      change(addVoter(6)),
      /already in a joint configuration/,
    ],
    ['no changes', current, change(), /at least one/],
    ['id zero', current, change(addVoter(0)), /positive integer/],
    ['negative id', current, change(removeNode(-2)), /positive integer/],
    ['same id twice', current, change(addVoter(5), addLearner(5)), /more than once/],
    [
      'removing every voter',
      current,
      change(removeNode(1), removeNode(2), addLearner(3)),
      /removing every voter/,
    ],
    ['adding an existing voter', current, change(addVoter(2)), /alters nothing/],
    ['adding an existing learner', current, change(addLearner(4)), /alters nothing/],
    ['removing an unknown node', current, change(removeNode(9)), /alters nothing/],
    ['no voters to start from', EMPTY_CONFIGURATION, change(addVoter(1)), /without voters/],
  ];

  it.each(cases)('rejects %s', (_name, from, configurationChange, pattern) => {
    const result = enterJoint(from, configurationChange);
    expect(isChangeError(result)).toBe(true);
    if (isChangeError(result)) {
      expect(result.kind).toBe('invalidConfigurationChange');
      expect(result.message).toMatch(pattern);
    }
  });

  it('asserts when leaving a configuration that is not joint', () => {
    expect(() => leaveJoint(current)).toThrow(AssertionError);
  });
});

describe('checkConfigurationInvariants', () => {
  const valid: ConfigurationState = {
    voters: [1, 2],
    votersOutgoing: [1, 2, 3],
    learners: [4],
    learnersNext: [3],
    isAutoLeave: true,
  };

  it('accepts a valid joint configuration', () => {
    expect(() => checkConfigurationInvariants(valid)).not.toThrow();
  });

  const broken: ReadonlyArray<[string, Partial<ConfigurationState>]> = [
    ['unsorted voters', { voters: [2, 1] }],
    ['duplicate learners', { learners: [4, 4] }],
    ['id zero', { voters: [0, 1, 2] }],
    ['voter and learner', { learners: [2, 4] }],
    ['outgoing voter and learner', { learners: [3, 4], learnersNext: [] }],
    ['next learner not outgoing', { learnersNext: [3, 5] }],
    ['next learner an incoming voter', { learnersNext: [2, 3] }],
    ['next learners outside joint', { votersOutgoing: [], learnersNext: [3] }],
    ['auto-leave outside joint', { votersOutgoing: [], learnersNext: [] }],
  ];

  it.each(broken)('asserts on %s', (_name, override) => {
    expect(() => checkConfigurationInvariants({ ...valid, ...override })).toThrow(AssertionError);
  });
});

describe('describeConfiguration', () => {
  it('omits empty parts', () => {
    expect(describeConfiguration(EMPTY_CONFIGURATION)).toBe('voters=()');
    expect(describeConfiguration(configuration([1, 2, 3], [4]))).toBe(
      'voters=(1,2,3) learners=(4)',
    );
  });
});

/** A valid non-joint configuration over ids 1..8 with at least one voter. */
const configurationArbitrary: fc.Arbitrary<ConfigurationState> = fc
  .array(fc.constantFrom('voter', 'learner', 'absent'), { minLength: 8, maxLength: 8 })
  .filter((roles) => roles.includes('voter'))
  .map((roles) => {
    const idsWith = (role: string): NodeId[] =>
      roles.flatMap((each, position) => (each === role ? [position + 1] : []));
    return configuration(idsWith('voter'), idsWith('learner'));
  });

/** Membership changes on distinct ids among 1..10. */
const changeArbitrary: fc.Arbitrary<ConfigurationChange> = fc
  .uniqueArray(
    fc.record({
      kind: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'removeNode' as const),
      nodeId: fc.integer({ min: 1, max: 10 }),
    }),
    { minLength: 1, maxLength: 6, selector: (membershipChange) => membershipChange.nodeId },
  )
  .map((changes) => ({ changes }));

describe('enterJoint properties', () => {
  it('enters and leaves to a valid configuration whose voters are the incoming side', () => {
    fc.assert(
      fc.property(configurationArbitrary, changeArbitrary, (current, configurationChange) => {
        const joint = enterJoint(current, configurationChange);
        if (isChangeError(joint)) {
          return;
        }
        checkConfigurationInvariants(joint);
        expect(joint.votersOutgoing).toEqual(current.voters);
        const left = leaveJoint(joint);
        checkConfigurationInvariants(left);
        expect(left.voters).toEqual(joint.voters);
        for (const { kind, nodeId } of configurationChange.changes) {
          expect(left.voters.includes(nodeId)).toBe(kind === 'addVoter');
          expect(left.learners.includes(nodeId)).toBe(kind === 'addLearner');
        }
        const changedIds = new Set(configurationChange.changes.map(({ nodeId }) => nodeId));
        const untouched = (ids: readonly NodeId[]) => ids.filter((id) => !changedIds.has(id));
        expect(untouched(left.voters)).toEqual(untouched(current.voters));
        expect(untouched(left.learners)).toEqual(untouched(current.learners));
      }),
      { numRuns: 2000 },
    );
  });

  it('fails only for the documented reasons', () => {
    fc.assert(
      fc.property(configurationArbitrary, changeArbitrary, (current, configurationChange) => {
        const joint = enterJoint(current, configurationChange);
        if (isChangeError(joint)) {
          expect(joint.message).toMatch(/removing every voter|alters nothing/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
