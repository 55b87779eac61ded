/**
 * `raftkv wal inspect` as an operator runs it: the real CLI in a child process (through tsx) on
 * data directories written by DurableStorage, checking exit codes (0 healthy, 1 would not start,
 * 2 usage, 3 unreadable), the key lines of the human report, and that `--json` parses.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EMPTY_CONFIGURATION, type Entry, type Snapshot } from '../../src/raft/index.js';
import { type DataDirectoryInspection, DurableStorage } from '../../src/storage/index.js';

const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD_TIMEOUT_MILLISECONDS = 30_000;
const NODE_ID = 4;

interface CliRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `raftkv ...arguments` from the sources, as `npm run raftkv` does. */
function runCli(commandArguments: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...commandArguments],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MILLISECONDS);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr });
    });
  });
}

function snapshotAt(index: number): Snapshot {
  const configuration = { ...EMPTY_CONFIGURATION, voters: [NODE_ID] };
  return { metadata: { index, term: 1, configuration }, data: new Uint8Array(16) };
}

/** A member's directory: bootstrap snapshot at 1, entries 2..41 over several 4 KiB segments. */
async function writeDirectory(directory: string): Promise<void> {
  const storage = await DurableStorage.open({
    directory,
    clusterId: 0xabc123n,
    nodeId: NODE_ID,
    incarnationForNewDirectory: 0x77n,
    segmentBytesTarget: 4096,
    isPreallocationEnabled: false,
  });
  const hardState = { term: 1, votedFor: NODE_ID, commitIndex: 1 };
  await storage.persist({ snapshot: snapshotAt(1), entries: [], hardState, mustSync: true });
  for (let first = 2; first <= 41; first += 5) {
    const entries: Entry[] = [0, 1, 2, 3, 4].map((offset) => ({
      kind: 'normal',
      index: first + offset,
      term: 1,
      data: new Uint8Array(96).fill(offset),
    }));
    await storage.persist({
      entries,
      hardState: { ...hardState, commitIndex: first - 1 },
      mustSync: true,
    });
  }
  await storage.close();
}

describe('raftkv wal inspect', () => {
  let root: string;
  let healthy: string;
  let damaged: string;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-cli-inspect-'));
    healthy = path.join(root, 'healthy');
    damaged = path.join(root, 'damaged');
    await writeDirectory(healthy);
    fs.cpSync(healthy, damaged, { recursive: true });
    const file = path.join(damaged, 'wal', '0000000000000001.wal');
    const bytes = fs.readFileSync(file);
    const middle = Math.floor(bytes.byteLength / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0x01;
    fs.writeFileSync(file, bytes);
  });

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('prints the report of a healthy directory and exits 0', async () => {
    const run = await runCli(['wal', 'inspect', healthy]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('Identity stamp  cluster abc123, node 4, incarnation 77, not removed');
    expect(lines.some((line) => /^ {2}seq {2}file +size {2}records {2}entries/.test(line))).toBe(
      true,
    );
    expect(
      lines.some((line) => /^ +1 {2}0000000000000001\.wal .* 2-\d+ +1 +intact$/.test(line)),
    ).toBe(true);
    expect(run.stdout).toContain('Hard state  term 1, voted for 4, commit index 36');
    expect(run.stdout).toMatch(/0000000000000001-0000000000000001\.snap +\d+ +valid/);
    expect(run.stdout).toContain('Verdict: a node WOULD START from this directory');
    expect(run.stdout).toContain('then 40 entries up to index 41');
  });

  it('marks the damaged segment, names the error and remedy, and exits 1', async () => {
    const run = await runCli(['wal', 'inspect', damaged]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/ 1 {2}0000000000000001\.wal .*DAMAGED at \d+ \(WAL_CORRUPT\)$/m);
    expect(run.stdout).toMatch(/ 2 {2}0000000000000002\.wal .*intact$/m);
    expect(run.stdout).toContain('Verdict: a node would NOT START from this directory');
    expect(run.stdout).toMatch(/^ {2}WAL_CORRUPT: write-ahead log is damaged: /m);
    expect(run.stdout).toContain(`File:    ${path.join(damaged, 'wal', '0000000000000001.wal')}`);
    expect(run.stdout).toMatch(/^ {2}Offset: {2}\d+$/m);
    expect(run.stdout).toMatch(/^ {2}Remedy: {2}Do not edit the file\./m);
  });

  it('prints the report as JSON with --json, ids as hex strings', async () => {
    const run = await runCli(['wal', 'inspect', '--json', damaged]);
    expect(run.exitCode).toBe(1);
    const report = JSON.parse(run.stdout) as DataDirectoryInspection;
    expect(report.identity).toEqual({
      kind: 'stamped',
      clusterId: 'abc123',
      nodeId: NODE_ID,
      incarnation: '77',
      isRemoved: false,
    });
    expect(report.wal.segments[0]?.status).toBe('damaged');
    expect(report.verdict).toMatchObject({ kind: 'refused', error: { code: 'WAL_CORRUPT' } });
  });

  it('exits 3 when the directory does not exist', async () => {
    const run = await runCli(['wal', 'inspect', path.join(root, 'absent')]);
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('data directory cannot be read');
  });

  it.each([
    [['wal', 'inspect'], 'missing DIR'],
    [['wal', 'inspect', 'a', 'b'], "unexpected argument 'b'"],
    [['wal', 'inspect', '--bogus', 'a'], "Unknown option '--bogus'"],
    [['wal', 'inspekt', 'a'], "unknown command 'wal inspekt a'"],
    [[], 'Usage: raftkv COMMAND'],
  ])('exits 2 with usage on stderr for %j', async (commandArguments, message) => {
    const run = await runCli(commandArguments);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
  });

  it('prints help on stdout and exits 0', async () => {
    const general = await runCli(['--help']);
    expect(general.exitCode).toBe(0);
    expect(general.stdout).toMatch(
      /^ {2}wal inspect DIR \[--json\] {2}report on a data directory/m,
    );
    const command = await runCli(['help', 'wal', 'inspect']);
    expect(command.exitCode).toBe(0);
    expect(command.stdout).toContain('Usage: raftkv wal inspect DIR [--json]');
    expect(command.stdout).toContain('1  report printed; a node would NOT start from DIR');
  });
});
