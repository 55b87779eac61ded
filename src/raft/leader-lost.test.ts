import { describe, expect, it } from 'vitest';

import { EMPTY_CONFIGURATION } from './configuration.js';
import { MemoryStorage } from './memory-storage.js';
import type { Message } from './message.js';
import { createPrng } from './prng.js';
import { RawNode } from './raw-node.js';

/** Three cores on a perfect in-test network; `isolated` ids neither send nor receive. */
function cluster(): { nodes: Map<number, RawNode>; deliver: (isolated?: number[]) => void } {
  const configuration = { ...EMPTY_CONFIGURATION, voters: [1, 2, 3] };
  const nodes = new Map<number, RawNode>();
  for (const id of [1, 2, 3]) {
    const storage = new MemoryStorage();
    storage.bootstrap(configuration);
    nodes.set(id, RawNode.create({ id, storage, prng: createPrng(id) }));
  }
  const deliver = (isolated: number[] = []): void => {
    for (let round = 0; round < 50; round++) {
      const messages: Message[] = [];
      for (const [id, node] of nodes) {
        while (node.hasReady()) {
          const ready = node.ready();
          storageOf(node).append(ready.entries);
          if (ready.hardState !== null) storageOf(node).setHardState(ready.hardState);
          if (!isolated.includes(id)) messages.push(...ready.messages);
          node.advance();
        }
      }
      if (messages.length === 0) return;
      for (const message of messages) {
        if (!isolated.includes(message.to)) nodes.get(message.to)?.step(message);
      }
    }
  };
  const storages = new Map<RawNode, MemoryStorage>();
  const storageOf = (node: RawNode): MemoryStorage => {
    let storage = storages.get(node);
    if (storage === undefined) {
      // The storage the node was built over; reach it through its private options for the test.
      storage = (node as unknown as { raft: { options: { storage: MemoryStorage } } }).raft.options
        .storage;
      storages.set(node, storage);
    }
    return storage;
  };
  return { nodes, deliver };
}

describe('reportLeaderLost', () => {
  it('drops the lease so a survivor can win an election at once, before any timeout', () => {
    const { nodes, deliver } = cluster();
    nodes.get(1)?.campaign();
    deliver();
    expect(nodes.get(1)?.status().role).toBe('leader');
    // Leader 1 dies; both survivors see its connection reset. (Without the report, node 3's
    // lease would refuse node 2's campaign: the third test shows the lease at work.)
    expect(nodes.get(2)?.reportLeaderLost(1)).toBe(true);
    expect(nodes.get(3)?.reportLeaderLost(1)).toBe(true);
    nodes.get(2)?.campaign();
    deliver([1]);
    expect(nodes.get(2)?.status().role).toBe('leader');
    expect(nodes.get(3)?.status().leaderId).toBe(2);
  });

  it('ignores peers that are not the leader, and leaders', () => {
    const { nodes, deliver } = cluster();
    nodes.get(1)?.campaign();
    deliver();
    expect(nodes.get(2)?.reportLeaderLost(3)).toBe(false);
    expect(nodes.get(1)?.reportLeaderLost(2)).toBe(false);
    expect(nodes.get(2)?.status().leaderId).toBe(1);
  });

  it('cannot disrupt a live leader: the other follower still holds its lease', () => {
    const { nodes, deliver } = cluster();
    nodes.get(1)?.campaign();
    deliver();
    const term = nodes.get(1)?.status().term;
    // A false alarm on node 2 only.
    expect(nodes.get(2)?.reportLeaderLost(1)).toBe(true);
    nodes.get(2)?.campaign();
    deliver();
    expect(nodes.get(1)?.status().role).toBe('leader');
    expect(nodes.get(1)?.status().term).toBe(term);
  });
});
