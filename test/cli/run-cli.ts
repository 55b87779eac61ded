/**
 * Runs `raftkv ...` from the sources in a child process, as `npm run raftkv` does, for the CLI
 * tests: exit code, stdout and stderr. RAFTKV_ENDPOINTS is cleared unless a test sets it.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD_TIMEOUT_MILLISECONDS = 30_000;

export interface CliRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  commandArguments: readonly string[],
  environment: Readonly<Record<string, string>> = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...environment };
  if (environment.RAFTKV_ENDPOINTS === undefined) delete env.RAFTKV_ENDPOINTS;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...commandArguments],
      { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
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
