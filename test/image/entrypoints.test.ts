/**
 * The image's runtime stage, reproduced without Docker (no engine on this machine or in CI): a
 * temporary directory gets package.json and package-lock.json, the Dockerfile's own production
 * `npm ci` (from the npm cache when possible), the built dist/ and deploy/grafana/, and then the
 * image's entry points run from there with the image's environment: `help serve`, a real
 * one-member `serve` until /readyz answers 200 and a clean exit on SIGTERM, and the operator's
 * `--help`. This proves the production dependencies suffice (no dev package is imported at run
 * time). The Dockerfile's final stage is checked for what the chart relies on.
 *
 * Skipped, with a message, only if npm can reach neither the registry nor its cache.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type DockerStage,
  execForm,
  parseDockerfile,
  stageEnvironment,
} from './dockerfile-stages.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** A cold npm cache may have to download the production tree. */
const NPM_CI_TIMEOUT_MS = 180_000;
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 20_000;
/** npm's answers when it can reach neither the registry nor a cached copy. */
const OFFLINE_ERRORS =
  /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|ENETUNREACH/;

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Every process this file started and has not seen exit, stopped by PID at the end. */
const running = new Set<ChildProcess>();

function start(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, output });
    });
  });
  return { child, finished, output: () => output };
}

/** Runs to the end; SIGKILL (by PID) after `timeoutMs`. */
async function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Finished> {
  const started = start(command, args, cwd, env);
  const timer = setTimeout(() => started.child.kill('SIGKILL'), timeoutMs);
  try {
    return await started.finished;
  } finally {
    clearTimeout(timer);
  }
}

/** `count` distinct ports free on 127.0.0.1 right now. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            resolve(typeof address === 'object' && address !== null ? address.port : 0);
          });
        }),
    ),
  );
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', () => resolve(0));
  });
}

const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1) as DockerStage;

function instructions(stage: DockerStage, keyword: string): string[] {
  return stage.instructions.filter((entry) => entry.keyword === keyword).map((entry) => entry.args);
}

/** The flags of the final stage's `npm ci`, which this test runs too. */
function runtimeNpmCiFlags(): string[] {
  const install = instructions(runtime, 'RUN').find((args) => /\bnpm ci\b/.test(args)) ?? '';
  const command = /\bnpm ci\b([^&;|]*)/.exec(install)?.[1] ?? '';
  return command.split(/\s+/).filter((word) => word.startsWith('--'));
}

/** The environment the image's processes get: ours without RAFTKV_*, plus the stage's ENV. */
function imageEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('RAFTKV_') && !key.startsWith('npm_')) environment[key] = value;
  }
  return { ...environment, ...stageEnvironment(runtime) };
}

describe('Dockerfile', () => {
  it('builds on Node 24 and runs the final stage as the node user, in exec form', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:24[.-]/);
    expect(instructions(runtime, 'USER').at(-1)).toMatch(/^(node|1000)(:(node|1000))?$/);
    expect(instructions(runtime, 'WORKDIR').at(-1)).toBe('/app');
    expect(stageEnvironment(runtime)['NODE_ENV']).toBe('production');
    expect(execForm(instructions(runtime, 'ENTRYPOINT').at(-1) ?? '')).toEqual([
      'node',
      'dist/cli/main.js',
    ]);
    expect(execForm(instructions(runtime, 'CMD').at(-1) ?? '')).toEqual(['serve']);
    for (const stage of stages) {
      for (const keyword of ['ENTRYPOINT', 'CMD']) {
        for (const args of instructions(stage, keyword)) expect(execForm(args)).toBeDefined();
      }
    }
    expect(instructions(runtime, 'EXPOSE').join(' ').split(/\s+/).sort()).toEqual([
      '2379',
      '2380',
      '2381',
      '8081',
    ]);
  });

  it('installs production dependencies only and copies dist/ and the dashboard', () => {
    expect(runtimeNpmCiFlags()).toContain('--omit=dev');
    const copies = instructions(runtime, 'COPY');
    expect(copies).toContainEqual(expect.stringMatching(/^--from=\S+ \S*dist\/? dist\/?$/));
    expect(copies).toContain('deploy/grafana/ deploy/grafana/');
    expect(copies).toContain('package.json package-lock.json ./');
    const labels = instructions(runtime, 'LABEL').join(' ');
    for (const key of ['title', 'version', 'revision', 'licenses']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
  });
});

