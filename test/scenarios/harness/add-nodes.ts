/**
 * `add-nodes N [voters=(..)] [learners=(..)] [index=I] [prevote=..] [checkquorum=..]
 * [election=T] [heartbeat=T] [inflight=N] [max-append-bytes=B] [max-uncommitted-bytes=B]`:
 * creates N nodes with the next free ids. With voters, they are founding members: their storage
 * is bootstrapped with that membership (`MemoryStorage.bootstrap`, a snapshot at 1/1; with
 * `index=I` a snapshot at 1/I instead). Without, they start empty and wait to be added.
 */
import type { ConfigurationState } from '../../../src/raft/index.js';
import { MemoryStorage } from '../../../src/raft/index.js';
import {
  type CommandLine,
  CommandError,
  checkNamedKeys,
  namedBoolean,
  namedIds,
  namedValue,
  parsePositiveInteger,
  requireInteger,
} from './command-line.js';
import type { InteractionEnv, NodeSettings } from './interaction-env.js';

const KNOWN_KEYS = [
  'voters',
  'learners',
  'index',
  'prevote',
  'checkquorum',
  'election',
  'heartbeat',
  'inflight',
  'max-append-bytes',
  'max-uncommitted-bytes',
];

function optionalInteger(command: CommandLine, key: string): number | undefined {
  const value = namedValue(command, key);
  return value === undefined ? undefined : parsePositiveInteger(value, key);
}

function readSettings(command: CommandLine): NodeSettings {
  const settings: Record<string, unknown> = {
    isPreVoteEnabled: namedBoolean(command, 'prevote', true),
    isCheckQuorumEnabled: namedBoolean(command, 'checkquorum', true),
    electionTimeoutTicks: optionalInteger(command, 'election'),
    heartbeatIntervalTicks: optionalInteger(command, 'heartbeat'),
    inflightMessagesMax: optionalInteger(command, 'inflight'),
    appendRequestBytesMax: optionalInteger(command, 'max-append-bytes'),
    uncommittedBytesMax: optionalInteger(command, 'max-uncommitted-bytes'),
  };
  for (const key of Object.keys(settings)) {
    if (settings[key] === undefined) delete settings[key];
  }
  return settings as NodeSettings;
}

function bootstrappedStorage(configuration: ConfigurationState, index: number): MemoryStorage {
  const storage = new MemoryStorage();
  if (index === 1) {
    storage.bootstrap(configuration);
    return storage;
  }
  storage.applySnapshot({
    metadata: { index, term: 1, configuration },
    data: new Uint8Array(0),
  });
  storage.setHardState({ term: 1, votedFor: 0, commitIndex: index });
  return storage;
}

/** The command handler. */
export function addNodes(env: InteractionEnv, command: CommandLine): void {
  checkNamedKeys(command, KNOWN_KEYS);
  const count = requireInteger(command, 0, 'node count');
  const voters = namedIds(command, 'voters').sort((a, b) => a - b);
  const learners = namedIds(command, 'learners').sort((a, b) => a - b);
  const index = optionalInteger(command, 'index') ?? 1;
  if (voters.length === 0 && (learners.length > 0 || index !== 1)) {
    throw new CommandError('learners= and index= need voters=');
  }
  const configuration: ConfigurationState = {
    voters,
    votersOutgoing: [],
    learners,
    learnersNext: [],
    isAutoLeave: false,
  };
  const settings = readSettings(command);
  const firstId = env.nodes.size + 1;
  for (let id = firstId; id < firstId + count; id++) {
    const storage =
      voters.length > 0 ? bootstrappedStorage(configuration, index) : new MemoryStorage();
    env.addNode(id, settings, storage);
  }
}
