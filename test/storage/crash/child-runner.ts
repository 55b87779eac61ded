/**
 * The parent's handle on one wal-writer-child process: spawns it under tsx (it then loads and
 * waits), tells it to begin, collects its reports line by line, waits for a condition on them, kills it with SIGKILL and waits until it
 * is gone and its pipes are drained (so every report it wrote before dying is read).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { type ChildReport, parseReport } from './child-report.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD_FILE = fileURLToPath(new URL('./wal-writer-child.ts', import.meta.url));
/** Keep the tail of stderr only: enough for an error and its stack. */
const STDERR_KEPT_CHARACTERS = 8000;

/** Whether the child's WAL writes reach the kernel whole or page by page. */
export type WriteMode = 'whole' | 'piecewise';

/** How the child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Waiter {
  readonly isMet: (reports: readonly ChildReport[]) => boolean;
  readonly resolve: () => void;
}

export class WalWriterChild {
  readonly reports: ChildReport[] = [];
  /** Resolves once the process has exited and its stdout and stderr are closed. */
  readonly closed: Promise<ChildExit>;
  private readonly process: ChildProcess;
  private stdoutRest = '';
  private stderrTail = '';
  private waiters: Waiter[] = [];
  private exit: ChildExit | undefined;

  private constructor(
    directory: string,
    seed: number,
    lifetimeMilliseconds: number,
    writeMode: WriteMode,
  ) {
    this.process = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CHILD_FILE,
        directory,
        String(seed),
        String(lifetimeMilliseconds),
        writeMode,
      ],
      // --import resolves tsx from the working directory: the repository's node_modules.
      { cwd: REPOSITORY_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_KEPT_CHARACTERS);
    });
    this.closed = new Promise((resolve) => {
      this.process.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.wakeWaiters();
        resolve(this.exit);
      });
    });
  }

  /**
   * Spawns `node --import tsx wal-writer-child.ts` for `directory`. It loads, then waits for
   * {@link begin} before it opens the directory.
   */
  static spawn(
    directory: string,
    seed: number,
    lifetimeMilliseconds: number,
    writeMode: WriteMode,
  ): WalWriterChild {
    return new WalWriterChild(directory, seed, lifetimeMilliseconds, writeMode);
  }

  /** Lets the child open the directory and start writing. */
  begin(): void {
    this.process.stdin?.write('begin\n');
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Whether the process has not been seen to exit yet. */
  isRunning(): boolean {
    return this.exit === undefined;
  }

  /** The last lines the child wrote to stderr, for failure messages. */
  stderr(): string {
    return this.stderrTail;
  }

  /**
   * Resolves once `isMet(reports)` holds; rejects if the child exits first or the time runs
   * out, quoting its stderr.
   */
  async waitFor(
    isMet: (reports: readonly ChildReport[]) => boolean,
    timeoutMilliseconds: number,
  ): Promise<void> {
    if (isMet(this.reports)) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`child gave no such report in ${timeoutMilliseconds} ms`)),
          timeoutMilliseconds,
        );
        this.waiters.push({ isMet, resolve });
        this.wakeWaiters();
      });
    } finally {
      clearTimeout(timer);
    }
    if (!isMet(this.reports)) {
      throw new Error(
        `child exited (${JSON.stringify(this.exit)}) before the report awaited; ` +
          `reports: ${JSON.stringify(this.reports.slice(-3))}; stderr: ${this.stderrTail}`,
      );
    }
  }

  /** Sends SIGKILL (to this child's PID only) and waits until it is gone. */
  async kill(): Promise<ChildExit> {
    if (this.exit === undefined) this.process.kill('SIGKILL');
    return this.closed;
  }

  private onStdout(chunk: string): void {
    const lines = (this.stdoutRest + chunk).split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.length > 0) this.reports.push(parseReport(line));
    }
    this.wakeWaiters();
  }

  /** Resolves the waiters whose condition holds, or all of them once the child is gone. */
  private wakeWaiters(): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (this.exit !== undefined || waiter.isMet(this.reports)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }
}
