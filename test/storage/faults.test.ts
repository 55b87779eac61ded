/**
 * Fault injection (issue #3): a failed or short write, a failed fdatasync or fsync, rename or
 * directory sync, in the log, during segment rotation and preallocation, and while saving a
 * snapshot. Each must fail stop: the failing operation and everything waiting with it reject with
 * one StorageFatalError, onFatal is called once, nothing resolves afterwards and every later call
 * is refused without touching the disk. After a crash, every acknowledged persist is recovered,
 * both when the page cache survives (kill -9) and when unsynced writes are lost (power loss).
 */
import * as path from 'node:path';

import { afterEach, describe, expect, test } from 'vitest';

import type { HardState } from '../../src/raft/index.js';
import { DurableStorage, StorageFatalError } from '../../src/storage/index.js';
import { snapshotFileName } from '../../src/storage/snapshot-files.js';
import { type Fault, FaultyFileSystem } from './faulty-file-system.js';
import {
  copyDirectory,
  makeEntries,
  makeSnapshot,
  makeTemporaryDirectory,
  NODE_ID,
  removeTemporaryDirectories,
  storageOptions,
} from './storage-fixtures.js';

afterEach(removeTemporaryDirectories);

const FIRST_SEGMENT = '0000000000000001.wal';
const SECOND_SEGMENT = '0000000000000002.wal';

/** A storage on a faulty file system, with every onFatal call collected. */
async function openFaulty(
  directory: string,
  overrides: Parameters<typeof storageOptions>[1] = {},
  armBeforeOpen?: Fault,
) {
  const fileSystem = new FaultyFileSystem();
  if (armBeforeOpen !== undefined) fileSystem.arm(armBeforeOpen);
  const fatalErrors: StorageFatalError[] = [];
  const storage = await DurableStorage.open(
    storageOptions(directory, {
      ...overrides,
      fileSystem,
      onFatal: (error) => fatalErrors.push(error),
    }),
  );
  return { fileSystem, fatalErrors, storage };
}

/** What happened to each persist of a test: acknowledged or refused, and when. */
class PersistLedger {
  /** Last entry index of each persist that resolved. */
  readonly acknowledged: number[] = [];
  readonly refused: { readonly lastIndex: number; readonly error: unknown }[] = [];
  /** Persists that resolved after onFatal had been called: must stay empty. */
  readonly acknowledgedAfterFatal: number[] = [];

  constructor(
    private readonly storage: DurableStorage,
    private readonly fatalErrors: readonly StorageFatalError[],
  ) {}

  /** Persists entries first..last (with `hardState`, if given) and records the outcome. */
  persist(first: number, last: number, hardState?: HardState): Promise<void> {
    const request = { entries: makeEntries(first, last), hardState, mustSync: true };
    return this.storage.persist(request).then(
      () => {
        this.acknowledged.push(last);
        if (this.fatalErrors.length > 0) this.acknowledgedAfterFatal.push(last);
      },
      (error: unknown) => {
        this.refused.push({ lastIndex: last, error });
      },
    );
  }

  /** Highest acknowledged index (0 if none). */
  lastAcknowledged(): number {
    return Math.max(0, ...this.acknowledged);
  }
}

/** Opens `directory` with the real file system, returns what was recovered and closes. */
async function recover(directory: string) {
  const storage = await DurableStorage.open(storageOptions(directory));
  const recovered = storage.recovered;
  await storage.close();
  return recovered;
}

/**
 * Simulates both crashes of an instance that is dropped without close: kill -9 (the written bytes
 * stay in the page cache; checked on a copy) and power loss (unsynced writes are undone). Returns
 * the last index recovered in each case, after checking that every acknowledged persist is there
 * and every recovered entry is exactly what was written.
 */
async function recoverAfterCrashes(
  directory: string,
  fileSystem: FaultyFileSystem,
  ledger: PersistLedger,
): Promise<{ afterKill: number; afterPowerLoss: number }> {
  await fileSystem.settled();
  const killed = await recover(copyDirectory(directory, 'faults-killed'));
  fileSystem.loseUnsyncedWrites();
  const poweredOff = await recover(directory);
  const lastIndexes = [];
  for (const recovered of [killed, poweredOff]) {
    const lastIndex = recovered.entries.at(-1)?.index ?? 0;
    expect(lastIndex).toBeGreaterThanOrEqual(ledger.lastAcknowledged());
    expect(recovered.entries).toEqual(makeEntries(1, lastIndex));
    lastIndexes.push(lastIndex);
  }
  const [afterKill = 0, afterPowerLoss = 0] = lastIndexes;
  return { afterKill, afterPowerLoss };
}

