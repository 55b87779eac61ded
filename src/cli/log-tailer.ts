/**
 * Follows every `*.log` file of a directory, like `tail -F`, calling back once per complete new
 * line. Files present at start are followed from their end (old lines are not replayed); files
 * that appear later from their beginning. Polls: the members append from other processes, which
 * fs.watch reports unreliably.
 */
import { openSync, readdirSync, readSync, closeSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** Time between two looks at the directory. */
const POLL_INTERVAL_MS = 200;
/** Most bytes read from one file per look; the rest waits for the next one. */
const READ_BYTES_MAX = 1 << 20;

export class LogTailer {
  private readonly offsets = new Map<string, number>();
  private readonly partialLines = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly directory: string,
    private readonly onLine: (file: string, line: string) => void,
  ) {}

  start(): void {
    for (const file of this.files()) this.offsets.set(file, sizeOf(file));
    this.timer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }

  private files(): string[] {
    try {
      return readdirSync(this.directory)
        .filter((name) => name.endsWith('.log'))
        .sort()
        .map((name) => path.join(this.directory, name));
    } catch {
      return [];
    }
  }

  private poll(): void {
    for (const file of this.files()) {
      const offset = this.offsets.get(file) ?? 0;
      const size = sizeOf(file);
      if (size < offset) this.offsets.set(file, 0); // Truncated or replaced: start over.
      if (size <= offset) continue;
      const length = Math.min(size - offset, READ_BYTES_MAX);
      const buffer = Buffer.alloc(length);
      const descriptor = openSync(file, 'r');
      try {
        readSync(descriptor, buffer, 0, length, offset);
      } finally {
        closeSync(descriptor);
      }
      this.offsets.set(file, offset + length);
      const text = (this.partialLines.get(file) ?? '') + buffer.toString('utf8');
      const lines = text.split('\n');
      this.partialLines.set(file, lines.pop() ?? '');
      for (const line of lines) if (line !== '') this.onLine(file, line);
    }
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
