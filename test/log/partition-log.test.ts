/** PartitionLog unit tests: offsets, reads, rolls, bad input, LogAppendTime, time lookup, truncation, retention, durability, restarts. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/common/index.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  readBatchHeader,
  validateBatch,
  validateBatches,
} from '../../src/protocol/index.js';
import { batch, kv, openLog, readAll, tempDir } from './helpers.js';

function dirSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(join(dir, f)).toString('base64');
  return out;
}

describe('PartitionLog', () => {
  it('assigns dense offsets, returns stored bytes and reads whole batches', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      const a = batch([{ value: Buffer.from('a0') }, { value: Buffer.from('a1') }]);
      const b = batch([{ value: Buffer.from('b0') }], { compression: 1 });
      const ra = await log.append(Buffer.from(a));
      const rb = await log.append(Buffer.from(b));
      assert.deepEqual([ra.baseOffset, ra.lastOffset, rb.baseOffset, rb.lastOffset], [0, 1, 2, 2]);
      assert.equal(ra.logAppendTime, -1);
      assert.equal(log.logEndOffset, 3);
      assert.equal(log.highWatermark, 3);
      const { records } = log.read(1, { maxBytes: 1 << 20 });
      const hs = validateBatches(records);
      assert.deepEqual(
        hs.map((h) => h.baseOffset),
        [0, 2],
      );
      // Stored bytes equal the appended bytes except baseOffset and partitionLeaderEpoch.
      const stored = records.subarray(0, hs[0]!.size);
      assert.ok(stored.subarray(17).equals(a.subarray(17)), 'stored.subarray(17).equals(a.subarray(17))');
      assert.deepEqual(
        readAll(log).map((r) => r.value),
        ['a0', 'a1', 'b0'],
      );
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('appends several batches in one call, all or nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      const two = Buffer.concat([
        batch([{ value: Buffer.from('x') }]),
        batch([{ value: Buffer.from('y') }, { value: null }]),
      ]);
      const r = await log.append(two);
      assert.deepEqual([r.baseOffset, r.lastOffset], [0, 2]);
      const bad = Buffer.concat([
        batch([{ value: Buffer.from('z') }]),
        Buffer.from(batch([{ value: Buffer.from('w') }])),
      ]);
      bad[bad.length - 1] ^= 1; // corrupt the second batch only
      await assert.rejects(log.append(bad), (e: unknown) => isSluiceError(e, 'CORRUPT_RECORD'));
      assert.equal(log.logEndOffset, 3);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('returns the first batch whole even above maxBytes, and never a torn batch', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      for (let i = 0; i < 5; i++) await log.append(batch([{ value: Buffer.alloc(1000, i) }]));
      const size = readBatchHeader(log.read(0, { maxBytes: 1 }).records).size;
      assert.equal(log.read(0, { maxBytes: 1 }).records.length, size);
      assert.equal(log.read(0, { maxBytes: size * 2 + size / 2 }).records.length, size * 2);
      assert.equal(log.read(2, { maxBytes: 10 * size, maxOffset: 4 }).records.length, size * 2);
      assert.equal(log.read(5, { maxBytes: 100 }).records.length, 0);
      assert.throws(
        () => log.read(6, { maxBytes: 100 }),
        (e: unknown) => isSluiceError(e, 'OFFSET_OUT_OF_RANGE'),
      );
      assert.throws(
        () => log.read(-1, { maxBytes: 100 }),
        (e: unknown) => isSluiceError(e, 'OFFSET_OUT_OF_RANGE'),
      );
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('rolls segments by size and by age, naming them by base offset', async () => {
    const { dir, cleanup } = tempDir();
    try {
      let now = 1_000_000;
      const log = await openLog(dir, { 'segment.bytes': 3000, 'segment.ms': 60_000 }, () => now);
      for (let i = 0; i < 10; i++) await log.append(batch([{ value: Buffer.alloc(900), timestamp: now }]));
      const sizeRolled = log.numberOfSegments;
      assert.ok(sizeRolled >= 3, `expected several segments, got ${sizeRolled}`);
      now += 61_000;
      await log.append(batch([{ value: Buffer.from('late'), timestamp: now }]));
      assert.equal(log.numberOfSegments, sizeRolled + 1);
      const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
      assert.equal(logs.length, log.numberOfSegments);
      assert.ok(logs.includes('00000000000000000010.log'), 'logs.includes(00000000000000000010.log)');
      assert.equal(readAll(log).length, 11);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('rejects a wrong CRC, a wrong magic and impossible lengths with a clear error, changing nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      await log.append(batch([kv('k', 'v')]));
      const before = dirSnapshot(dir);
      const good = batch([kv('k2', 'v2')]);
      const badCrc = Buffer.from(good);
      badCrc[good.length - 1] ^= 0xff;
      const badMagic = Buffer.from(good);
      badMagic[16] = 1;
      const badLength = Buffer.from(good);
      badLength.writeInt32BE(0x7fff0000, 8);
      const negLength = Buffer.from(good);
      negLength.writeInt32BE(-5, 8);
      const cases: [Buffer, RegExp][] = [
        [badCrc, /CRC mismatch/],
        [badMagic, /magic 1/],
        [badLength, /impossible record batch length/],
        [negLength, /impossible record batch length/],
        [good.subarray(0, 40), /truncated/],
        [Buffer.alloc(0), /empty/],
      ];
      for (const [bytes, msg] of cases) {
        await assert.rejects(log.append(bytes), (e: unknown) => {
          assert.ok(isSluiceError(e), String(e));
          assert.match(e.message, msg);
          return true;
        });
      }
      assert.equal(log.logEndOffset, 1);
      assert.deepEqual(dirSnapshot(dir), before);
      log.updateConfig({ 'max.message.bytes': 500 });
      await assert.rejects(log.append(batch([{ value: Buffer.alloc(2000) }])), (e: unknown) =>
        isSluiceError(e, 'RECORD_TOO_LARGE'),
      );
      assert.equal(log.logEndOffset, 1);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('stamps LogAppendTime batches with the broker clock and a valid CRC', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'message.timestamp.type': 'LogAppendTime' }, () => 777_000);
      const r = await log.append(batch([kv('a', '1', 5), kv('b', '2', 6)]));
      assert.equal(r.logAppendTime, 777_000);
      const { records } = log.read(0, { maxBytes: 1000 });
      const h = validateBatch(records);
      assert.equal(h.timestampType, 1);
      assert.deepEqual(
        decodeRecordBatch(records).records.map((x) => x.timestamp),
        [777_000, 777_000],
      );
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('finds offsets by timestamp across segments (first record at or after the time)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': 1000, 'index.interval.bytes': 1 });
      for (let i = 0; i < 30; i++)
        await log.append(batch([kv(`k${i}`, 'v', 1000 + i * 10), kv(`j${i}`, 'v', 1005 + i * 10)]));
      assert.ok(log.numberOfSegments > 2, 'log.numberOfSegments > 2');
      assert.deepEqual(log.offsetForTimestamp(0), { offset: 0, timestamp: 1000 });
      assert.deepEqual(log.offsetForTimestamp(1005), { offset: 1, timestamp: 1005 });
      assert.deepEqual(log.offsetForTimestamp(1006), { offset: 2, timestamp: 1010 });
      assert.deepEqual(log.offsetForTimestamp(1200), { offset: 40, timestamp: 1200 });
      assert.equal(log.offsetForTimestamp(5000), null);
      assert.deepEqual(log.offsetForTimestamp(-1), { offset: 60, timestamp: -1 });
      assert.deepEqual(log.offsetForTimestamp(-2), { offset: 0, timestamp: -1 });
      assert.deepEqual(log.offsetForTimestamp(-3), { offset: 59, timestamp: 1295 });
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('truncates to a batch boundary across segments and keeps appending after it', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': 1500 });
      for (let i = 0; i < 20; i++) await log.append(batch([kv(`k${i}`, `v${i}`), kv(`k${i}b`, `v${i}b`)]));
      const segs = log.numberOfSegments;
      log.truncateTo(13); // inside the batch [12, 13]
      assert.equal(log.logEndOffset, 12);
      assert.ok(log.numberOfSegments < segs, 'log.numberOfSegments < segs');
      const r = await log.append(batch([kv('new', 'value')]));
      assert.equal(r.baseOffset, 12);
      const all = readAll(log);
      assert.equal(all.length, 13);
      assert.equal(all[12]!.value, 'value');
      await log.close();
      const again = await openLog(dir, { 'segment.bytes': 1500 });
      assert.deepEqual(readAll(again), all);
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('deletes records before an offset and enforces retention by bytes and age, never the active segment', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const now = 10_000_000;
      const log = await openLog(dir, { 'segment.bytes': 1200, 'retention.ms': 1000 }, () => now);
      for (let i = 0; i < 20; i++)
        await log.append(batch([{ value: Buffer.alloc(300), timestamp: now - 5000 + i }]));
      const segs = log.numberOfSegments;
      assert.equal(log.deleteRecordsBefore(3), 3);
      assert.equal(log.logStartOffset, 3);
      assert.throws(
        () => log.read(2, { maxBytes: 100 }),
        (e: unknown) => isSluiceError(e, 'OFFSET_OUT_OF_RANGE'),
      );
      assert.ok(
        log.read(3, { maxBytes: 100 }).records.length > 0,
        'log.read(3, { maxBytes: 100 }).records.length > 0',
      );
      assert.throws(
        () => log.deleteRecordsBefore(99),
        (e: unknown) => isSluiceError(e, 'OFFSET_OUT_OF_RANGE'),
      );
      log.updateConfig({ 'retention.ms': -1, 'retention.bytes': 2500 });
      const deleted = log.enforceRetention(now);
      assert.ok(deleted > 0 && deleted < segs, 'deleted > 0 && deleted < segs');
      assert.ok(log.size <= 2500 + 1200, 'log.size <= 2500 + 1200');
      log.updateConfig({ 'retention.ms': 1000, 'retention.bytes': -1 });
      log.enforceRetention(now);
      assert.equal(log.numberOfSegments, 1, 'only the active segment survives age retention');
      assert.equal(log.logEndOffset, 20);
      assert.equal(
        log.logStartOffset,
        (log as unknown as { segments: { baseOffset: number }[] }).segments[0]!.baseOffset,
      );
      await log.close();
      const again = await openLog(dir, { 'segment.bytes': 1200 });
      assert.equal(again.logStartOffset, log.logStartOffset);
      assert.equal(again.logEndOffset, 20);
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('persists deleteRecordsBefore across restarts', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      for (let i = 0; i < 5; i++) await log.append(batch([kv('k', String(i))]));
      log.deleteRecordsBefore(2);
      await log.close();
      const again = await openLog(dir);
      assert.equal(again.logStartOffset, 2);
      assert.deepEqual(
        readAll(again).map((r) => r.value),
        ['2', '3', '4'],
      );
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('acknowledges under each durability policy, sharing fsyncs between concurrent appends', async () => {
    for (const flushMs of [0, 30, -1]) {
      const { dir, cleanup } = tempDir();
      try {
        const log = await openLog(dir, { 'flush.ms': flushMs });
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => log.append(batch([kv('k', String(i))]))),
        );
        assert.deepEqual(
          results.map((r) => r.baseOffset),
          Array.from({ length: 50 }, (_, i) => i),
        );
        await log.flush();
        await log.close();
      } finally {
        cleanup();
      }
    }
  });

  it('flush.ms = N: an append N ms after the last fsync starts the next one without the timer', {
    timeout: 60_000,
  }, async () => {
    // A one-hour interval: if only the timer could start the fsync, these acks would hang.
    const { dir, cleanup } = tempDir();
    let clock = 1_000_000;
    try {
      const log = await openLog(dir, { 'flush.ms': 3_600_000 }, () => clock);
      let acked = 0;
      const first = log.append(batch([kv('a', '1')])).then((r) => {
        acked++;
        return r;
      });
      await new Promise((r) => setImmediate(r));
      assert.equal(acked, 0, 'not durable before the interval has passed');
      clock += 3_600_000;
      const second = log.append(batch([kv('b', '2')]));
      const [r1, r2] = await Promise.all([first, second]);
      assert.deepEqual([r1.baseOffset, r2.baseOffset], [0, 1]);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('flush() waits for the fsync in flight and then starts its own, not the periodic timer', {
    timeout: 60_000,
  }, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'flush.ms': 3_600_000 });
      const a = log.append(batch([kv('a', '1')]));
      const f1 = log.flush();
      const b = log.append(batch([kv('b', '2')]));
      const f2 = log.flush();
      const [ra, , rb] = await Promise.all([a, f1, b, f2]);
      assert.deepEqual([ra.baseOffset, rb.baseOffset], [0, 1]);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('restarts cleanly without recovery, and recovers when the marker is absent', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': 2000 });
      for (let i = 0; i < 30; i++) await log.append(batch([kv(`k${i}`, `v${i}`)]));
      const before = readAll(log);
      await log.close();
      const clean = await openLog(dir, { 'segment.bytes': 2000 });
      assert.equal(clean.openReport.cleanShutdown, true);
      assert.equal(clean.openReport.segmentsRecovered, 0);
      assert.deepEqual(readAll(clean), before);
      // Simulate a crash: no close (no marker), and lose the index files too.
      await clean.append(batch([kv('after', 'restart')]));
      for (const f of readdirSync(dir))
        if (f.endsWith('.index') || f.endsWith('.timeindex')) rmSync(join(dir, f));
      const crashed = await openLog(dir, { 'segment.bytes': 2000 });
      assert.equal(crashed.openReport.cleanShutdown, false);
      assert.ok(crashed.openReport.segmentsRecovered >= 1, 'crashed.openReport.segmentsRecovered >= 1');
      assert.equal(crashed.logEndOffset, 31);
      assert.deepEqual(readAll(crashed).slice(0, 30), before);
      assert.equal(crashed.read(17, { maxBytes: 1 }).firstBatchBaseOffset, 17);
      await crashed.close();
    } finally {
      cleanup();
    }
  });

  it('rebuilds an index that disagrees with its segment', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': 3000, 'index.interval.bytes': 1 });
      for (let i = 0; i < 40; i++) await log.append(batch([kv(`k${i}`, `v${i}`)]));
      const before = readAll(log);
      await log.close();
      const index = readdirSync(dir).find((f) => f.endsWith('.index'))!;
      const p = join(dir, index);
      const bytes = readFileSync(p);
      assert.ok(bytes.length >= 16, 'bytes.length >= 16');
      bytes.writeInt32BE(bytes.readInt32BE(bytes.length - 8) + 1, bytes.length - 8); // wrong offset
      writeFileSync(p, bytes);
      writeFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.timeindex'))!), Buffer.alloc(5));
      const again = await openLog(dir, { 'segment.bytes': 3000, 'index.interval.bytes': 1 });
      assert.deepEqual(readAll(again), before);
      for (let o = 0; o < 40; o++) assert.equal(again.read(o, { maxBytes: 1 }).firstBatchBaseOffset, o);
      await again.close();
      assert.ok(statSync(p).size > 0, 'statSync(p).size > 0');
    } finally {
      cleanup();
    }
  });

  it('requires keys on compacted topics and refuses control batches from clients', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'cleanup.policy': 'compact' });
      await assert.rejects(log.append(batch([{ value: Buffer.from('no key') }])), /without a key/);
      const marker = encodeRecordBatch({
        isControl: true,
        isTransactional: true,
        producerId: 1,
        producerEpoch: 0,
        records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.alloc(6) }],
      });
      await assert.rejects(log.append(marker), /control batches/);
      assert.equal(log.logEndOffset, 0);
      await log.close();
    } finally {
      cleanup();
    }
  });
});