/** Asserts the storage refuses everything now, at once: without a single further disk call. */
async function expectRefusesEverything(
  storage: DurableStorage,
  fileSystem: FaultyFileSystem,
  fatal: StorageFatalError,
  nextIndex: number,
): Promise<void> {
  const callCount = fileSystem.calls.length;
  await expect(
    storage.persist({ entries: makeEntries(nextIndex, nextIndex), mustSync: true }),
  ).rejects.toBe(fatal);
  await expect(
    storage.persist({ entries: makeEntries(nextIndex, nextIndex), mustSync: false }),
  ).rejects.toBe(fatal);
  await expect(storage.saveSnapshot(makeSnapshot(1))).rejects.toBe(fatal);
  expect(storage.fatalError()).toBe(fatal);
  expect(fileSystem.calls.slice(callCount)).toEqual([]);
}

function onlyFatalError(fatalErrors: readonly StorageFatalError[]): StorageFatalError {
  expect(fatalErrors).toHaveLength(1);
  const [fatal] = fatalErrors;
  if (fatal === undefined) throw new Error('no fatal error');
  expect(fatal).toBeInstanceOf(StorageFatalError);
  expect(fatal.code).toBe('STORAGE_IO_FAILED');
  return fatal;
}

describe('a failure in the write-ahead log', () => {
  /** Entries acknowledged before the fault is armed. */
  const WARM_UP_LAST = 50;
  /** Concurrent single-entry persists after arming: groups of about 11 (1 KiB writes). */
  const BURST = 40;
  /** Group 1 is the burst's first persist alone, group 2 succeeds, group 3 hits the fault. */
  const FAULTY_OCCURRENCE = 3;

  test.each([
    {
      name: 'EIO on write',
      operation: 'write',
      effect: { kind: 'error', code: 'EIO' },
      systemCode: 'EIO',
      detail: 'EIO',
    },
    {
      name: 'ENOSPC on write',
      operation: 'write',
      effect: { kind: 'error', code: 'ENOSPC' },
      systemCode: 'ENOSPC',
      detail: 'ENOSPC',
    },
    {
      name: 'EIO on fdatasync',
      operation: 'fdatasync',
      effect: { kind: 'error', code: 'EIO' },
      systemCode: 'EIO',
      detail: 'EIO',
    },
    {
      name: 'a short write',
      operation: 'write',
      effect: { kind: 'shortWrite', bytesWritten: 100 },
      systemCode: undefined,
      detail: 'short write',
    },
  ] as const)(
    '$name fails the whole group and everything after it; nothing unsynced is acknowledged',
    async ({ operation, effect, systemCode, detail }) => {
      const directory = makeTemporaryDirectory('faults-wal');
      const { fileSystem, fatalErrors, storage } = await openFaulty(directory, {
        writeBytesMax: 1024,
      });
      const ledger = new PersistLedger(storage, fatalErrors);
      const hardState: HardState = { term: 1, votedFor: NODE_ID, commitIndex: 0 };
      for (let first = 1; first <= WARM_UP_LAST; first += 5) {
        await ledger.persist(first, first + 4, { ...hardState, commitIndex: first - 1 });
      }
      expect(ledger.acknowledged).toHaveLength(WARM_UP_LAST / 5);

      fileSystem.arm({
        operation,
        occurrence: FAULTY_OCCURRENCE,
        pathPattern: /\.wal$/,
        effect,
      });
      const burst: Promise<void>[] = [];
      for (let index = WARM_UP_LAST + 1; index <= WARM_UP_LAST + BURST; index++) {
        burst.push(ledger.persist(index, index));
      }
      await Promise.all(burst);

      expect(fileSystem.firedCall).toMatchObject({
        operation,
        path: path.join(directory, 'wal', FIRST_SEGMENT),
      });
      const fatal = onlyFatalError(fatalErrors);
      expect(fatal).toMatchObject({
        operation,
        systemCode,
        file: path.join(directory, 'wal', FIRST_SEGMENT),
      });
      expect(fatal.message).toContain(detail);
      // Acknowledged: the warm-up and the burst's first two groups, in order; refused: the
      // failing group and every persist queued behind it, all with the one fatal error.
      const acknowledgedInBurst = ledger.acknowledged.filter((index) => index > WARM_UP_LAST);
      expect(acknowledgedInBurst.length).toBeGreaterThanOrEqual(2);
      expect(acknowledgedInBurst).toEqual(
        Array.from({ length: acknowledgedInBurst.length }, (_, k) => WARM_UP_LAST + 1 + k),
      );
      expect(ledger.refused).toHaveLength(BURST - acknowledgedInBurst.length);
      expect(ledger.refused.length).toBeGreaterThan(12);
      for (const { error } of ledger.refused) expect(error).toBe(fatal);
      expect(ledger.acknowledgedAfterFatal).toEqual([]);

      await expectRefusesEverything(storage, fileSystem, fatal, WARM_UP_LAST + BURST + 1);
      expect(fatalErrors).toHaveLength(1);

      const { afterKill, afterPowerLoss } = await recoverAfterCrashes(
        directory,
        fileSystem,
        ledger,
      );
      // Only what was synced survives a power loss, and that is exactly what was acknowledged.
      expect(afterPowerLoss).toBe(ledger.lastAcknowledged());
      if (effect.kind === 'error' && operation === 'write') {
        expect(afterKill).toBe(ledger.lastAcknowledged());
      }
    },
  );
});

