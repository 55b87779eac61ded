/**
 * The process the crash test kills: opens DurableStorage on the directory it is given,
 * bootstraps it if it holds nothing yet, then appends forever from the recovered last index with
 * several persist calls in flight (so group commit batches them), the hard state advancing, now
 * and then a higher term, and a local snapshot whenever the storage says one is due (which
 * deletes the segments it covers). Every resolved call is reported on stdout (child-report.ts),
 * only after it resolved. It never stops by itself short of its lifetime limit: the parent kills
 * it with SIGKILL.
 *
 * It touches the directory only once the parent writes a line to its stdin: the parent starts
 * the next child while the current one runs, so that loading tsx and the modules (most of a
 * cycle's time) overlaps with the cycle before.
 *
 * With write mode `piecewise` its WAL writes go to the kernel page by page
 * (piecewise-file-system.ts), so that kills often tear a batch; `whole` uses the real file
 * system unchanged.
 *
 * Usage: node --import tsx wal-writer-child.ts <directory> <seed> <lifetime milliseconds>
 *        <whole|piecewise>
 */
import { type Entry, type HardState, createPrng } from '../../../src/raft/index.js';
import { DurableStorage, NODE_FILE_SYSTEM } from '../../../src/storage/index.js';
import { type ChildReport, formatReport } from './child-report.js';
import {
  CLUSTER_ID,
  entryData,
  INCARNATION,
  NODE_ID,
  SEGMENT_BYTES_TARGET,
  snapshotAt,
} from './entry-content.js';
import { piecewiseFileSystem } from './piecewise-file-system.js';

/** Exit codes, so the parent can tell a failure from its own kill. */
const EXIT_FAILED = 1;
const EXIT_LIFETIME_OVER = 3;
const EXIT_PARENT_GONE = 4;

function report(value: ChildReport): void {
  // stdout is a pipe: on Linux the write is synchronous, so the line is in the pipe before the
  // next write to the disk starts, and a SIGKILL cannot lose an acknowledgement already made.
  process.stdout.write(formatReport(value));
}

function fail(error: unknown): never {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  report({ kind: 'failed', message });
  process.exit(EXIT_FAILED);
}

/**
 * Never outlive the parent: exit when it closes our stdin (or dies), or after the lifetime.
 * Resolves when the parent says to start.
 */
function guardLifetime(lifetimeMilliseconds: number): Promise<void> {
  setTimeout(() => process.exit(EXIT_LIFETIME_OVER), lifetimeMilliseconds).unref();
  process.stdout.on('error', () => process.exit(EXIT_PARENT_GONE));
  process.stdin.on('end', () => process.exit(EXIT_PARENT_GONE));
  return new Promise((resolve) => {
    process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('\n')) resolve();
    });
  });
}

async function main(): Promise<void> {
  const [directory, seedText, lifetimeText, writeMode] = process.argv.slice(2);
  if (
    directory === undefined ||
    seedText === undefined ||
    lifetimeText === undefined ||
    (writeMode !== 'whole' && writeMode !== 'piecewise')
  ) {
    throw new Error(
      'usage: wal-writer-child.ts <directory> <seed> <lifetime milliseconds> <whole|piecewise>',
    );
  }
  await guardLifetime(Number(lifetimeText));
  const prng = createPrng(Number(seedText));
  const storage = await DurableStorage.open({
    directory,
    clusterId: CLUSTER_ID,
    nodeId: NODE_ID,
    incarnationForNewDirectory: INCARNATION,
    fileSystem:
      writeMode === 'piecewise' ? piecewiseFileSystem(NODE_FILE_SYSTEM) : NODE_FILE_SYSTEM,
    segmentBytesTarget: SEGMENT_BYTES_TARGET,
    isPreallocationEnabled: true,
    snapshotEntriesThreshold: 100 + prng.nextInt(900),
    onFatal: fail,
  });
  const { snapshot, entries, hardState } = storage.recovered;
  const lastEntry = entries.at(-1);
  let lastIndex = lastEntry?.index ?? snapshot?.metadata.index ?? 0;
  let lastTerm = lastEntry?.term ?? snapshot?.metadata.term ?? 0;
  report({
    kind: 'recovered',
    snapshotIndex: snapshot?.metadata.index ?? 0,
    lastIndex,
    term: hardState.term,
    commitIndex: hardState.commitIndex,
  });
  // A directory with nothing in it (new, or killed before the bootstrap was durable) is
  // bootstrapped like a founding member.
  let current: HardState = hardState;
  if (lastIndex === 0) {
    current = { term: 1, votedFor: 0, commitIndex: 1 };
    await storage.persist({
      snapshot: snapshotAt(1, 1),
      entries: [],
      hardState: current,
      mustSync: true,
    });
    report({ kind: 'snapshot', index: 1, term: 1 });
    lastIndex = 1;
    lastTerm = 1;
  }
  let term = Math.max(current.term, lastTerm, 1);
  let votedFor = current.votedFor;
  let nextIndex = lastIndex + 1;
  // Commit (and snapshot) only what this process saw acknowledged as durable.
  let durableIndex = current.commitIndex;
  let durableTerm = 0;
  let isSnapshotting = false;

  const produce = async (): Promise<void> => {
    for (;;) {
      let isHardStateChanged = prng.nextInt(2) === 0;
      if (prng.nextInt(40) === 0) {
        term++;
        votedFor = NODE_ID;
        isHardStateChanged = true;
      }
      const batchTerm = term;
      const firstIndex = nextIndex;
      const batchLastIndex = firstIndex + prng.nextInt(50);
      nextIndex = batchLastIndex + 1;
      const batch: Entry[] = [];
      for (let index = firstIndex; index <= batchLastIndex; index++) {
        batch.push({ kind: 'normal', index, term: batchTerm, data: entryData(index, batchTerm) });
      }
      const batchHardState = isHardStateChanged
        ? { term: batchTerm, votedFor, commitIndex: durableIndex }
        : undefined;
      const mustSync = prng.nextInt(8) !== 0;
      await storage.persist({ entries: batch, hardState: batchHardState, mustSync });
      report({
        kind: 'persisted',
        firstIndex,
        lastIndex: batchLastIndex,
        term: batchTerm,
        isSynced: mustSync,
        ...(batchHardState === undefined
          ? {}
          : { hardStateTerm: batchHardState.term, commitIndex: batchHardState.commitIndex }),
      });
      if (!mustSync) continue;
      // Calls resolve in call order, so this batch is the newest durable one.
      durableIndex = batchLastIndex;
      durableTerm = batchTerm;
      if (!isSnapshotting && storage.shouldSnapshot(durableIndex)) {
        isSnapshotting = true;
        const index = durableIndex;
        const snapshotTerm = durableTerm;
        await storage.saveSnapshot(snapshotAt(index, snapshotTerm));
        report({ kind: 'snapshot', index, term: snapshotTerm });
        isSnapshotting = false;
      }
    }
  };

  const producerCount = 4 + prng.nextInt(13);
  await Promise.all(Array.from({ length: producerCount }, produce));
}

main().catch(fail);
