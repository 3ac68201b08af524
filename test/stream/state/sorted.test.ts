import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Indexed, SortedIndex } from '../../../src/stream/state/sorted.js';

interface E extends Indexed {
  sk: string;
  live: boolean;
}

const entry = (sk: string): E => ({ sk, live: true });

describe('SortedIndex', () => {
  it('keeps entries ordered across chunk splits, rebuilds and compaction (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', 'c', 'd', '\u00ff') }), {
          minLength: 0,
          maxLength: 1500,
          size: 'max',
        }),
        fc.array(fc.nat(), { maxLength: 300, size: 'max' }),
        fc.option(fc.string({ maxLength: 2, unit: fc.constantFrom('a', 'b', 'c') }), { nil: undefined }),
        fc.option(fc.string({ maxLength: 2, unit: fc.constantFrom('b', 'c', 'd') }), { nil: undefined }),
        (keys, kills, lo, hi) => {
          const idx = new SortedIndex<E>();
          const all = keys.map(entry);
          for (const e of all) idx.insert(e);
          idx.checkInvariants();
          for (const k of kills) if (all.length > 0) all[k % all.length].live = false;
          const expected = all
            .filter((e) => e.live)
            .map((e) => e.sk)
            .sort();
          const liveIn = (it: Iterable<E>): string[] => [...it].filter((e) => e.live).map((e) => e.sk);
          assert.deepEqual(liveIn(idx.entries()), expected);
          const inRange = expected.filter(
            (k) => (lo === undefined || k >= lo) && (hi === undefined || k <= hi),
          );
          assert.deepEqual(liveIn(idx.range(lo, hi)), inRange);
          idx.compact();
          idx.checkInvariants();
          assert.equal(idx.size, expected.length);
          assert.deepEqual(liveIn(idx.range(lo, hi)), inRange);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('an iterator survives inserts while suspended: every original entry once, in order', () => {
    const idx = new SortedIndex<E>();
    const originals: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const k = String(i * 7).padStart(6, '0');
      originals.push(k);
      idx.insert(entry(k));
    }
    originals.sort();
    const seen: string[] = [];
    const isOriginal = new Set(originals);
    let n = 0;
    for (const e of idx.range(undefined, undefined)) {
      seen.push(e.sk);
      if (!isOriginal.has(e.sk)) continue;
      // Inserts ahead of and behind the cursor, forcing chunk splits.
      idx.insert(entry(`${e.sk}x`));
      idx.insert(entry(String(n++).padStart(5, '0')));
    }
    idx.checkInvariants();
    const fromOriginals = seen.filter((k) => originals.includes(k));
    assert.deepEqual(fromOriginals, originals);
    assert.equal(new Set(seen).size, seen.length, 'nothing yielded twice');
    assert.deepEqual([...seen].sort(), seen, 'yielded in ascending order');
  });
});
