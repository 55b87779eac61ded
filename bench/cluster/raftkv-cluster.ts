/**
 * A 3-node raftkv cluster on 127.0.0.1, the same way the etcd one runs: one process per node,
 * a temporary data directory each, logs to a file each, SIGKILL by PID.
 *
 * Assumptions about the server (it does not exist yet; adjust serveArgs() when it lands):
 *  - `node dist/cli/main.js serve` (so `npm run build` first) with the flags in serveArgs():
 *    identity from a StatefulSet-style hostname `raftkv-<ordinal>`, peers and clients found by
 *    address templates over the ordinal, `--initial-cluster-size 3`;
 *  - it answers etcd's `Maintenance.Status` on the client port, with etcd's field numbers
 *    (header.member_id, leader, raftIndex, raftTerm, raftAppliedIndex optional), and etcd's KV
 *    Put and Range;
 *  - it serves `/readyz` (200 when ready) and Prometheus `/metrics` with
 *    `raftkv_server_leader_changes_seen_total` on the HTTP port;
 *  - it keeps its state in --data-dir and rejoins from it when restarted with the same flags.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { findFreePortRange, LocalCluster, type MemberCommand } from './cluster-under-test.js';

const execFileAsync = promisify(execFile);

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RAFTKV_MAIN = path.join(REPOSITORY_ROOT, 'dist', 'cli', 'main.js');

/** The ports of a 3-node cluster: node K uses base + K of each kind. */
export interface RaftkvPorts {
  readonly clientBase: number;
  readonly peerBase: number;
  readonly httpBase: number;
}

/**
 * The one place that knows raftkv's command line. Node `ordinal` of the cluster laid out on
 * `ports`, keeping its data under `dataDirectory`.
 */
export function serveArgs(ordinal: number, ports: RaftkvPorts, dataDirectory: string): string[] {
  return [
    RAFTKV_MAIN,
    'serve',
    '--hostname',
    `raftkv-${ordinal}`,
    '--data-dir',
    dataDirectory,
    '--listen-host',
    '127.0.0.1',
    '--client-port',
    String(ports.clientBase + ordinal),
    '--peer-port',
    String(ports.peerBase + ordinal),
    '--http-port',
    String(ports.httpBase + ordinal),
    '--peer-address-template',
    `127.0.0.1:{${ports.peerBase}+ordinal}`,
    '--client-address-template',
    `127.0.0.1:{${ports.clientBase}+ordinal}`,
    '--initial-cluster-size',
    '3',
    '--log-format',
    'json',
  ];
}

export class RaftkvCluster extends LocalCluster {
  readonly name = 'raftkv';
  protected readonly leaderChangesMetric = 'raftkv_server_leader_changes_seen_total';
  private ports: RaftkvPorts = { clientBase: 0, peerBase: 0, httpBase: 0 };

  constructor() {
    super(3, 'raftkv-bench-raftkv-');
  }

  override async start(): Promise<void> {
    if (!fs.existsSync(RAFTKV_MAIN)) {
      throw new Error(`raftkv is not built: ${RAFTKV_MAIN} is missing (run \`npm run build\`)`);
    }
    await super.start();
  }

  protected async allocatePorts(): Promise<void> {
    const base = await findFreePortRange(3 * this.memberCount);
    this.ports = {
      clientBase: base,
      peerBase: base + this.memberCount,
      httpBase: base + 2 * this.memberCount,
    };
    for (let index = 0; index < this.memberCount; index++) {
      this.clientEndpoints.push(`127.0.0.1:${this.clientPort(index)}`);
    }
  }

  protected clientPort(index: number): number {
    return this.ports.clientBase + index;
  }

  private httpUrl(index: number, route: string): string {
    return `http://127.0.0.1:${this.ports.httpBase + index}${route}`;
  }

  protected metricsUrl(index: number): string {
    return this.httpUrl(index, '/metrics');
  }

  protected override async isReady(index: number): Promise<boolean> {
    try {
      const response = await fetch(this.httpUrl(index, '/readyz'), {
        signal: AbortSignal.timeout(1000),
      });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  protected commandFor(index: number): MemberCommand {
    return {
      command: process.execPath,
      args: serveArgs(index, this.ports, path.join(this.directory, String(index))),
      cwd: REPOSITORY_ROOT,
    };
  }

  async version(): Promise<string> {
    let version = 'unknown';
    try {
      const manifest = JSON.parse(
        fs.readFileSync(path.join(REPOSITORY_ROOT, 'package.json'), 'utf8'),
      ) as { version?: string };
      version = manifest.version ?? version;
      const { stdout } = await execFileAsync('git', ['rev-parse', '--short', 'HEAD'], {
        cwd: REPOSITORY_ROOT,
      });
      return `${version} (${stdout.trim()})`;
    } catch {
      return version;
    }
  }
}
