/**
 * The replicated registry of members' names and addresses. Raft's configuration says who votes
 * and who learns; it knows no addresses. etcd's Cluster API and the peer transport need them, so
 * each member's name, peer URLs and client URLs live here, changed only by committed log entries
 * (a `memberChange` envelope) and carried in snapshots. Deterministic: every member applying the
 * same entries holds the same registry. Owns no I/O and no Raft configuration.
 */
import type { NodeId } from '../common/index.js';

/** What the registry knows of one member. */
export interface MemberRecord {
  readonly id: NodeId;
  /** Empty until the member has started and published itself (as in etcd). */
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

/** A change to the registry, the command of a `memberChange` log entry. */
export type MemberChange =
  | { readonly kind: 'register'; readonly member: MemberRecord }
  | { readonly kind: 'unregister'; readonly id: NodeId }
  | {
      readonly kind: 'publish';
      readonly id: NodeId;
      readonly name: string;
      readonly clientUrls: readonly string[];
    };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a change for a log entry (JSON: membership changes are rare and small). */
export function encodeMemberChange(change: MemberChange): Uint8Array {
  return encoder.encode(JSON.stringify(change));
}

/** The member records, keyed by id. */
export class MemberRegistry {
  private readonly members = new Map<NodeId, MemberRecord>();

  /** The record of `id`, if registered. */
  get(id: NodeId): MemberRecord | undefined {
    return this.members.get(id);
  }

  /** Every record, by ascending id. */
  list(): MemberRecord[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id);
  }

  /** The member whose peer URLs include `peerUrl`, if any. */
  findByPeerUrl(peerUrl: string): MemberRecord | undefined {
    return this.list().find((member) => member.peerUrls.includes(peerUrl));
  }

  /** Deletes the record of `id` (a member that left the configuration). */
  delete(id: NodeId): void {
    this.members.delete(id);
  }

  /** Adds or replaces a record (bootstrap and `register`). */
  set(member: MemberRecord): void {
    this.members.set(member.id, member);
  }

  /**
   * Applies a committed change. Returns a description of why it was ignored (an unreadable
   * entry, or a `publish` for an unknown member), or null when applied.
   */
  apply(command: Uint8Array): string | null {
    const change = parseMemberChange(command);
    if (typeof change === 'string') return change;
    switch (change.kind) {
      case 'register':
        this.members.set(change.member.id, change.member);
        return null;
      case 'unregister':
        this.members.delete(change.id);
        return null;
      case 'publish': {
        const member = this.members.get(change.id);
        if (member === undefined) return `publish for unknown member ${change.id}`;
        this.members.set(change.id, {
          ...member,
          name: change.name,
          clientUrls: change.clientUrls,
        });
        return null;
      }
    }
  }

  /** Deterministic bytes of the whole registry, for snapshots. */
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.list()));
  }

  /** A registry from {@link snapshot} bytes; throws on damage. */
  static restore(bytes: Uint8Array): MemberRegistry {
    const registry = new MemberRegistry();
    const records: unknown = JSON.parse(decoder.decode(bytes));
    if (!Array.isArray(records)) throw new Error('member registry snapshot is not a list');
    for (const record of records) {
      const member = parseMemberRecord(record);
      if (member === undefined) throw new Error('malformed member record in snapshot');
      registry.set(member);
    }
    return registry;
  }
}

function parseMemberChange(command: Uint8Array): MemberChange | string {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(command));
  } catch {
    return 'member change is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'member change is not an object';
  const change = value as Record<string, unknown>;
  if (change.kind === 'register') {
    const member = parseMemberRecord(change.member);
    return member === undefined ? 'malformed member record' : { kind: 'register', member };
  }
  if (change.kind === 'unregister' && isNodeId(change.id)) {
    return { kind: 'unregister', id: change.id };
  }
  if (
    change.kind === 'publish' &&
    isNodeId(change.id) &&
    typeof change.name === 'string' &&
    isStringList(change.clientUrls)
  ) {
    return { kind: 'publish', id: change.id, name: change.name, clientUrls: change.clientUrls };
  }
  return 'malformed member change';
}

function parseMemberRecord(value: unknown): MemberRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (
    !isNodeId(record.id) ||
    typeof record.name !== 'string' ||
    !isStringList(record.peerUrls) ||
    !isStringList(record.clientUrls)
  ) {
    return undefined;
  }
  return {
    id: record.id,
    name: record.name,
    peerUrls: record.peerUrls,
    clientUrls: record.clientUrls,
  };
}

function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
