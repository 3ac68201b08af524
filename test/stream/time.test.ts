/** Watermarks (per-partition min, idleness), timer queues. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { boundedOutOfOrderness, TimerHeap, TimerService, WatermarkTracker } from '../../src/stream/index.js';

describe('WatermarkTracker', () => {
  it('merges partitions by minimum and never goes backwards', () => {
    const t = new WatermarkTracker(boundedOutOfOrderness(10), 0, 2, 0);
    t.onRecords(0, 100, 0);
    assert.equal(t.update(), Number.NEGATIVE_INFINITY, 'partition 1 has no data yet: holds at −∞');
    t.onRecords(1, 50, 0);
    assert.equal(t.update(), 39);
    t.onRecords(1, 500, 0);
    assert.equal(t.update(), 89, 'min(100, 500) − 10 − 1');
    t.onRecords(0, 20, 0);
    assert.equal(t.update(), 89, 'an older record does not pull it back');
  });

  it('excludes idle partitions after the idleness timeout and re-includes them on data', () => {
    const t = new WatermarkTracker(boundedOutOfOrderness(0), 1000, 2, 0);
    t.onRecords(0, 5000, 500);
    assert.equal(t.update(), Number.NEGATIVE_INFINITY);
    t.checkIdle(999);
    assert.equal(t.update(), Number.NEGATIVE_INFINITY, 'not idle before the timeout');
    t.checkIdle(1000);
    assert.equal(t.isPartitionIdle(1), true);
    assert.equal(t.update(), 4999, 'partition 1 idle: partition 0 alone decides');
    t.onRecords(1, 100, 1500);
    assert.equal(t.isPartitionIdle(1), false);
    assert.equal(t.update(), 4999, 'the returning partition holds but cannot pull back');
    t.checkIdle(5000);
    t.update();
    assert.equal(t.idle, true, 'all idle');
  });
});

describe('TimerHeap / TimerService', () => {
  it('pops in time order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 })), (times) => {
        const h = new TimerHeap<number>();
        for (const t of times) h.push(t, t);
        const out: number[] = [];
        while (h.size > 0) out.push(h.pop());
        assert.deepEqual(
          out,
          [...times].sort((a, b) => a - b),
        );
      }),
    );
  });

  it('deduplicates per (key, time), honours deletes, fires timers registered while firing', () => {
    const s = new TimerService<string>();
    s.register('a', 10);
    s.register('a', 10);
    s.register('b', 5);
    s.register('c', 7);
    s.delete('c', 7);
    const fired: string[] = [];
    s.advance(10, (k, t) => {
      fired.push(`${k}@${t}`);
      if (k === 'b' && t === 5) s.register('b', 8);
    });
    assert.deepEqual(fired, ['b@5', 'b@8', 'a@10']);
    assert.equal(s.size, 0);
  });
});
