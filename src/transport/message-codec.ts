/**
 * Maps the core's Raft messages to the generated peer.proto records and back, field for field,
 * and estimates their encoded size for batching. Pure functions on the hot path of every write:
 * no I/O, no copies of entry data, no JSON. It does not frame, batch or validate envelopes (see
 * peer-envelope.ts); malformed input from a peer becomes a {@link PeerProtocolError}.
 */
import { assertNever } from '../common/index.js';
import * as wire from '../generated/raftkv/peer/v1/peer.js';
import type {
  ConfigurationChange,
  ConfigurationState,
  Entry,
  MembershipChange,
  Message,
  Snapshot,
} from '../raft/index.js';
import { PeerProtocolError } from './transport-errors.js';

type WireBody = NonNullable<wire.Message['body']>;

/**
 * `bytes` for a generated record that is only ever encoded. The generated encoder hands `bytes`
 * fields to `BinaryWriter.bytes`, which takes any Uint8Array; wrapping each entry's data in a
 * Buffer view would be an allocation for nothing.
 */
export function asWireBytes(bytes: Uint8Array): Buffer {
  return bytes as Buffer;
}

/** The wire record of `message`. Entry data and commands are shared, not copied. */
export function encodeMessage(message: Message): wire.Message {
  return { from: message.from, to: message.to, term: message.term, body: encodeBody(message) };
}

function encodeBody(message: Message): WireBody {
  switch (message.kind) {
    case 'voteRequest':
    case 'preVoteRequest':
      return {
        $case: message.kind,
        value: {
          lastLogIndex: message.lastLogIndex,
          lastLogTerm: message.lastLogTerm,
          isLeadershipTransfer: message.isLeadershipTransfer,
        },
      };
    case 'voteResponse':
    case 'preVoteResponse':
      return { $case: message.kind, value: { isGranted: message.isGranted } };
    case 'appendRequest':
      return {
        $case: 'appendRequest',
        value: {
          prevLogIndex: message.prevLogIndex,
          prevLogTerm: message.prevLogTerm,
          entries: message.entries.map(encodeEntry),
          leaderCommit: message.leaderCommit,
        },
      };
    case 'appendResponse':
      return {
        $case: 'appendResponse',
        value: {
          isRejected: message.isRejected,
          index: message.index,
          hintIndex: message.hintIndex,
          hintTerm: message.hintTerm,
        },
      };
    case 'heartbeatRequest':
      return {
        $case: 'heartbeatRequest',
        value: {
          leaderCommit: message.leaderCommit,
          readContext: message.readContext ?? undefined,
        },
      };
    case 'heartbeatResponse':
      return {
        $case: 'heartbeatResponse',
        value: { readContext: message.readContext ?? undefined },
      };
    case 'installSnapshotRequest':
      return {
        $case: 'installSnapshotRequest',
        value: { snapshot: encodeSnapshot(message.snapshot) },
      };
    case 'timeoutNowRequest':
      return { $case: 'timeoutNowRequest', value: {} };
    case 'forwardedProposal':
      return {
        $case: 'forwardedProposal',
        value: { commands: message.commands.map(asWireBytes) },
      };
    case 'readIndexRequest':
      return { $case: 'readIndexRequest', value: { readContext: message.readContext } };
    case 'readIndexResponse':
      return {
        $case: 'readIndexResponse',
        value: { readContext: message.readContext, readIndex: message.readIndex },
      };
    default:
      return assertNever(message, 'message kind');
  }
}

function encodeEntry(entry: Entry): wire.Entry {
  if (entry.kind === 'normal') {
    return {
      index: entry.index,
      term: entry.term,
      payload: { $case: 'data', value: asWireBytes(entry.data) },
    };
  }
  return {
    index: entry.index,
    term: entry.term,
    payload: { $case: 'configurationChange', value: encodeConfigurationChange(entry.change) },
  };
}

function encodeConfigurationChange(change: ConfigurationChange): wire.ConfigurationChange {
  return {
    changes: change.changes.map((step) => ({
      kind: MEMBERSHIP_CHANGE_KINDS[step.kind],
      nodeId: step.nodeId,
    })),
  };
}

const MEMBERSHIP_CHANGE_KINDS: Readonly<
  Record<MembershipChange['kind'], wire.MembershipChangeKind>