describe('a failure while rotating to a new segment', () => {
  test.each([
    {
      name: 'ENOSPC while preallocating it',
      fault: { operation: 'write', pathPattern: /next-segment\.tmp$/, effect: 'ENOSPC' },
      isArmedBeforeOpen: true,
      operation: 'preallocate',
      systemCode: 'ENOSPC',
      fileEnding: 'next-segment.tmp',
      overrides: {},
    },
    {
      name: 'EIO on fsync of the preallocated file',
      fault: { operation: 'fsync', pathPattern: /next-segment\.tmp$/, effect: 'EIO' },
      isArmedBeforeOpen: true,
      operation: 'preallocate',
      systemCode: 'EIO',
      fileEnding: 'next-segment.tmp',
      overrides: {},
    },
    {
      name: 'EIO renaming the preallocated file into place',
      fault: { operation: 'rename', pathPattern: /next-segment\.tmp$/, effect: 'EIO' },
      isArmedBeforeOpen: false,
      operation: 'rename',
      systemCode: 'EIO',
      overrides: {},
      fileEnding: SECOND_SEGMENT,
    },
    {
      name: 'EIO on fdatasync of the new segment',
      fault: { operation: 'fdatasync', pathPattern: /2\.wal$/, effect: 'EIO' },
      isArmedBeforeOpen: false,
      operation: 'fdatasync',
      systemCode: 'EIO',
      overrides: {},
      fileEnding: SECOND_SEGMENT,
    },
    {
      name: 'EIO syncing the log directory',
      fault: { operation: 'syncDirectory', pathPattern: /wal$/, effect: 'EIO' },
      isArmedBeforeOpen: false,
      operation: 'sync directory',
      fileEnding: `${path.sep}wal`,
      systemCode: 'EIO',
      overrides: {},
    },
    {
      name: 'ENOSPC writing the new segment header (no preallocation)',
      fault: { operation: 'write', pathPattern: /2\.wal$/, effect: 'ENOSPC' },
      isArmedBeforeOpen: false,
      operation: 'write',
      systemCode: 'ENOSPC',
      overrides: { isPreallocationEnabled: false },
      fileEnding: SECOND_SEGMENT,
    },
  ] as const)(
    '$name is fatal; the persist that needed the new segment is refused',
    async ({
      fault: faultSpec,
      isArmedBeforeOpen,
      operation,
      systemCode,
      fileEnding,
      overrides,
    }) => {
      const fault: Fault = {
        operation: faultSpec.operation,
        pathPattern: faultSpec.pathPattern,
        occurrence: 1,
        effect: { kind: 'error', code: faultSpec.effect },
      };
      const directory = makeTemporaryDirectory('faults-rotate');
      const { fileSystem, fatalErrors, storage } = await openFaulty(
        directory,
        overrides,
        isArmedBeforeOpen ? fault : undefined,
      );
      if (!isArmedBeforeOpen) fileSystem.arm(fault);
      const ledger = new PersistLedger(storage, fatalErrors);
      let next = 1;
      while (ledger.refused.length === 0 && next < 1000) {
        await ledger.persist(next, next + 9);
        next += 10;
      }

      expect(fileSystem.firedCall?.operation).toBe(faultSpec.operation);
      const fatal = onlyFatalError(fatalErrors);
      expect(fatal).toMatchObject({ operation, systemCode });
      expect(fatal.file.endsWith(fileEnding)).toBe(true);
      expect(ledger.refused).toEqual([{ lastIndex: next - 1, error: fatal }]);
      // It took a rotation: the first segment (16 KiB) held the acknowledged entries.
      expect(ledger.lastAcknowledged()).toBeGreaterThan(100);
      expect(ledger.acknowledgedAfterFatal).toEqual([]);
      await expectRefusesEverything(storage, fileSystem, fatal, next);

      const { afterKill, afterPowerLoss } = await recoverAfterCrashes(
        directory,
        fileSystem,
        ledger,
      );
      // The refused batch was never written: rotation comes before the write.
      expect(afterKill).toBe(ledger.lastAcknowledged());
      expect(afterPowerLoss).toBe(ledger.lastAcknowledged());
    },
  );
});

