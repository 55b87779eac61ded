import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestCluster, type TestCluster } from './test-cluster.js';

describe('a 3-member cluster of real processes', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ size: 3 });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('elects one leader that every member knows', async () => {
    const leader = await cluster.waitForLeader();
    const statuses = await Promise.all([0, 1, 2].map((ordinal) => cluster.status(ordinal)));
    const leaderId = statuses[leader]?.header?.memberId;
    expect(statuses.every((status) => status.leader === leaderId)).toBe(true);
    expect(statuses.every((status) => status.raftTerm >= 2)).toBe(true);
  });
});
