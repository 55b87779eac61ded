import { describe, expect, it } from 'vitest';

import { endpointOfClientUrl, normalizeEndpoint } from './endpoint-address.js';
import { orderEndpoints } from './endpoint-pool.js';

describe('endpoint addresses', () => {
  it('accepts host:port, http URLs and bracketed IPv6', () => {
    expect(normalizeEndpoint('127.0.0.1:2379')).toBe('127.0.0.1:2379');
    expect(normalizeEndpoint(' http://raftkv-0.raftkv:2379/ ')).toBe('raftkv-0.raftkv:2379');
    expect(normalizeEndpoint('[::1]:2379')).toBe('[::1]:2379');
  });

  it('refuses what it cannot dial', () => {
    for (const text of ['', 'localhost', 'host:0', 'host:70000', ':2379', 'a b:1', 'unix:///x']) {
      expect(() => normalizeEndpoint(text), text).toThrow(/not host:port/);
    }
    expect(() => normalizeEndpoint('https://host:2379')).toThrow(/TLS/);
  });

  it("takes a member's plain http client URL as an endpoint", () => {
    expect(endpointOfClientUrl('http://10.0.0.1:2379')).toBe('10.0.0.1:2379');
    expect(endpointOfClientUrl('https://10.0.0.1:2379')).toBeUndefined();
    expect(endpointOfClientUrl('unix://x')).toBeUndefined();
  });
});

describe('endpoint order', () => {
  it('starts at the endpoint that answered last and tries failing ones last', () => {
    const endpoints = ['a:1', 'b:1', 'c:1', 'd:1'];
    expect(orderEndpoints(endpoints, 0, () => false)).toEqual(endpoints);
    expect(orderEndpoints(endpoints, 2, () => false)).toEqual(['c:1', 'd:1', 'a:1', 'b:1']);
    expect(orderEndpoints(endpoints, 2, (endpoint) => endpoint === 'c:1')).toEqual([
      'd:1',
      'a:1',
      'b:1',
      'c:1',
    ]);
  });
});