> = {
  addVoter: wire.MembershipChangeKind.MEMBERSHIP_CHANGE_KIND_ADD_VOTER,
  addLearner: wire.MembershipChangeKind.MEMBERSHIP_CHANGE_KIND_ADD_LEARNER,
  removeNode: wire.MembershipChangeKind.MEMBERSHIP_CHANGE_KIND_REMOVE_NODE,
};

function encodeSnapshot(snapshot: Snapshot): wire.Snapshot {
  const { metadata } = snapshot;
  return {
    metadata: {
      index: metadata.index,
      term: metadata.term,
      configuration: encodeConfigurationState(metadata.configuration),
    },
    data: asWireBytes(snapshot.data),
  };
}

function encodeConfigurationState(configuration: ConfigurationState): wire.ConfigurationState {
  return {
    voters: [...configuration.voters],
    votersOutgoing: [...configuration.votersOutgoing],
    learners: [...configuration.learners],
    learnersNext: [...configuration.learnersNext],
    isAutoLeave: configuration.isAutoLeave,
  };
}

/**
 * The core message a peer sent. Entry data and commands are the decoded buffers themselves.
 * Throws {@link PeerProtocolError} for a message the core could not represent.
 */
export function decodeMessage(message: wire.Message): Message {
  const { from, to, term, body } = message;
  if (body === undefined) throw new PeerProtocolError(`message from ${from} has no body`);
  switch (body.$case) {
    case 'voteRequest':
    case 'preVoteRequest': {
      const { lastLogIndex, lastLogTerm, isLeadershipTransfer } = body.value;
      return {
        kind: body.$case,
        from,
        to,
        term,
        lastLogIndex,
        lastLogTerm,
        isLeadershipTransfer,
      };
    }
    case 'voteResponse':
    case 'preVoteResponse':
      return { kind: body.$case, from, to, term, isGranted: body.value.isGranted };
    case 'appendRequest': {
      const { prevLogIndex, prevLogTerm, entries, leaderCommit } = body.value;
      return {
        kind: 'appendRequest',
        from,
        to,
        term,
        prevLogIndex,
        prevLogTerm,
        entries: entries.map(decodeEntry),
        leaderCommit,
      };
    }
    case 'appendResponse': {
      const { isRejected, index, hintIndex, hintTerm } = body.value;
      return { kind: 'appendResponse', from, to, term, isRejected, index, hintIndex, hintTerm };
    }
    case 'heartbeatRequest': {
      const { leaderCommit, readContext } = body.value;
      return {
        kind: 'heartbeatRequest',
        from,
        to,
        term,
        leaderCommit,
        readContext: readContext ?? null,
      };
    }
    case 'heartbeatResponse':
      return {
        kind: 'heartbeatResponse',
        from,
        to,
        term,
        readContext: body.value.readContext ?? null,
      };
    case 'installSnapshotRequest':
      return {
        kind: 'installSnapshotRequest',
        from,
        to,
        term,
        snapshot: decodeSnapshot(body.value.snapshot),
      };
    case 'timeoutNowRequest':
      return { kind: 'timeoutNowRequest', from, to, term };
    case 'forwardedProposal':
      return { kind: 'forwardedProposal', from, to, term, commands: body.value.commands };
    case 'readIndexRequest':
      return { kind: 'readIndexRequest', from, to, term, readContext: body.value.readContext };
    case 'readIndexResponse': {
      const { readContext, readIndex } = body.value;
      return { kind: 'readIndexResponse', from, to, term, readContext, readIndex };
    }
    default:
      return assertNever(body, 'message body');
  }
}

function decodeEntry(entry: wire.Entry): Entry {
  const { index, term, payload } = entry;
  switch (payload?.$case) {
    case 'data':
      return { kind: 'normal', index, term, data: payload.value };
    case 'configurationChange':
      return {
        kind: 'configurationChange',
        index,
        term,
        change: decodeConfigurationChange(payload.value),
      };
    case undefined:
      throw new PeerProtocolError(`entry ${index} has no payload`);
    default:
      return assertNever(payload, 'entry payload');
  }
}

function decodeConfigurationChange(change: wire.ConfigurationChange): ConfigurationChange {
  return {
    changes: change.changes.map((step) => ({
      kind: decodeMembershipChangeKind(step.kind),
      nodeId: step.nodeId,
    })),
  };
}

