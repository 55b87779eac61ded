/**
 * The real etcdctl 3.4 against a 3-member raftkv cluster of real processes: every command an
 * operator uses day to day, checked on its printed output and exit code, error messages compared
 * with what a real etcd prints for the same mistake, and the etcd features raftkv does not
 * implement refused with UNIMPLEMENTED and a message naming the field or method.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EtcdCluster } from '../client/etcd-cluster.js';
import { startTestCluster, type TestCluster } from '../integration/test-cluster.js';
import {
  base64,
  errorLine,
  type EtcdctlOptions,
  type EtcdctlResult,
  fromBase64,
  hexId,
  type JsonHeader,
  type JsonMember,
  type JsonRange,
  type JsonStatus,
  parseJson,
  runEtcdctl,
  sleep,
  waitForPublishedMembers,
} from './etcdctl-runner.js';

/** Waits until `check` passes (it throws otherwise), retrying every 100 ms. */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

describe('etcdctl 3.4 against a 3-member raftkv cluster', () => {
  let cluster: TestCluster;
  let clusterIdHex = '';
  const etcdctl = (commandArguments: readonly string[], options?: EtcdctlOptions) =>
    runEtcdctl(cluster.endpoints().slice(0, 3), commandArguments, options);
  /** Runs etcdctl and requires exit 0, showing everything it printed otherwise. */
  const ok = async (commandArguments: readonly string[], options?: EtcdctlOptions) => {
    const result = await etcdctl(commandArguments, options);
    expect(result.code, `etcdctl ${commandArguments.join(' ')}\n${describeRun(result)}`).toBe(0);
    return result;
  };
  const describeRun = (result: EtcdctlResult): string =>
    `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\n${cluster.logTail(10)}`;
  const memberIds = async (): Promise<JsonMember[]> =>
    parseJson<{ members: JsonMember[] }>(await ok(['member', 'list', '-w', 'json'])).members;
  const leaderId = async (): Promise<number> => {
    const statuses = parseJson<JsonStatus[]>(await ok(['endpoint', 'status', '-w', 'json']));
    const leaders = new Set(statuses.map((status) => status.Status.leader));
    expect(leaders.size).toBe(1);
    return [...leaders][0] ?? 0;
  };

  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
    await waitForPublishedMembers(cluster.endpoints(), 3);
    clusterIdHex = hexId((await cluster.status(0)).header?.clusterId ?? 0);
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('put and get: single key, --prefix, --keys-only, --limit, serializable, value only', async () => {
    expect((await ok(['put', 'cmp/a', '1'])).stdout).toBe('OK\n');
    const put = parseJson<{ header: JsonHeader }>(await ok(['put', 'cmp/a', '2', '-w', 'json']));
    expect(hexId(put.header.cluster_id)).toBe(clusterIdHex);
    expect([1, 2, 3]).toContain(put.header.member_id);
    expect(put.header.raft_term).toBeGreaterThanOrEqual(2);
    const revision = put.header.revision ?? 0;
    expect(revision).toBeGreaterThan(1);

    const single = parseJson<JsonRange>(await ok(['get', 'cmp/a', '-w', 'json']));
    expect(single.header.revision).toBe(revision);
    expect(single.count).toBe(1);
    expect(single.kvs).toHaveLength(1);
    const [keyValue] = single.kvs ?? [];
    expect(keyValue?.key).toBe(base64('cmp/a'));
    expect(fromBase64(keyValue?.value)).toBe('2');
    expect(keyValue?.version).toBe(2);
    expect(keyValue?.mod_revision).toBe(revision);
    expect(keyValue?.create_revision).toBe(revision - 1);
    expect((await ok(['get', 'cmp/a'])).stdout).toBe('cmp/a\n2\n');

    await ok(['put', 'cmp/b', 'B']);
    await ok(['put', 'cmp/c', 'C']);
    await ok(['put', 'cmq', 'outside']);
    expect((await ok(['get', 'cmp/', '--prefix'])).stdout).toBe('cmp/a\n2\ncmp/b\nB\ncmp/c\nC\n');
    expect((await ok(['get', 'cmp/', '--prefix', '--keys-only'])).stdout).toBe(
      'cmp/a\n\ncmp/b\n\ncmp/c\n\n',
    );
    const keysOnly = parseJson<JsonRange>(
      await ok(['get', 'cmp/', '--prefix', '--keys-only', '-w', 'json']),
    );
    expect(keysOnly.kvs?.map((entry) => [fromBase64(entry.key), entry.value])).toEqual([
      ['cmp/a', undefined],
      ['cmp/b', undefined],
      ['cmp/c', undefined],
    ]);
    const limited = parseJson<JsonRange>(
      await ok(['get', 'cmp/', '--prefix', '--limit=2', '-w', 'json']),
    );
    expect(limited.kvs?.map((entry) => fromBase64(entry.key))).toEqual(['cmp/a', 'cmp/b']);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    expect((await ok(['get', 'cmp/', '--prefix', '--limit=2'])).stdout).toBe(
      'cmp/a\n2\ncmp/b\nB\n',
    );
    // A range between two keys, and --from-key.
    expect((await ok(['get', 'cmp/b', 'cmq'])).stdout).toBe('cmp/b\nB\ncmp/c\nC\n');
    expect((await ok(['get', '--from-key', 'cmp/c', '--keys-only'])).stdout).toContain(
      'cmp/c\n\ncmq\n\n',
    );
    // Serializable reads on every member, followers included, see the write once applied.
    for (const endpoint of cluster.endpoints().slice(0, 3)) {
      await eventually(async () => {
        const result = await runEtcdctl(
          [endpoint],
          ['get', 'cmp/a', '--consistency=s', '-w', 'json'],
        );
        expect(result.code).toBe(0);
        expect(fromBase64(parseJson<JsonRange>(result).kvs?.[0]?.value)).toBe('2');
      });
    }
    expect((await ok(['get', 'cmp/a', '--print-value-only'])).stdout).toBe('2\n');
    expect((await ok(['get', 'cmp/a', '--print-value-only', '--consistency=s'])).stdout).toBe(
      '2\n',
    );
    // A missing key prints nothing and exits 0; its JSON has neither kvs nor count.
    expect((await ok(['get', 'cmp/none'])).stdout).toBe('');
    const missing = parseJson<JsonRange>(await ok(['get', 'cmp/none', '-w', 'json']));
    expect(missing.kvs).toBeUndefined();
    expect(missing.count).toBeUndefined();
    // --prev-kv on put prints the previous pair after OK.
    expect((await ok(['put', '--prev-kv', 'cmp/a', '3'])).stdout).toBe('OK\ncmp/a\n2\n');
    // --order=ASCEND and --sort-by=KEY are the server's default order: etcdctl sends no sort.
    expect((await ok(['get', 'cmp/', '--prefix', '--order=ASCEND', '--keys-only'])).stdout).toBe(
      'cmp/a\n\ncmp/b\n\ncmp/c\n\n',
    );
    expect((await ok(['get', 'cmp/', '--prefix', '--sort-by=KEY', '--keys-only'])).stdout).toBe(
      'cmp/a\n\ncmp/b\n\ncmp/c\n\n',
    );
  });

  it('del: single key, --prefix, --prev-kv, json', async () => {
    await ok(['put', 'del/a', '1']);
    await ok(['put', 'del/b', '2']);
    await ok(['put', 'del/c', '3']);
    await ok(['put', 'dem', 'kept']);
    expect((await ok(['del', 'del/c'])).stdout).toBe('1\n');
    expect((await ok(['del', 'del/c'])).stdout).toBe('0\n');
    expect((await ok(['del', 'del/', '--prefix', '--prev-kv'])).stdout).toBe(
      '2\ndel/a\n1\ndel/b\n2\n',
    );
    expect((await ok(['get', 'del/', '--prefix'])).stdout).toBe('');
    expect((await ok(['get', 'dem'])).stdout).toBe('dem\nkept\n');

    await ok(['put', 'del/x', 'X']);
    await ok(['put', 'del/y', 'Y']);
    const deleted = parseJson<{ header: JsonHeader; deleted?: number; prev_kvs?: unknown[] }>(
      await ok(['del', 'del/', '--prefix', '-w', 'json']),
    );
    expect(deleted.deleted).toBe(2);
    expect(deleted.prev_kvs).toBeUndefined();
    const withPrevious = parseJson<{ deleted?: number; prev_kvs?: JsonRange['kvs'] }>(
      await ok(['del', 'dem', '--prev-kv', '-w', 'json']),
    );
    expect(withPrevious.deleted).toBe(1);
    expect(withPrevious.prev_kvs?.map((entry) => fromBase64(entry.value))).toEqual(['kept']);
  });

  it('txn on stdin: compares on value, version, create and mod revision; both branches', async () => {
    await ok(['put', 'txn/k', 'v1']);
    const before = parseJson<JsonRange>(await ok(['get', 'txn/k', '-w', 'json'])).kvs?.[0];
    const create = before?.create_revision ?? 0;
    const mod = before?.mod_revision ?? 0;
    expect(before?.version).toBe(1);
    const compares = [
      'value("txn/k") = "v1"',
      'version("txn/k") = "1"',
      `create("txn/k") = "${create}"`,
      `mod("txn/k") = "${mod}"`,
    ];
    const script = (success: string[], failure: string[]) =>
      [...compares, '', ...success, '', ...failure, '', ''].join('\n');

    const succeeded = await ok(['txn'], {
      input: script(['put txn/k v2', 'get txn/k'], ['put txn/failed yes']),
    });
    expect(succeeded.stdout).toBe('SUCCESS\n\nOK\n\ntxn/k\nv2\n');
    // Same compares again: the value, version and mod revision changed, so the failure branch runs.
    const failed = await ok(['txn'], {
      input: script(['put txn/k v3'], ['put txn/failed yes', 'get txn/k']),
    });
    expect(failed.stdout).toBe('FAILURE\n\nOK\n\ntxn/k\nv2\n');
    expect((await ok(['get', 'txn/failed', '--print-value-only'])).stdout).toBe('yes\n');

    // Inequalities, and the JSON form with per-operation responses.
    const json = parseJson<{
      header: JsonHeader;
      succeeded?: boolean;
      responses: { Response: Record<string, JsonRange> }[];
    }>(
      await ok(['txn', '-w', 'json'], {
        input: [
          'value("txn/k") != "v1"',
          'version("txn/k") > "1"',
          `create("txn/k") < "${create + 1}"`,
          `mod("txn/k") > "${mod}"`,
          '',
          'del txn/failed',
          'get txn/k',
          '',
          '',
          '',
        ].join('\n'),
      }),
    );
    expect(json.succeeded).toBe(true);
    expect(json.responses).toHaveLength(2);
    expect(json.responses[0]?.Response).toHaveProperty('ResponseDeleteRange');
    const range = json.responses[1]?.Response.ResponseRange;
    expect(fromBase64(range?.kvs?.[0]?.value)).toBe('v2');
    expect(range?.kvs?.[0]?.version).toBe(2);
    expect((await ok(['get', 'txn/failed'])).stdout).toBe('');

    // A compare on a missing key: version 0, create revision 0.
    const absent = await ok(['txn'], {
      input: ['version("txn/absent") = "0"', '', 'put txn/absent here', '', '', ''].join('\n'),
    });
    expect(absent.stdout).toBe('SUCCESS\n\nOK\n');
    const failedJson = parseJson<{ succeeded?: boolean }>(
      await ok(['txn', '-w', 'json'], {
        input: ['create("txn/absent") = "0"', '', 'put txn/absent again', '', '', ''].join('\n'),
      }),
    );
    expect(failedJson.succeeded).toBeUndefined();
    expect((await ok(['get', 'txn/absent', '--print-value-only'])).stdout).toBe('here\n');
  });

  it('member list: hex ids, names, peer and client URLs', async () => {
    const simple = await ok(['member', 'list']);
    const json = await memberIds();
    const lines = simple.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const ordinal of [0, 1, 2]) {
      const member = cluster.local.member(ordinal);
      const jsonMember = json.find((candidate) => candidate.name === member.name);
      expect(jsonMember, JSON.stringify(json)).toBeDefined();
      expect(jsonMember?.peerURLs).toEqual([`http://${member.peerAddress}`]);
      expect(jsonMember?.clientURLs).toEqual([`http://${member.clientAddress}`]);
      expect(jsonMember?.isLearner).toBeUndefined();
      const id = hexId(jsonMember?.ID ?? 0);
      expect(lines).toContain(
        `${id}, started, ${member.name}, http://${member.peerAddress}, http://${member.clientAddress}, false`,
      );
    }
  });

  it('endpoint status: one leader, same term, every member answers', async () => {
    const statuses = parseJson<JsonStatus[]>(await ok(['endpoint', 'status', '-w', 'json']));
    expect(statuses.map((status) => status.Endpoint)).toEqual(cluster.endpoints().slice(0, 3));
    const leader = statuses[0]?.Status.leader ?? 0;
    expect(leader).not.toBe(0);
    expect(statuses.every((status) => status.Status.leader === leader)).toBe(true);
    expect(statuses.filter((status) => status.Status.header.member_id === leader)).toHaveLength(1);
    for (const status of statuses) {
      expect(status.Status.version).toMatch(/^3\.4\./);
      expect(status.Status.raftAppliedIndex).toBeGreaterThan(0);
      expect(status.Status.raftIndex).toBeGreaterThanOrEqual(status.Status.raftAppliedIndex);
      expect(hexId(status.Status.header.cluster_id)).toBe(clusterIdHex);
    }
    const simple = await ok(['endpoint', 'status']);
    const lines = simple.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    // ENDPOINT, ID, VERSION, DB SIZE, IS LEADER, IS LEARNER, TERM, INDEX, APPLIED, ERRORS
    expect(lines.filter((line) => line.split(', ')[4] === 'true')).toHaveLength(1);
    expect(lines.every((line) => line.split(', ')[5] === 'false')).toBe(true);
  });

  // BUG: `endpoint status --cluster` (and every Maintenance call etcdctl makes to a URL endpoint,
  // e.g. `--endpoints=http://...` with `endpoint status` or `move-leader`) fails with
  // "rpc error: code = Internal desc = stream terminated by RST_STREAM with error code:
  // PROTOCOL_ERROR". clientv3 dials such an endpoint as `passthrough:///http://127.0.0.1:P`, so
  // grpc-go sends `:authority: http://127.0.0.1:P`; Node's HTTP/2 server (nghttp2, under
  // grpc-js) rejects an authority containing "://" with RST_STREAM PROTOCOL_ERROR before raftkv
  // sees the call. Real etcd (grpc-go server) accepts it. Remove `.fails` once fixed.
  it.fails('endpoint status --cluster (client URLs from the member list)', async () => {
    const result = await etcdctl(['endpoint', 'status', '--cluster', '-w', 'json']);
    expect(result.code, describeRun(result)).toBe(0);
    const statuses = parseJson<JsonStatus[]>(result);
    expect(statuses.map((status) => status.Endpoint).sort()).toEqual(
      cluster
        .endpoints()
        .slice(0, 3)
        .map((endpoint) => `http://${endpoint}`)
        .sort(),
    );
  });

  // BUG: same cause as above; an operator writing endpoints as URLs (as etcd's docs do) cannot
  // get any endpoint's status.
  it.fails('endpoint status with --endpoints written as http:// URLs', async () => {
    const urls = cluster
      .endpoints()
      .slice(0, 3)
      .map((endpoint) => `http://${endpoint}`);
    const result = await runEtcdctl(urls, ['endpoint', 'status', '-w', 'json']);
    expect(result.stderr).not.toContain('PROTOCOL_ERROR');
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('endpoint health, also --cluster', async () => {
    const health = await ok(['endpoint', 'health']);
    // etcdctl 3.4 prints health lines on stderr.
    for (const endpoint of cluster.endpoints().slice(0, 3)) {
      expect(health.stderr).toMatch(
        new RegExp(`^${endpoint} is healthy: successfully committed proposal: took = `, 'm'),
      );
    }
    const clusterHealth = parseJson<{ endpoint: string; health: boolean }[]>(
      await ok(['endpoint', 'health', '--cluster', '-w', 'json']),
    );
    expect(clusterHealth.map((entry) => entry.endpoint).sort()).toEqual(
      cluster
        .endpoints()
        .slice(0, 3)
        .map((endpoint) => `http://${endpoint}`)
        .sort(),
    );
    expect(clusterHealth.every((entry) => entry.health)).toBe(true);
  });

  it('move-leader to a follower changes the leader; to a stranger is refused', async () => {
    const before = await leaderId();
    const follower = (await memberIds()).find((member) => member.ID !== before);
    expect(follower).toBeDefined();
    const target = follower?.ID ?? 0;
    const moved = await ok(['move-leader', hexId(target)]);
    expect(moved.stdout).toBe(`Leadership transferred from ${hexId(before)} to ${hexId(target)}\n`);
    const leaderOrdinal = await cluster.waitForLeader();
    expect((await cluster.status(leaderOrdinal)).header?.memberId).toBe(target);
    expect(await leaderId()).toBe(target);
    // Writes work under the new leader.
    expect((await ok(['put', 'after/move', '1'])).stdout).toBe('OK\n');

    const stranger = await etcdctl(['move-leader', 'abcdef']);
    expect(stranger.code).toBe(1);
    expect(errorLine(stranger)).toBe('Error: etcdserver: bad leader transferee');
  });

  it('membership errors print what etcd prints', async () => {
    const voter = (await memberIds())[0]?.ID ?? 0;
    const peerUrl = `http://${cluster.local.member(0).peerAddress}`;
    const cases: { args: string[]; error: string }[] = [
      { args: ['member', 'remove', 'abcdef'], error: 'Error: etcdserver: member not found' },
      { args: ['member', 'promote', 'abcdef'], error: 'Error: etcdserver: member not found' },
      {
        args: ['member', 'promote', hexId(voter)],
        error: 'Error: etcdserver: can only promote a learner member',
      },
      {
        args: ['member', 'add', 'dup', `--peer-urls=${peerUrl}`],
        error: 'Error: etcdserver: Peer URLs already exists',
      },
    ];
    for (const { args, error } of cases) {
      const result = await etcdctl(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(errorLine(result), args.join(' ')).toBe(error);
    }
  });

  it('member add --learner (not started), promote refused until in sync, member remove', async () => {
    const peerUrl = 'http://127.0.0.1:1'; // never started: only the registration is tested
    const added = await ok(['member', 'add', 'ghost', `--peer-urls=${peerUrl}`, '--learner']);
    const match = /^Member\s+([0-9a-f]+) added to cluster\s+([0-9a-f]+)$/m.exec(added.stdout);
    expect(match, added.stdout).not.toBeNull();
    const id = match?.[1] ?? '';
    expect(match?.[2]).toBe(clusterIdHex);
    expect(added.stdout).toContain('ETCD_NAME="ghost"');
    expect(added.stdout).toContain(`ETCD_INITIAL_ADVERTISE_PEER_URLS="${peerUrl}"`);
    expect(added.stdout).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    expect((await ok(['member', 'list'])).stdout).toContain(
      `${id}, unstarted, , ${peerUrl}, , true`,
    );
    const promote = await etcdctl(['member', 'promote', id]);
    expect(promote.code).toBe(1);
    expect(errorLine(promote)).toBe(
      'Error: etcdserver: can only promote a learner member which is in sync with leader',
    );
    expect((await ok(['member', 'remove', id])).stdout).toBe(
      `Member ${id.padStart(16)} removed from cluster ${clusterIdHex.padStart(16)}\n`,
    );
    expect((await memberIds()).map((member) => hexId(member.ID))).not.toContain(id);
    expect((await ok(['put', 'after/ghost', '1'])).stdout).toBe('OK\n');
  });

  // Regression: the new member used to take the leader's older snapshot (a configuration
  // without it) for its own removal and stop (RaftLoop.checkRemoved).
  it('member add --learner, start it, wait until caught up, promote, remove', async () => {
    const slot = cluster.local.addMemberSlot();
    const peerUrl = `http://${slot.peerAddress}`;
    let id = '';
    try {
      const added = await ok(['member', 'add', slot.name, `--peer-urls=${peerUrl}`, '--learner']);
      id = /^Member\s+([0-9a-f]+) added/m.exec(added.stdout)?.[1] ?? '';
      expect(id).not.toBe('');
      cluster.local.start(slot.ordinal, ['--initial-cluster-state=existing']);
      // Caught up: the learner serves Status with the leader's applied index.
      const deadline = Date.now() + 20_000;
      for (;;) {
        // A member that exited will not catch up: fail at once with its log.
        if (slot.process === undefined) {
          throw new Error(`${slot.name} exited before catching up\n${cluster.logTail(8)}`);
        }
        const leaderOrdinal = await cluster.waitForLeader(5000, [slot.ordinal]);
        const leaderStatus = await cluster.status(leaderOrdinal);
        const learner = await cluster.status(slot.ordinal, 500).catch(() => undefined);
        if (
          learner?.isLearner === true &&
          learner.raftAppliedIndex >= leaderStatus.raftAppliedIndex
        ) {
          break;
        }
        if (Date.now() > deadline) throw new Error(`${slot.name} did not catch up`);
        await sleep(100);
      }
      // A member publishes its name and client URL shortly after it starts (as etcd does).
      const started = `${id}, started, ${slot.name}, ${peerUrl}, http://${slot.clientAddress}, true`;
      const publishDeadline = Date.now() + 10_000;
      let listed = await ok(['member', 'list']);
      while (!listed.stdout.includes(started) && Date.now() < publishDeadline) {
        await sleep(100);
        listed = await ok(['member', 'list']);
      }
      expect(listed.stdout).toContain(started);
      expect((await ok(['member', 'promote', id])).stdout).toBe(
        `Member ${id.padStart(16)} promoted in cluster ${clusterIdHex.padStart(16)}\n`,
      );
      expect((await ok(['member', 'list'])).stdout).toContain(
        `${id}, started, ${slot.name}, ${peerUrl}, http://${slot.clientAddress}, false`,
      );
      // The promoted member serves linearizable reads.
      expect(
        (await runEtcdctl([slot.clientAddress], ['get', 'cmq', '--print-value-only'])).stdout,
      ).toBe('outside\n');
      expect((await ok(['member', 'remove', id])).stdout).toContain(`removed from cluster`);
      id = '';
      expect(await memberIds()).toHaveLength(3);
    } finally {
      // Leave a clean 3-voter cluster for the tests after this one, whatever happened.
      if (id !== '') await etcdctl(['member', 'remove', id]);
      await cluster.local.stop(slot.ordinal, 5000);
    }
  }, 60_000);

  it('unsupported features fail with UNIMPLEMENTED naming the field or method', async () => {
    await ok(['put', 'uns/k', 'v']);
    const cases: { args: string[]; message: RegExp; code?: number }[] = [
      {
        args: ['get', '--rev=2', 'uns/k'],
        message: /^Error: rpc error: code = Unimplemented desc = raftkv: field 'revision' /,
      },
      {
        args: ['get', '--order=DESCEND', '--prefix', 'uns/'],
        message: /^Error: rpc error: code = Unimplemented desc = raftkv: field 'sort_order' /,
      },
      {
        args: ['get', '--sort-by=CREATE', '--prefix', 'uns/'],
        message: /^Error: rpc error: code = Unimplemented desc = raftkv: field 'sort_target' /,
      },
      {
        args: ['get', '--sort-by=VERSION', '--order=DESCEND', '--prefix', 'uns/'],
        message: /code = Unimplemented desc = raftkv: field 'sort_order' /,
      },
      {
        args: ['put', '--lease=1234abcd', 'uns/k', 'v'],
        message: /^Error: rpc error: code = Unimplemented desc = raftkv: field 'lease' /,
      },
      {
        args: ['put', '--ignore-value', 'uns/k'],
        message: /^Error: rpc error: code = Unimplemented desc = raftkv: field 'ignore_value' /,
      },
      {
        args: ['lease', 'grant', '10'],
        message:
          /^Error: failed to grant lease \(rpc error: code = Unimplemented desc = .*\/etcdserverpb\.Lease\/LeaseGrant\)$/,
      },
      {
        args: ['compaction', '2'],
        message:
          /^Error: rpc error: code = Unimplemented desc = raftkv: field 'revision' of Compact /,
      },
    ];
    for (const { args, message } of cases) {
      const result = await etcdctl(args);
      expect(result.code, `${args.join(' ')}\n${describeRun(result)}`).toBe(1);
      expect(errorLine(result), args.join(' ')).toMatch(message);
    }
    // The value was not changed by any of them.
    expect((await ok(['get', 'uns/k', '--print-value-only'])).stdout).toBe('v\n');

    // watch: the Watch service does not exist; etcdctl reports the cancelled watch and exits 5.
    const watch = await etcdctl(['watch', 'uns/k'], { timeoutMs: 15_000 });
    expect(watch.code, describeRun(watch)).toBe(5);
    expect(watch.stderr).toContain(
      'watch was canceled (rpc error: code = Unimplemented desc = The server does not implement the method /etcdserverpb.Watch/Watch)',
    );
    expect(errorLine(watch)).toBe('Error: watch is canceled by the server');
    const watchPrefix = await etcdctl(['watch', '--prefix', 'uns/'], { timeoutMs: 15_000 });
    expect(watchPrefix.code).toBe(5);
    expect(watchPrefix.stderr).toContain('/etcdserverpb.Watch/Watch');
  });

  it('services raftkv does not serve (leases, auth, hashes, snapshots, defrag) name the method', async () => {
    const snapshotDirectory = mkdtempSync(path.join(tmpdir(), 'raftkv-compat-'));
    try {
      const first = cluster.endpoints().slice(0, 1);
      const cases: { args: string[]; method: string; endpoints?: string[] }[] = [
        { args: ['endpoint', 'hashkv'], method: 'Maintenance/HashKV' },
        { args: ['defrag'], method: 'Maintenance/Defragment' },
        {
          args: ['snapshot', 'save', path.join(snapshotDirectory, 'snap.db')],
          method: 'Maintenance/Snapshot',
          endpoints: first,
        },
        { args: ['lock', 'uns-lock', 'true'], method: 'Lease/LeaseGrant' },
        { args: ['lease', 'list'], method: 'Lease/LeaseLeases' },
        { args: ['user', 'list'], method: 'Auth/UserList' },
        { args: ['auth', 'enable'], method: 'Auth/AuthEnable' },
      ];
      for (const { args, method, endpoints } of cases) {
        const result = await runEtcdctl(endpoints ?? cluster.endpoints().slice(0, 3), args);
        const label = `etcdctl ${args.join(' ')}\n${describeRun(result)}`;
        expect(result.code, label).not.toBe(0);
        expect(result.stderr, label).toContain(
          `code = Unimplemented desc = The server does not implement the method /etcdserverpb.${method}`,
        );
      }
    } finally {
      rmSync(snapshotDirectory, { recursive: true, force: true });
    }
  });

  it("a value over the request limit is INVALID_ARGUMENT with etcd's exact message", async () => {
    const value = 'x'.repeat(1_600_000);
    // The value comes on stdin (etcdctl put KEY reads it there when no value is given).
    const tooBig = await runEtcdctl(cluster.endpoints().slice(0, 3), ['put', 'big'], {
      input: value,
    });
    expect(tooBig.code, describeRun(tooBig)).toBe(1);
    expect(errorLine(tooBig)).toBe(
      // etcdctl recognises etcd's message and prints it as it does against etcd.
      'Error: etcdserver: request is too large',
    );
    const fits = await runEtcdctl(cluster.endpoints().slice(0, 3), ['put', 'big'], {
      input: 'x'.repeat(1_400_000),
    });
    expect(fits.code, describeRun(fits)).toBe(0);
    await ok(['del', 'big']);
  });

  describe('error messages as real etcd prints them', () => {
    let etcd: EtcdCluster | undefined;
    beforeAll(async () => {
      etcd = await EtcdCluster.start(1);
    });
    afterAll(async () => {
      await etcd?.stop();
    });

    it('empty keys, duplicate keys in a txn, unknown member, bad transferee', async () => {
      const cases: { args: string[]; input?: string }[] = [
        { args: ['put', '', 'v'] },
        { args: ['del', ''] },
        { args: ['get', ''] },
        { args: ['member', 'remove', 'abcdef'] },
        { args: ['move-leader', 'abcdef'] },
        {
          args: ['txn'],
          input: ['', 'put same 1', 'put same 2', '', '', ''].join('\n'),
        },
        {
          args: ['txn'],
          input: ['', 'put same 1', 'del same', '', '', ''].join('\n'),
        },
      ];
      for (const { args, input } of cases) {
        const options = input === undefined ? {} : { input };
        const fromEtcd = await runEtcdctl(etcd?.endpoints ?? [], args, options);
        const fromRaftkv = await etcdctl(args, options);
        const label = `etcdctl ${args.join(' ')}`;
        expect(fromRaftkv.code, label).toBe(fromEtcd.code);
        expect(errorLine(fromRaftkv), label).toBe(errorLine(fromEtcd));
        expect(fromRaftkv.stdout, label).toBe(fromEtcd.stdout);
      }
    });

    it('the same txn prints the same thing on both', async () => {
      const input = [
        'version("same/k") = "0"',
        '',
        'put same/k v',
        'get same/k',
        '',
        'get same/k',
        '',
        '',
      ].join('\n');
      const outputs: string[] = [];
      for (const run of [
        (text: string) => runEtcdctl(etcd?.endpoints ?? [], ['txn'], { input: text }),
        (text: string) => etcdctl(['txn'], { input: text }),
      ]) {
        const first = await run(input);
        const second = await run(input);
        expect(first.code).toBe(0);
        outputs.push(first.stdout + '|' + second.stdout);
      }
      expect(outputs[1]).toBe(outputs[0]);
      expect(outputs[0]).toBe('SUCCESS\n\nOK\n\nsame/k\nv\n|FAILURE\n\nsame/k\nv\n');
    });
  });
});

describe('etcdctl check perf against a fresh 3-member raftkv cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
    await cluster.waitForLeader();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('check perf --load=s passes', async () => {
    const result = await runEtcdctl(cluster.endpoints(), ['check', 'perf', '--load=s'], {
      timeoutMs: 150_000,
    });
    const summary = result.stdout
      .split('\n')
      .filter((line) => /^(PASS|FAIL)/.test(line))
      .join('\n');
    expect(result.code, `${summary}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^PASS: Throughput is \d+ writes\/s$/m);
    expect(result.stdout).toMatch(/^PASS: Slowest request took [\d.]+s$/m);
    expect(result.stdout).toMatch(/^PASS: Stddev is [\d.]+s$/m);
    expect(result.stdout).toMatch(/^PASS$/m);
    expect(result.stdout).not.toContain('FAIL');
    // It deletes its keys afterwards.
    const left = await runEtcdctl(cluster.endpoints(), [
      'get',
      '/etcdctl-check-perf/',
      '--prefix',
      '--keys-only',
      '--limit=1',
    ]);
    expect(left.stdout).toBe('');
  }, 180_000);
});
