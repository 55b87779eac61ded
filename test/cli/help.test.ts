/**
 * `raftkv COMMAND --help` prints that command's help and exits 0, for every command (the general
 * help promises it; `serve --help` used to be refused as an unknown flag).
 */
import { describe, expect, it } from 'vitest';

import { runCli } from './run-cli.js';

describe('raftkv COMMAND --help', () => {
  it.each([
    [['serve', '--help'], '--initial-cluster-size'],
    [['serve', '-h'], '--tick-interval-ms'],
    [['operator', '--help'], '--unhealthy-after-seconds'],
    [['local', 'scale', '--help'], 'Usage: raftkv local scale N'],
    [['local', 'start', '--help'], 'Usage: raftkv local start'],
    [['put', '--help'], 'put'],
  ])('%j', async (commandLine, expected) => {
    const run = await runCli(commandLine);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(expected);
  });
});
