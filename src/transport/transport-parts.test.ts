/** Unit tests of the transport's small pure parts: envelope checks, backoff, limits. */
import { describe, expect, it } from 'vitest';

import { envelopeRejection } from './peer-envelope.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { DEFAULT_TRANSPORT_LIMITS, resolveTransportLimits } from './transport-limits.js';

describe('envelopeRejection', () => {
  it('accepts frames for this member of this cluster', () => {
    expect(envelopeRejection({ clusterId: 0xabc, from: 2, to: 1 }, 0xabc, 1)).toBeUndefined();
  });

  it('names both cluster ids and both members for a foreign cluster', () => {
    const reason = envelopeRejection({ clusterId: 0xdef, from: 2, to: 1 }, 0xabc, 1);
    expect(reason).toMatch(/member 2 of cluster def .* member 1 of cluster abc/);
  });

  it('names the intended and the actual receiver for a misaddressed frame', () => {
    const reason = envelopeRejection({ clusterId: 0xabc, from: 2, to: 3 }, 0xabc, 1);
    expect(reason).toMatch(/for member 3 to member 1/);
  });
});

describe('ReconnectBackoff', () => {
  it('doubles up to the maximum, jitters downwards only, and resets', () => {
    const backoff = new ReconnectBackoff(100, 1000, () => 0);
    expect([1, 2, 3, 4, 5].map(() => backoff.nextDelayMs())).toEqual([100, 200, 400, 800, 1000]);
    backoff.reset();
    expect(backoff.isAtMinimum).toBe(true);
    const jittered = new ReconnectBackoff(100, 1000, () => 0.999);
    expect(jittered.nextDelayMs()).toBe(80);
    jittered.exhaust();
    expect(jittered.nextDelayMs()).toBe(800);
  });
});

describe('resolveTransportLimits', () => {
  it('fills in defaults and refuses incoherent limits', () => {
    expect(resolveTransportLimits({})).toEqual(DEFAULT_TRANSPORT_LIMITS);
    expect(resolveTransportLimits({ queuedMessagesMax: 5 }).queuedMessagesMax).toBe(5);
    expect(() => resolveTransportLimits({ queuedMessagesMax: 0 })).toThrow(/queuedMessagesMax/);
    expect(() =>
      resolveTransportLimits({ reconnectBackoffMsMin: 10, reconnectBackoffMsMax: 5 }),
    ).toThrow(/reconnectBackoffMsMin/);
    expect(() => resolveTransportLimits({ receiveMessageBytesMax: 1024 })).toThrow(
      /receiveMessageBytesMax/,
    );
  });
});
