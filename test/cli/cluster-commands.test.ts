/**
 * `raftkv member list|add|promote|remove`, `raftkv endpoint status` and `raftkv move-leader`
 * against a real 3-member etcd 3.4: tables and JSON, ids as etcdctl prints them, one leader,
 * leadership moved and seen moved, a learner added, its promotion refused while it has not
 * started, and removed; exit codes for unreachable endpoints and refused requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EtcdCluster, etcdctl, freePorts } from '../client/etcd-cluster.js';
import { type CliRun, runCli } from './run-cli.js';

interface StatusJson {
  endpoint: string;
  reachable: boolean;
  id: string;
  role: string;
  raftTerm: number;
  commitIndex: number;
  appliedIndex: number;
  leader: string | null;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Runs a membership change, again while etcd answers 'unhealthy cluster' (it refuses changes
 * until every member has been connected for 5 s, which a new cluster may not have been).
 */
async function runChange(commandArguments: string[]): Promise<CliRun> {
  for (let attempt = 0; ; attempt += 1) {
    const run = await runCli(commandArguments);
    if (!run.stderr.includes('etcdserver: unhealthy cluster') || attempt >= 20) return run;
    await sleep(500);
  }
}

describe('raftkv cluster commands against a 3-member etcd', () => {
  let etcd: EtcdCluster;
  let endpoints: string;

  async function statuses(): Promise<StatusJson[]> {
    const run = await runCli(['endpoint', 'status', endpoints, '--json']);
    expect(run.exitCode).toBe(0);
    return (JSON.parse(run.stdout) as { endpoints: StatusJson[] }).endpoints;
  }

  beforeAll(async () => {
    etcd = await EtcdCluster.start(3);
    endpoints = `--endpoints=${etcd.endpoints.join(',')}`;
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  it('lists the members in a table with the ids etcdctl prints', async () => {
    const [table, json, reference] = await Promise.all([
      runCli(['member', 'list', endpoints]),
      runCli(['member', 'list', endpoints, '--json']),
      etcdctl(etcd.endpoints, 'member', 'list'),
    ]);
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id +name +status +role +peer URLs +client URLs$/);
    expect(lines).toHaveLength(4);
    for (const line of reference.trim().split('\n')) {
      const [id, status, name, peerUrl, clientUrl] = line.split(', ');
      const row = lines.find((candidate) => candidate.startsWith(`${id} `));
      expect(row?.split(/ +/)).toEqual([id, name, status, 'voter', peerUrl, clientUrl]);
    }
    const parsed = JSON.parse(json.stdout);
    expect(parsed.members.map((member: { name: string }) => member.name).sort()).toEqual([
      'etcd0',
      'etcd1',
      'etcd2',
    ]);
  });

  it('shows every endpoint status with exactly one leader', async () => {
    const table = await runCli(['endpoint', 'status', endpoints]);
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^id +endpoint +role +raft term +commit index +applied index +leader +errors$/,
    );
    expect(lines.slice(1).filter((line) => / leader /.test(line))).toHaveLength(1);
    expect(lines.slice(1).filter((line) => / follower /.test(line))).toHaveLength(2);

    const all = await statuses();
    expect(all.map((status) => status.endpoint)).toEqual(etcd.endpoints);
    const leaders = all.filter((status) => status.role === 'leader');
    expect(leaders).toHaveLength(1);
    expect(all.every((status) => status.leader === leaders[0]?.id)).toBe(true);
    for (const status of all) {
      expect(status.reachable).toBe(true);
      expect(status.raftTerm).toBeGreaterThan(0);
      expect(status.commitIndex).toBeGreaterThanOrEqual(status.appliedIndex);
      const row = lines.find((line) => line.startsWith(`${status.id} `));
      expect(row?.split(/ +/).slice(0, 7)).toEqual([
        status.id,
        status.endpoint,
        status.role,
        String(status.raftTerm),
        String(status.commitIndex),
        String(status.appliedIndex),
        status.leader,
      ]);
    }
  });

  it('marks an unreachable endpoint and exits 1, or 4 when none answers', async () => {
    const [port] = await freePorts(1);
    const some = await runCli([
      'endpoint',
      'status',
      `--endpoints=${etcd.endpoints[0]},127.0.0.1:${port}`,
    ]);
    expect(some.exitCode).toBe(1);
    expect(some.stdout).toMatch(
      new RegExp(
        `- +127\\.0\\.0\\.1:${port} +UNREACHABLE .*endpoint 127\\.0\\.0\\.1:${port} is not reachable`,
      ),
    );
    const none = await runCli(['endpoint', 'status', `--endpoints=127.0.0.1:${port}`, '--json']);
    expect(none.exitCode).toBe(4);
    expect(JSON.parse(none.stdout).endpoints[0]).toMatchObject({
      reachable: false,
      error: { code: 'UNAVAILABLE' },
    });
  });

  it('adds a learner, refuses to promote it before it started, and removes it', async () => {
    const [peerPort] = await freePorts(1);
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const added = await runChange([
      'member',
      'add',
      endpoints,
      'newcomer',
      '--peer-urls',
      peerUrl,
      '--learner',
    ]);
    expect(added.stderr).toBe('');
    expect(added.exitCode).toBe(0);
    const match = /^Member ([0-9a-f]+) added to cluster ([0-9a-f]+) as a learner$/m.exec(
      added.stdout,
    );
    const id = match?.[1] ?? '';
    expect(id).not.toBe('');
    expect(added.stdout).toContain('  name             newcomer');
    expect(added.stdout).toContain(`newcomer=${peerUrl}`);
    expect(added.stdout).toContain('etcd0=http://127.0.0.1:');

    const listed = await runCli(['member', 'list', endpoints]);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(`${id} `));
    expect(row?.split(/ +/)).toEqual([id, '-', 'unstarted', 'learner', peerUrl, '-']);

    const promote = await runCli(['member', 'promote', endpoints, id]);
    expect(promote.exitCode).toBe(1);
    expect(promote.stderr).toContain(
      'raftkv: FAILED_PRECONDITION: etcdserver: can only promote a learner member which is in sync with leader',
    );

    const removed = await runChange(['member', 'remove', endpoints, id]);
    expect(removed.exitCode).toBe(0);
    expect(removed.stdout).toBe(`Member ${id} removed from cluster ${match?.[2]}\n`);
    const again = await runCli(['member', 'remove', endpoints, id]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('raftkv: NOT_FOUND: etcdserver: member not found');
  });

  it('moves leadership to another member, and the cluster agrees', async () => {
    const before = await statuses();
    const leader = before.find((status) => status.role === 'leader');
    const target = before.find((status) => status.role === 'follower');
    const moved = await runCli(['move-leader', endpoints, target?.id ?? '']);
    expect(moved.stderr).toBe('');
    expect(moved).toEqual({
      exitCode: 0,
      stdout: `Leadership transferred from ${leader?.id} to ${target?.id}\n`,
      stderr: '',
    });
    const after = await statuses();
    expect(after.find((status) => status.role === 'leader')?.id).toBe(target?.id);

    const json = await runCli(['move-leader', endpoints, leader?.id ?? '', '--json']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      previousLeader: target?.id,
      leader: leader?.id,
      endpoint: target?.endpoint,
    });
  });

  it('exits 1 when etcd refuses the transfer and 2 for an id that is not hex', async () => {
    const unknown = await runCli(['move-leader', endpoints, '1234']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain(
      'raftkv: FAILED_PRECONDITION: etcdserver: bad leader transferee',
    );
    const bad = await runCli(['move-leader', endpoints, 'not-an-id']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("'not-an-id' is not a member id");
  });
});
