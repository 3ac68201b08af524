/** Sparse offset and time indexes: lookups, ordering, persistence and rejection of torn files. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OffsetIndex, persistIndexFile, TimeIndex } from '../../src/log/indexes.js';
import { tempDir } from './helpers.js';

describe('sparse indexes', () => {
  it('OffsetIndex finds the greatest entry at or below an offset and round-trips through its file', () => {
    const { dir, cleanup } = tempDir();
    try {
      const idx = new OffsetIndex();
      for (let i = 1; i <= 100; i++) idx.append(i * 10, i * 4096);
      idx.append(5, 1); // out of order: ignored
      assert.equal(idx.entries, 100);
      assert.deepEqual(idx.lookup(9), { relOffset: -1, position: 0 });
      assert.deepEqual(idx.lookup(10), { relOffset: 10, position: 4096 });
      assert.deepEqual(idx.lookup(555), { relOffset: 550, position: 55 * 4096 });
      assert.deepEqual(idx.lookup(1e9), { relOffset: 1000, position: 100 * 4096 });
      const p = join(dir, 'a.index');
      persistIndexFile(p, idx.toBuffer());
      const loaded = OffsetIndex.load(p, 101 * 4096);
      assert.deepEqual(loaded?.lookup(555), idx.lookup(555));
      assert.equal(OffsetIndex.load(p, 50 * 4096), null, 'entries past the log end are rejected');
      writeFileSync(p, Buffer.alloc(12));
      assert.equal(OffsetIndex.load(p, 1e9), null, 'a torn file is rejected');
      idx.truncateToPosition(50 * 4096);
      assert.equal(idx.last()?.position, 49 * 4096);
    } finally {
      cleanup();
    }
  });

  it('TimeIndex keeps strictly increasing entries and finds the last one below a timestamp', () => {
    const { dir, cleanup } = tempDir();
    try {
      const t = new TimeIndex();
      t.append(1000, 0);
      t.append(900, 5); // older timestamp: not an entry
      t.append(2000, 10);
      t.append(2500, 10); // same offset: the maximum moves up
      t.append(3000, 20);
      assert.equal(t.entries, 3);
      assert.equal(t.lookupBelow(1000), null);
      assert.deepEqual(t.lookupBelow(2600), { timestamp: 2500, relOffset: 10 });
      assert.deepEqual(t.lookupBelow(1e12), { timestamp: 3000, relOffset: 20 });
      const p = join(dir, 'a.timeindex');
      persistIndexFile(p, t.toBuffer());
      assert.deepEqual(TimeIndex.load(p)?.last(), { timestamp: 3000, relOffset: 20 });
      writeFileSync(p, Buffer.alloc(13));
      assert.equal(TimeIndex.load(p), null);
      t.truncateToRelOffset(10);
      assert.deepEqual(t.last(), { timestamp: 1000, relOffset: 0 });
    } finally {
      cleanup();
    }
  });
});
