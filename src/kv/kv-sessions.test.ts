/** Tests for exactly-once sessions: retries, stale sequences, eviction and snapshots. */
import { describe, expect, it } from 'vitest';
import { KvError } from './kv-error.js';
import { KvStateMachine } from './kv-state-machine.js';
import type { WriteRequest } from './kv-types.js';

const encoder = new TextEncoder();

function putOf(key: string, value = 'v', prevKv = false): WriteRequest {
  return { put: { key: encoder.encode(key), value: encoder.encode(value), prevKv } };
}

describe('exactly-once sessions', () => {
  it('returns the recorded response for a retry without applying again', () => {
    const store = new KvStateMachine();
    const first = store.apply(putOf('a'), { clientId: 'c1', sequence: 1 });
    const retry = store.apply(putOf('a'), { clientId: 'c1', sequence: 1 });
    expect(retry).toEqual(first);
    expect(store.revision()).toBe(2);
    expect(store.range({ key: encoder.encode('a') }).kvs[0]?.version).toBe(1);
    store.apply(putOf('a'), { clientId: 'c1', sequence: 2 });
    expect(store.revision()).toBe(3);
    expect(store.sessionCount()).toBe(1);
  });

  it('refuses an older sequence and changes nothing', () => {
    const store = new KvStateMachine();
    store.apply(putOf('a'), { clientId: 'c1', sequence: 5 });
    let caught: unknown;
    try {
      store.apply(putOf('b'), { clientId: 'c1', sequence: 4 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KvError);
    expect((caught as KvError).code).toBe('STALE_SEQUENCE');
    expect(store.keyCount()).toBe(1);
    expect(store.revision()).toBe(2);
  });

  it('keeps clients apart and leaves unsessioned writes alone', () => {
    const store = new KvStateMachine();
    store.apply(putOf('a'), { clientId: 'c1', sequence: 1 });
    store.apply(putOf('a'), { clientId: 'c2', sequence: 1 });
    store.apply(putOf('a'));
    expect(store.revision()).toBe(4);
    expect(store.sessionCount()).toBe(2);
  });

  it('records nothing for a refused request', () => {
    const store = new KvStateMachine();
    const invalid: WriteRequest = { put: { key: new Uint8Array(0), value: new Uint8Array(0) } };
    expect(() => store.apply(invalid, { clientId: 'c1', sequence: 1 })).toThrow(KvError);
    expect(store.sessionCount()).toBe(0);
    store.apply(putOf('a'), { clientId: 'c1', sequence: 1 });
    expect(store.revision()).toBe(2);
  });

  it('evicts the client that wrote least recently when over clientsMax', () => {
    const store = new KvStateMachine({ clientsMax: 2 });
    store.apply(putOf('a'), { clientId: 'c1', sequence: 1 });
    store.apply(putOf('b'), { clientId: 'c2', sequence: 1 });
    store.apply(putOf('a'), { clientId: 'c1', sequence: 2 });
    store.apply(putOf('c'), { clientId: 'c3', sequence: 1 });
    expect(store.sessionCount()).toBe(2);
    // c2 was forgotten, so its retry applies again; c1's is still recognised.
    store.apply(putOf('a'), { clientId: 'c1', sequence: 2 });
    expect(store.revision()).toBe(5);
    store.apply(putOf('b'), { clientId: 'c2', sequence: 1 });
    expect(store.revision()).toBe(6);
  });

  it('carries the session table through snapshots, order and responses included', () => {
    const store = new KvStateMachine({ clientsMax: 2 });
    store.apply(putOf('a', 'one'), { clientId: 'c1', sequence: 1 });
    const recorded = store.apply(
      {
        txn: {
          compare: [],
          success: [
            { put: { key: encoder.encode('a'), value: encoder.encode('two'), prevKv: true } },
            { range: { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) } },
            { txn: { compare: [], success: [], failure: [] } },
          ],
          failure: [],
        },
      },
      { clientId: 'client-ü', sequence: 7 },
    );
    store.apply(
      { deleteRange: { key: encoder.encode('zz'), prevKv: true } },
      {
        clientId: 'c1',
        sequence: 2,
      },
    );
    const restored = KvStateMachine.restore(store.snapshot(), { clientsMax: 2 });
    expect(restored.snapshot()).toEqual(store.snapshot());
    expect(restored.apply(putOf('x'), { clientId: 'client-ü', sequence: 7 })).toEqual(recorded);
    expect(restored.revision()).toBe(store.revision());
    // Eviction order survives too: client-ü is the least recent.
    restored.apply(putOf('y'), { clientId: 'c9', sequence: 1 });
    restored.apply(putOf('x'), { clientId: 'client-ü', sequence: 7 });
    expect(restored.range({ key: encoder.encode('x') }).count).toBe(1);
  });
});
