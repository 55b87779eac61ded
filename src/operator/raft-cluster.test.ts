import { describe, expect, it } from 'vitest';

import { imageOf, resolveSpec } from './raft-cluster.js';

describe('the image a RaftCluster runs', () => {
  it.each([
    ['raftkv', '0.2.0', 'raftkv:0.2.0'],
    ['registry.example:5000/team/raftkv', '0.2.0', 'registry.example:5000/team/raftkv:0.2.0'],
    ['registry.example:5000/team/raftkv:0.3.0', '0.2.0', 'registry.example:5000/team/raftkv:0.3.0'],
    ['raftkv@sha256:abcd', '0.2.0', 'raftkv@sha256:abcd'],
  ])('%s with version %s is %s', (image, version, expected) => {
    expect(imageOf(image, version)).toBe(expected);
  });

  it('defaults to raftkv:0.1.0 and follows spec.version', () => {
    expect(resolveSpec({}).image).toBe('raftkv:0.1.0');
    expect(resolveSpec({ version: '0.2.0' }).image).toBe('raftkv:0.2.0');
  });
});
