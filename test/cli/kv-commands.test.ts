/**
 * `raftkv put|get|del|txn` as an operator runs them, against a real single-member etcd 3.4: the
 * output etcdctl would print (compared with etcdctl itself), `--json`, RAFTKV_ENDPOINTS, exit
 * codes (0, 1 failed compare or refused request, 2 usage, 4 unavailable) and the error messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EtcdCluster, etcdctl, freePorts } from '../client/etcd-cluster.js';
import { runCli } from './run-cli.js';

describe('raftkv key-value commands against etcd', () => {
  let etcd: EtcdCluster;
  let endpoints: string;
  let deadEndpoint: string;

  beforeAll(async () => {
    etcd = await EtcdCluster.start(1);
    endpoints = `--endpoints=${etcd.endpoints.join(',')}`;
    deadEndpoint = `127.0.0.1:${(await freePorts(1))[0]}`;
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  it('puts and gets like etcdctl', async () => {
    const put = await runCli(['put', endpoints, 'cli/a', 'first value']);
    expect(put).toEqual({ exitCode: 0, stdout: 'OK\n', stderr: '' });
    await Promise.all([
      runCli(['put', endpoints, 'cli/b', 'second']),
      runCli(['put', endpoints, 'cli/c', '--', '-dash']),
    ]);

    const got = await runCli(['get', endpoints, 'cli/', '--prefix']);
    expect(got.exitCode).toBe(0);
    expect(got.stdout).toBe('cli/a\nfirst value\ncli/b\nsecond\ncli/c\n-dash\n');
    expect(got.stdout).toBe(await etcdctl(etcd.endpoints, 'get', 'cli/', '--prefix'));

    const keysOnly = await runCli(['get', endpoints, 'cli/', '--prefix', '--keys-only']);
    expect(keysOnly.stdout).toBe('cli/a\ncli/b\ncli/c\n');
    const limited = await runCli(['get', endpoints, 'cli/', '--prefix', '--limit', '1']);
    expect(limited.stdout).toBe('cli/a\nfirst value\n');
    const serializable = await runCli(['get', endpoints, 'cli/b', '--consistency=s']);
    expect(serializable.stdout).toBe('cli/b\nsecond\n');
    const missing = await runCli(['get', endpoints, 'cli/none']);
    expect(missing).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('prints JSON with stable field names', async () => {
    await runCli(['put', endpoints, 'json/key', 'héllo']);
    const got = await runCli(['get', endpoints, 'json/', '--prefix', '--json']);
    expect(got.exitCode).toBe(0);
    const parsed = JSON.parse(got.stdout);
    expect(parsed.count).toBe(1);
    expect(parsed.more).toBe(false);
    expect(parsed.header.clusterId).toMatch(/^[0-9a-f]+$/);
    expect(parsed.header.revision).toBeGreaterThan(0);
    expect(parsed.kvs).toEqual([
      {
        key: 'json/key',
        value: 'héllo',
        keyBase64: Buffer.from('json/key').toString('base64'),
        valueBase64: Buffer.from('héllo').toString('base64'),
        createRevision: expect.any(Number),
        modRevision: expect.any(Number),
        version: 1,
      },
    ]);
    const put = JSON.parse((await runCli(['put', endpoints, 'json/key', 'x', '--json'])).stdout);
    expect(put.header.revision).toBe(parsed.header.revision + 1);
    const deleted = await runCli(['del', endpoints, 'json/key', '--json']);
    expect(JSON.parse(deleted.stdout).deleted).toBe(1);
  });

  it('deletes a key or a prefix and prints how many', async () => {
    await Promise.all(['del/1', 'del/2', 'del'].map((key) => runCli(['put', endpoints, key, 'x'])));
    expect((await runCli(['del', endpoints, 'del'])).stdout).toBe('1\n');
    expect((await runCli(['del', endpoints, 'del/', '--prefix'])).stdout).toBe('2\n');
    expect((await runCli(['del', endpoints, 'del'])).stdout).toBe('0\n');
  });

  it('compare-and-swaps with txn: SUCCESS exits 0, FAILURE prints the value and exits 1', async () => {
    const created = await runCli(['txn', endpoints, 'lock', '--expect-absent', '--set', 'owner-1']);
    expect(created).toEqual({ exitCode: 0, stdout: 'SUCCESS\n', stderr: '' });
    const taken = await runCli(['txn', endpoints, 'lock', '--expect-absent', '--set', 'owner-2']);
    expect(taken).toEqual({ exitCode: 1, stdout: 'FAILURE\nlock\nowner-1\n', stderr: '' });
    const swapped = await runCli([
      'txn',
      endpoints,
      'lock',
      '--expect',
      'owner-1',
      '--set',
      'owner-2',
      '--json',
    ]);
    expect(swapped.exitCode).toBe(0);
    const json = JSON.parse(swapped.stdout);
    expect(json.succeeded).toBe(true);
    expect(json.previous.value).toBe('owner-1');
    const absent = await runCli(['txn', endpoints, 'no-lock', '--expect', 'x', '--set', 'y']);
    expect(absent).toEqual({ exitCode: 1, stdout: 'FAILURE\n', stderr: '' });
    expect(await etcdctl(etcd.endpoints, 'get', 'lock', '--print-value-only')).toBe('owner-2\n');
  });

  it('reads the endpoints from RAFTKV_ENDPOINTS and fails over past a dead one', async () => {
    const environment = { RAFTKV_ENDPOINTS: `${deadEndpoint},${etcd.endpoints.join(',')}` };
    const put = await runCli(['put', 'env/key', 'v'], environment);
    expect(put).toEqual({ exitCode: 0, stdout: 'OK\n', stderr: '' });
    expect((await runCli(['get', 'env/key'], environment)).stdout).toBe('env/key\nv\n');
  });

  it('exits 4 with a clear message when no endpoint is reachable', async () => {
    const run = await runCli(['get', `--endpoints=${deadEndpoint}`, 'k']);
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `raftkv: UNAVAILABLE: no endpoint reachable (tried ${deadEndpoint})`,
    );
    expect(run.stderr).toContain('Check that the endpoints are right');
    const json = await runCli(['put', `--endpoints=${deadEndpoint}`, 'k', 'v', '--json']);
    expect(json.exitCode).toBe(4);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'UNAVAILABLE',
        grpcCode: 14,
        message: `no endpoint reachable (tried ${deadEndpoint})`,
        endpoint: null,
        mayHaveBeenApplied: false,
      },
    });
  });

  it("exits 1 with etcd's message when the cluster refuses a request", async () => {
    const run = await runCli(['put', endpoints, '', 'v']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('raftkv: INVALID_ARGUMENT: etcdserver: key is not provided');
  });

  it('exits 2 on usage errors, naming the problem and the synopsis', async () => {
    const cases: [string[], string][] = [
      [['put', 'only-key'], 'missing VALUE'],
      [['get'], 'missing KEY'],
      [['get', 'k', '--limit', 'x'], "--limit 'x' is not a whole number"],
      [['get', 'k', '--consistency=q'], '--consistency must be l'],
      [['get', 'k', '--bogus'], "Unknown option '--bogus'"],
      [['txn', 'k', '--set', 'v'], 'give exactly one of --expect VALUE and --expect-absent'],
      [['txn', 'k', '--expect-absent'], 'missing --set VALUE'],
      [['get', 'k', '--endpoints=nohost'], "endpoint 'nohost' is not host:port"],
      [['get', 'k', '--timeout-ms=0'], "--timeout-ms '0' is not a positive whole number"],
    ];
    const runs = await Promise.all(cases.map(([commandArguments]) => runCli(commandArguments)));
    for (const [position, run] of runs.entries()) {
      const [commandArguments, message] = cases[position] ?? [[], ''];
      expect(run.exitCode, commandArguments.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain('Usage: raftkv');
    }
  });

  it('lists the client commands and exit code 4 in the general help', async () => {
    const help = await runCli(['help']);
    expect(help.exitCode).toBe(0);
    for (const synopsis of ['put KEY VALUE', 'get KEY', 'del KEY', 'txn KEY', 'member list']) {
      expect(help.stdout).toContain(synopsis);
    }
    expect(help.stdout).toContain('4 no endpoint reachable');
    const getHelp = await runCli(['get', '--help']);
    expect(getHelp.stdout).toContain('--consistency=l|s');
    expect(getHelp.stdout).toContain('RAFTKV_ENDPOINTS');
  });
});
