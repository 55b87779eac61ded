import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { SILENT_LOGGER } from '../common/index.js';
import type { DiscoverAnswer } from '../transport/index.js';
import { resolveStartIdentity } from './member-bootstrap.js';

const SELF_URL = 'http://raftkv-0.peers:2380';
const NOT_INITIALIZED: DiscoverAnswer = {
  isInitialized: false,
  clusterId: 0,
  leaderId: 0,
  members: [],
};

describe('resolveStartIdentity on an empty data directory', () => {
  let directory: string | undefined;
  afterEach(() => {
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('bootstraps a founder when no peer answers for a cluster', async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'raftkv-bootstrap-'));
    const identity = await resolveStartIdentity({
      dataDirectory: directory,
      clusterId: 7,
      founderId: 1,
      advertisedPeerUrl: SELF_URL,
      discoveryAddresses: ['peer-1:2380'],
      discover: () => Promise.resolve(NOT_INITIALIZED),
      logger: SILENT_LOGGER,
      signal: new AbortController().signal,
    });
    expect(identity).toEqual({ kind: 'bootstrap', clusterId: 7, nodeId: 1 });
  });

  it('never bootstraps once a peer answered for a cluster, even if later rounds get no answer', async () => {
    // A founder whose storage was reset sees the cluster (which does not list it, or lists it
    // as having run), waits, and then its peers restart: founding now would be a second,
    // amnesiac cluster under the same cluster id.
    directory = mkdtempSync(path.join(tmpdir(), 'raftkv-bootstrap-'));
    const abort = new AbortController();
    let round = 0;
    const waiting = resolveStartIdentity({
      dataDirectory: directory,
      clusterId: 7,
      founderId: 1,
      advertisedPeerUrl: SELF_URL,
      discoveryAddresses: ['peer-1:2380'],
      discover: () => {
        round++;
        if (round === 1) {
          const answer: DiscoverAnswer = {
            isInitialized: true,
            clusterId: 7,
            leaderId: 2,
            members: [
              {
                id: 2,
                name: 'raftkv-1',
                peerUrls: ['http://raftkv-1.peers:2380'],
                clientUrls: [],
                isLearner: false,
              },
            ],
          };
          return Promise.resolve(answer);
        }
        if (round >= 3) abort.abort();
        return Promise.reject(new Error('connection refused'));
      },
      logger: SILENT_LOGGER,
      signal: abort.signal,
    });
    await expect(waiting).rejects.toThrow();
    expect(round).toBeGreaterThanOrEqual(3);
  }, 20_000);
});
