/**
 * bench:core: how fast the pure consensus core commits entries when nothing else costs time.
 * A 3-node cluster runs in one process over an in-memory "network" (messages are handed over
 * directly) and MemoryStorage (no disk). Each round the leader receives a batch of proposals,
 * then every node handles its Ready until the cluster is quiet. Prints entries committed per
 * second and applied on all three nodes. Usage: npm run bench:core -- [--entries N] [--batch B]
 * [--bytes S]
 */
import { parseArgs } from 'node:util';
import {
  type ConfigurationState,
  createPrng,
  MemoryStorage,
  type Message,
  RawNode,
} from '../src/raft/index.js';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '256' },
    bytes: { type: 'string', default: '128' },
    runs: { type: 'string', default: '3' },
  },
});
const entryCount = Number(values.entries);
const batchSize = Number(values.batch);
const commandBytes = Number(values.bytes);

interface BenchNode {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  appliedCount: number;
}

function createCluster(): Map<number, BenchNode> {
  const ids = [1, 2, 3];
  const configuration: ConfigurationState = {
    voters: ids,
    votersOutgoing: [],
    learners: [],
    learnersNext: [],
    isAutoLeave: false,
  };
  const cluster = new Map<number, BenchNode>();
  for (const id of ids) {
    const storage = new MemoryStorage();
    storage.bootstrap(configuration);
    const node = RawNode.create({ id, storage, prng: createPrng(id) });
    cluster.set(id, { node, storage, appliedCount: 0 });
  }
  return cluster;
}

/** Handles Readys and delivers messages until nothing is left to do. */
function settle(cluster: Map<number, BenchNode>): void {
  let messages: Message[] = [];
  let isBusy = true;
  while (isBusy) {
    isBusy = false;
    for (const member of cluster.values()) {
      while (member.node.hasReady()) {
        isBusy = true;
        const ready = member.node.ready();
        if (ready.snapshot !== null) member.storage.applySnapshot(ready.snapshot);
        member.storage.append(ready.entries);
        if (ready.hardState !== null) member.storage.setHardState(ready.hardState);
        for (const message of ready.messages) messages.push(message);
        for (const entry of ready.committedEntries) {
          if (entry.kind === 'normal' && entry.data.byteLength > 0) member.appliedCount++;
        }
        member.node.advance();
      }
    }
    const delivering = messages;
    messages = [];
    for (const message of delivering) {
      isBusy = true;
      cluster.get(message.to)?.node.step(message);
    }
  }
}

function electLeader(cluster: Map<number, BenchNode>): RawNode {
  cluster.get(1)?.node.campaign();
  settle(cluster);
  const leader = cluster.get(1)?.node;
  if (leader?.status().role !== 'leader') throw new Error('node 1 did not become leader');
  return leader;
}

function runOnce(): number {
  const cluster = createCluster();
  const leader = electLeader(cluster);
  const command = new Uint8Array(commandBytes).fill(7);
  const startedAt = process.hrtime.bigint();
  for (let proposed = 0; proposed < entryCount; proposed += batchSize) {
    for (let k = 0; k < batchSize; k++) leader.propose(command);
    settle(cluster);
  }
  const elapsedSeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  for (const [id, member] of cluster) {
    if (member.appliedCount < entryCount) throw new Error(`node ${id} applied too little`);
  }
  return entryCount / elapsedSeconds;
}

const rates: number[] = [];
for (let run = 0; run < Number(values.runs); run++) rates.push(runOnce());
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)] ?? 0;
console.log(
  `bench:core 3 nodes, ${entryCount} entries of ${commandBytes} B, batches of ${batchSize}: ` +
    `median ${Math.round(median).toLocaleString('en-US')} entries/s ` +
    `(runs: ${rates.map((rate) => Math.round(rate).toLocaleString('en-US')).join(', ')})`,
);