describe('the image runtime stage, without Docker', () => {
  let appDirectory = '';
  let skipReason: string | undefined;

  beforeAll(async () => {
    appDirectory = mkdtempSync(path.join(tmpdir(), 'raftkv-image-'));
    for (const file of ['package.json', 'package-lock.json']) {
      cpSync(path.join(ROOT, file), path.join(appDirectory, file));
    }
    const flags = [...runtimeNpmCiFlags(), '--prefer-offline'];
    const npmEnvironment = imageEnvironment();
    const install = await run(
      'npm',
      ['ci', ...flags],
      appDirectory,
      npmEnvironment,
      NPM_CI_TIMEOUT_MS,
    );
    if (install.code !== 0) {
      if (OFFLINE_ERRORS.test(install.output)) {
        skipReason = `npm ci ${flags.join(' ')} found neither the registry nor a cached copy`;
        return;
      }
      throw new Error(`npm ci ${flags.join(' ')} failed:\n${install.output}`);
    }
    cpSync(path.join(ROOT, 'dist'), path.join(appDirectory, 'dist'), { recursive: true });
    const grafana = path.join(ROOT, 'deploy', 'grafana');
    if (existsSync(grafana)) {
      cpSync(grafana, path.join(appDirectory, 'deploy', 'grafana'), { recursive: true });
    }
  }, NPM_CI_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    if (appDirectory !== '') rmSync(appDirectory, { recursive: true, force: true });
  });

  it('has the production dependencies and no development ones', (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    const modules = path.join(appDirectory, 'node_modules');
    for (const name of ['prom-client', '@grpc/grpc-js', '@kubernetes/client-node', 'pino']) {
      expect(existsSync(path.join(modules, name, 'package.json')), name).toBe(true);
    }
    for (const name of ['vitest', 'typescript', 'tsx', 'etcd3']) {
      expect(existsSync(path.join(modules, name)), name).toBe(false);
    }
  });

  it('ships the dashboard the operator reads', (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    const dashboard = path.join(appDirectory, 'deploy', 'grafana', 'raftkv.json');
    expect(existsSync(dashboard), 'deploy/grafana/raftkv.json').toBe(true);
    expect(() => JSON.parse(readFileSync(dashboard, 'utf8')) as unknown).not.toThrow();
  });

  it('prints the serve help', async (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    const help = await run(
      process.execPath,
      ['dist/cli/main.js', 'help', 'serve'],
      appDirectory,
      imageEnvironment(),
      EXIT_TIMEOUT_MS,
    );
    expect(help.code, help.output).toBe(0);
    expect(help.output).toContain('--initial-cluster-size');
  });

  it('serves as a one-member cluster until ready, and exits 0 on SIGTERM', async (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    const [clientPort, peerPort, httpPort] = await freePorts(3);
    const member = start(
      process.execPath,
      [
        'dist/cli/main.js',
        'serve',
        '--hostname=raftkv-0',
        '--initial-cluster-size=1',
        '--listen-host=127.0.0.1',
        `--client-port=${clientPort}`,
        `--peer-port=${peerPort}`,
        `--http-port=${httpPort}`,
        `--peer-address-template=127.0.0.1:{${peerPort}+ordinal}`,
        `--client-address-template=127.0.0.1:{${clientPort}+ordinal}`,
        `--data-dir=${path.join(appDirectory, 'data', 'raftkv-0')}`,
        '--tick-interval-ms=50',
        '--wal-segment-bytes=4MiB',
      ],
      appDirectory,
      imageEnvironment(),
    );
    let hasExited = false;
    void member.finished.then(() => (hasExited = true));
    const deadlineMs = Date.now() + READY_TIMEOUT_MS;
    let status = 0;
    while (status !== 200 && !hasExited && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await httpStatus(`http://127.0.0.1:${httpPort}/readyz`);
    }
    expect(status, member.output()).toBe(200);
    member.child.kill('SIGTERM');
    const timer = setTimeout(() => member.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    const exit = await member.finished;
    clearTimeout(timer);
    expect({ code: exit.code, signal: exit.signal }, exit.output).toEqual({
      code: 0,
      signal: null,
    });
  });

  it('runs the operator entry point', async (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    const entry = path.join('dist', 'operator', 'main.js');
    expect(existsSync(path.join(appDirectory, entry)), `${entry} is not built`).toBe(true);
    const help = await run(
      process.execPath,
      [entry, '--help'],
      appDirectory,
      imageEnvironment(),
      EXIT_TIMEOUT_MS,
    );
    expect(help.code, help.output).toBe(0);
  });
});
