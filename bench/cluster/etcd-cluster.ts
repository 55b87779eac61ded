/**
 * A 3-member etcd (the Debian `etcd-server` package, /usr/bin/etcd, 3.4.23) on 127.0.0.1 with
 * free ports and a temporary data directory per member, logging at warn level to a file per
 * member. Defaults otherwise (heartbeat 100 ms, election timeout 1000 ms, no auto-compaction),
 * except a backend quota of 8 GiB: a 10-minute steady load without compaction writes a few
 * million revisions, which could reach the 2 GiB default and raise the NOSPACE alarm.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { findFreePortRange, LocalCluster, type MemberCommand } from './cluster-under-test.js';

const execFileAsync = promisify(execFile);

export const ETCD_BINARY = process.env['ETCD_BINARY'] ?? '/usr/bin/etcd';
const QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;

export class EtcdCluster extends LocalCluster {
  readonly name = 'etcd';
  protected readonly leaderChangesMetric = 'etcd_server_leader_changes_seen_total';
  private readonly token = `raftkv-bench-${process.pid}-${Date.now()}`;
  /** Client ports are base..base+2, peer ports base+3..base+5. */
  private basePort = 0;

  constructor() {
    super(3, 'raftkv-bench-etcd-');
  }

  protected async allocatePorts(): Promise<void> {
    this.basePort = await findFreePortRange(2 * this.memberCount);
    for (let index = 0; index < this.memberCount; index++) {
      this.clientEndpoints.push(`127.0.0.1:${this.clientPort(index)}`);
    }
  }

  protected clientPort(index: number): number {
    return this.basePort + index;
  }

  private peerPort(index: number): number {
    return this.basePort + this.memberCount + index;
  }

  private memberName(index: number): string {
    return `member-${index}`;
  }

  protected metricsUrl(index: number): string {
    // etcd serves /metrics on its client URLs (HTTP/1.1 next to gRPC on the same port).
    return `http://127.0.0.1:${this.clientPort(index)}/metrics`;
  }

  protected commandFor(index: number): MemberCommand {
    const clientUrl = `http://127.0.0.1:${this.clientPort(index)}`;
    const peerUrl = `http://127.0.0.1:${this.peerPort(index)}`;
    const initialCluster = Array.from(
      { length: this.memberCount },
      (_, member) => `${this.memberName(member)}=http://127.0.0.1:${this.peerPort(member)}`,
    ).join(',');
    // On a restart the same flags are given; etcd ignores the --initial-* ones once its data
    // directory holds a WAL.
    return {
      command: ETCD_BINARY,
      args: [
        '--name',
        this.memberName(index),
        '--data-dir',
        path.join(this.directory, this.memberName(index)),
        '--listen-client-urls',
        clientUrl,
        '--advertise-client-urls',
        clientUrl,
        '--listen-peer-urls',
        peerUrl,
        '--initial-advertise-peer-urls',
        peerUrl,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        this.token,
        '--quota-backend-bytes',
        String(QUOTA_BACKEND_BYTES),
        '--logger',
        'zap',
        '--log-level',
        'warn',
        '--log-outputs',
        this.logFile(index),
      ],
    };
  }

  version(): Promise<string> {
    return etcdVersion();
  }
}

/** The version of the etcd binary, e.g. "3.4.23". */
export async function etcdVersion(): Promise<string> {
  try {
    const { stdout } = await execFileAsync(ETCD_BINARY, ['--version']);
    return stdout.split('\n')[0]?.replace(/^etcd Version:\s*/, '') ?? 'unknown';
  } catch (error) {
    return `unknown (${String(error)})`;
  }
}