function decodeMembershipChangeKind(kind: wire.MembershipChangeKind): MembershipChange['kind'] {
  switch (kind) {
    case wire.MembershipChangeKind.MEMBERSHIP_CHANGE_KIND_ADD_VOTER:
      return 'addVoter';
    case wire.MembershipChangeKind.MEMBERSHIP_CHANGE_KIND_ADD_LEARNER:
      return 'addLearner';
    case wire.MembershipChangeKind.MEMBERSHIP_CHANGE_KIND_REMOVE_NODE:
      return 'removeNode';
    default:
      throw new PeerProtocolError(`unknown membership change kind ${kind}`);
  }
}

function decodeSnapshot(snapshot: wire.Snapshot | undefined): Snapshot {
  const metadata = snapshot?.metadata;
  const configuration = metadata?.configuration;
  if (snapshot === undefined || metadata === undefined || configuration === undefined) {
    throw new PeerProtocolError('install snapshot request without snapshot metadata');
  }
  return {
    metadata: {
      index: metadata.index,
      term: metadata.term,
      configuration: {
        voters: configuration.voters,
        votersOutgoing: configuration.votersOutgoing,
        learners: configuration.learners,
        learnersNext: configuration.learnersNext,
        isAutoLeave: configuration.isAutoLeave,
      },
    },
    data: snapshot.data,
  };
}

/**
 * Upper bound of a message's fixed fields and framing inside a batch: three ids (9 bytes each
 * with their tags), the body's tag and length (6), at most four more varint fields (29), and the
 * message's own tag and length in the batch (6).
 */
const MESSAGE_OVERHEAD_BYTES = 72;
/** Upper bound of an entry's index, term, tags and length prefixes. */
const ENTRY_OVERHEAD_BYTES = 32;
/** Upper bound of one membership change or one id in a configuration. */
const MEMBER_BYTES = 16;
/** Upper bound of a length-delimited field's tag and length prefix. */
const FIELD_OVERHEAD_BYTES = 6;
/** UTF-8 needs at most three bytes per UTF-16 code unit. */
const UTF8_BYTES_PER_CODE_UNIT_MAX = 3;

/**
 * An upper bound of `message`'s encoded size, cheap enough to compute for every message sent.
 * Batching splits on it; exact sizes would need a second encoding pass.
 */
export function messageBytesEstimate(message: Message): number {
  switch (message.kind) {
    case 'appendRequest': {
      let bytes = MESSAGE_OVERHEAD_BYTES;
      for (const entry of message.entries) bytes += entryBytesEstimate(entry);
      return bytes;
    }
    case 'forwardedProposal': {
      let bytes = MESSAGE_OVERHEAD_BYTES;
      for (const command of message.commands) bytes += FIELD_OVERHEAD_BYTES + command.byteLength;
      return bytes;
    }
    case 'heartbeatRequest':
    case 'heartbeatResponse':
    case 'readIndexRequest':
    case 'readIndexResponse':
      return MESSAGE_OVERHEAD_BYTES + stringBytesEstimate(message.readContext);
    case 'installSnapshotRequest': {
      const { configuration } = message.snapshot.metadata;
      const members =
        configuration.voters.length +
        configuration.votersOutgoing.length +
        configuration.learners.length +
        configuration.learnersNext.length;
      return MESSAGE_OVERHEAD_BYTES * 2 + members * MEMBER_BYTES + message.snapshot.data.byteLength;
    }
    case 'voteRequest':
    case 'preVoteRequest':
    case 'voteResponse':
    case 'preVoteResponse':
    case 'appendResponse':
    case 'timeoutNowRequest':
      return MESSAGE_OVERHEAD_BYTES;
    default:
      return assertNever(message, 'message kind');
  }
}

function entryBytesEstimate(entry: Entry): number {
  if (entry.kind === 'normal') return ENTRY_OVERHEAD_BYTES + entry.data.byteLength;
  return ENTRY_OVERHEAD_BYTES + entry.change.changes.length * MEMBER_BYTES;
}

function stringBytesEstimate(text: string | null): number {
  return text === null ? 0 : FIELD_OVERHEAD_BYTES + text.length * UTF8_BYTES_PER_CODE_UNIT_MAX;
}