describe('a failure while saving a snapshot', () => {
  const LAST_INDEX = 80;

  /** Entries 1..80, a good snapshot at 20, then a snapshot at 60 whose save hits `fault`. */
  async function failSnapshotSave(fault: Fault) {
    const directory = makeTemporaryDirectory('faults-snap');
    const { fileSystem, fatalErrors, storage } = await openFaulty(directory);
    const ledger = new PersistLedger(storage, fatalErrors);
    for (let first = 1; first <= LAST_INDEX; first += 10) await ledger.persist(first, first + 9);
    await storage.saveSnapshot(makeSnapshot(20));
    fileSystem.arm(fault);
    const error = await storage.saveSnapshot(makeSnapshot(60)).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    return { directory, fileSystem, fatalErrors, storage, ledger, error };
  }

  test.each([
    {
      name: 'EIO on fsync of the temporary file',
      fault: { operation: 'fsync', code: 'EIO' },
      operation: 'fsync',
      isTemporary: true,
    },
    {
      name: 'ENOSPC writing the temporary file',
      fault: { operation: 'write', code: 'ENOSPC' },
      operation: 'write',
      isTemporary: true,
    },
    {
      name: 'EIO renaming it into place',
      fault: { operation: 'rename', code: 'EIO' },
      operation: 'rename',
      isTemporary: false,
    },
  ] as const)(
    '$name is fatal, and the older snapshot is used after a restart',
    async ({ fault, operation, isTemporary }) => {
      const { directory, fileSystem, fatalErrors, storage, ledger, error } = await failSnapshotSave(
        {
          operation: fault.operation,
          occurrence: 1,
          pathPattern: /\.snap\.tmp$/,
          effect: { kind: 'error', code: fault.code },
        },
      );

      expect(fileSystem.firedCall?.operation).toBe(fault.operation);
      const fatal = onlyFatalError(fatalErrors);
      expect(error).toBe(fatal);
      const file = path.join(directory, 'snap', snapshotFileName(60, 1));
      expect(fatal).toMatchObject({
        operation,
        systemCode: fault.code,
        file: isTemporary ? `${file}.tmp` : file,
      });
      expect(storage.fatalError()).toBe(fatal);
      await expect(storage.saveSnapshot(makeSnapshot(70))).rejects.toBe(fatal);
      expect(fatalErrors).toHaveLength(1);

      await fileSystem.settled();
      const recovered = await recover(directory);
      expect(recovered.snapshot).toEqual(makeSnapshot(20));
      expect(recovered.report.damagedSnapshots).toEqual([]);
      expect(recovered.entries).toEqual(makeEntries(21, ledger.lastAcknowledged()));
      expect(ledger.lastAcknowledged()).toBe(LAST_INDEX);
    },
  );

  // The failure is the snapshot files', not the log writer's: persist must still refuse (it went
  // straight to the writer and kept acknowledging after onFatal until 6963051).
  test('after a failed snapshot save, persist is refused too', async () => {
    const { fileSystem, fatalErrors, storage } = await failSnapshotSave({
      operation: 'fsync',
      occurrence: 1,
      pathPattern: /\.snap\.tmp$/,
      effect: { kind: 'error', code: 'EIO' },
    });
    const fatal = onlyFatalError(fatalErrors);

    await expectRefusesEverything(storage, fileSystem, fatal, LAST_INDEX + 1);
  });
});
