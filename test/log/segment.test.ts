/** LogSegment: index-driven batch lookup, whole-batch reads, torn-tail recovery, index rebuild. */
import assert from 'node:assert/strict';
import { appendFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LogSegment } from '../../src/log/segment.js';
import { setBaseOffset, validateBatches } from '../../src/protocol/index.js';
import { batch, kv, tempDir } from './helpers.js';

function fill(seg: LogSegment, n: number, base: number): number[] {
  const sizes: number[] = [];
  let offset = base;
  for (let i = 0; i < n; i++) {
    const b = batch([kv(`k${i}`, 'v'.repeat(i * 3)), kv(`j${i}`, 'w')]);
    setBaseOffset(b, 0, offset);
    seg.append(b, validateBatches(b));
    sizes.push(b.length);
    offset += 2;
  }
  return sizes;
}

describe('LogSegment', () => {
  it('locates batches by offset through the sparse index and reads whole batches', () => {
    const { dir, cleanup } = tempDir();
    try {
      const seg = LogSegment.create(dir, 100, 200);
      const sizes = fill(seg, 30, 100);
      assert.equal(seg.nextOffset, 160);
      assert.ok(seg.offsetIndex.entries > 3, `sparse index has ${seg.offsetIndex.entries} entries`);
      for (let o = 100; o < 160; o++) {
        const found = seg.findBatch(o)!;
        assert.equal(found.header.baseOffset, o - ((o - 100) % 2));
      }
      assert.equal(seg.findBatch(160), null);
      const at = seg.findBatch(110)!;
      const two = seg.readBatches(
        at.position,
        at.header.size,
        sizes[5]! + sizes[6]!,
        Number.MAX_SAFE_INTEGER,
      );
      assert.equal(validateBatches(two).length, 2);
      assert.equal(seg.readBatches(at.position, at.header.size, 1, 112).length, sizes[5]);
      seg.close();
    } finally {
      cleanup();
    }
  });

  it('recover() keeps valid batches and cuts a torn tail; trusted open rebuilds missing indexes', () => {
    const { dir, cleanup } = tempDir();
    try {
      const seg = LogSegment.create(dir, 0, 100);
      fill(seg, 10, 0);
      const good = seg.size;
      seg.persistIndexes();
      seg.close();
      appendFileSync(
        join(dir, '00000000000000000000.log'),
        Buffer.from(batch([kv('x', 'y')]).subarray(0, 30)),
      );
      const { segment, truncatedBytes } = LogSegment.open(dir, 0, 100, true);
      assert.equal(truncatedBytes, 30);
      assert.equal(segment.size, good);
      assert.equal(statSync(join(dir, '00000000000000000000.log')).size, good);
      assert.equal(segment.nextOffset, 20);
      segment.close();
      const trusted = LogSegment.open(dir, 0, 100, false).segment;
      assert.equal(trusted.nextOffset, 20);
      assert.equal(trusted.findBatch(13)!.header.baseOffset, 12);
      trusted.close();
    } finally {
      cleanup();
    }
  });
});
