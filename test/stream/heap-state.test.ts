import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeapKeyedState } from '../../src/stream/index.js';

type Op =
  | { kind: 'put'; key: number; value: number }
  | { kind: 'get'; key: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'purge' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.integer({ min: 0, max: 20 }), value: fc.integer() }),
  fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ kind: fc.constant('purge' as const) }),
);

describe('HeapKeyedState', () => {
  it('with a TTL, purge removes exactly the expired entries, whatever the write order (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(opArb, { maxLength: 200 }), (ttl, ops) => {
        let now = 0;
        const state = new HeapKeyedState<number, number>(ttl, () => now);
        const model = new Map<number, { value: number; expiresAt: number }>();
        for (const op of ops) {
          if (op.kind === 'put') {
            state.put(op.key, op.value);
            model.set(op.key, { value: op.value, expiresAt: now + ttl });
          } else if (op.kind === 'get') {
            const m = model.get(op.key);
            assert.equal(state.get(op.key), m !== undefined && m.expiresAt > now ? m.value : undefined);
          } else if (op.kind === 'tick') {
            now += op.ms;
          } else {
            const expired = [...model.values()].filter((e) => e.expiresAt <= now).length;
            const removedLazily = model.size - state.snapshot().length;
            assert.equal(state.purge(), expired - removedLazily, 'purge count');
            for (const [k, e] of model) if (e.expiresAt <= now) model.delete(k);
            assert.equal(
              state.snapshot().length,
              model.size,
              'nothing expired is left, nothing live is gone',
            );
          }
        }
        const live = [...model].filter(([, e]) => e.expiresAt > now).map(([k, e]) => [k, e.value]);
        assert.deepEqual(
          state.entries().sort((a, b) => a[0] - b[0]),
          live.sort((a, b) => (a[0] as number) - (b[0] as number)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('without a TTL, purge keeps everything and does no work', () => {
    const state = new HeapKeyedState<string, number>(undefined, () => 1e15);
    state.put('a', 1);
    state.put('b', 2);
    assert.equal(state.purge(), 0);
    assert.deepEqual(state.entries(), [
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('restore re-establishes expiry order, so purge after restore is exact', () => {
    let now = 0;
    const state = new HeapKeyedState<string, number>(10, () => now);
    state.restore([
      ['late', 1, 30],
      ['early', 2, 5],
      ['mid', 3, 20],
    ]);
    now = 25;
    assert.equal(state.purge(), 2);
    assert.deepEqual(state.entries(), [['late', 1]]);
  });
});
