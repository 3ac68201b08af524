/** Compaction: property test against an uncompacted oracle, tombstone horizons, concurrency, aborted transactions, crash mid-swap. */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeRecordBatch } from '../../src/protocol/index.js';
import { kv, openLog, readAll, tempDir } from './helpers.js';

type Op = { key: string; value: string | null };

function finalMap(records: { key: string | null; value: string | null }[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of records) {
    if (r.key === null) continue;
    if (r.value === null) m.delete(r.key);
    else m.set(r.key, r.value);
  }
  return m;
}

const COMPACT = {
  'cleanup.policy': 'compact' as const,
  'segment.bytes': 900,
  'min.cleanable.dirty.ratio': 0,
  'delete.retention.ms': 1000,
};

describe('compaction', () => {
  it('keeps every key latest value and original offsets; the key->value map is unchanged (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            fc.record({
              key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
              value: fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: null, freq: 6 }),
            }),
            { minLength: 1, maxLength: 5 },
          ),
          { minLength: 1, maxLength: 60 },
        ),
        fc.integer({ min: 0, max: 4 }),
        async (batches: Op[][], compression) => {
          const { dir, cleanup } = tempDir('sluice-compact-');
          let now = 1_000_000;
          try {
            const log = await openLog(dir, COMPACT, () => now);
            for (const b of batches)
              await log.append(
                encodeRecordBatch({ compression, records: b.map((o) => kv(o.key, o.value, now)) }),
              );
            const before = readAll(log);
            const latestOffset = new Map<string, number>();
            for (const r of before) latestOffset.set(r.key!, r.offset);
            const segmentsBefore = log.numberOfSegments;
            const activeBase = (log as unknown as { active: { baseOffset: number } }).active.baseOffset;
            const cleaned = await log.compact(now);
            assert.ok(segmentsBefore === 1 || cleaned > 0, 'a log with inactive segments was cleaned');
            const after = readAll(log);
            const byOffset = new Map(before.map((r) => [r.offset, r]));
            for (const r of after) assert.deepEqual(r, byOffset.get(r.offset), `offset ${r.offset} changed`);
            for (const [key, off] of latestOffset)
              assert.ok(
                after.some((r) => r.offset === off),
                `latest record of ${key} at ${off} is gone`,
              );
            const latestInRange = new Map<string, number>();
            for (const r of before) if (r.offset < activeBase) latestInRange.set(r.key!, r.offset);
            for (const r of after)
              if (r.offset < activeBase)
                assert.equal(
                  latestInRange.get(r.key!),
                  r.offset,
                  `superseded record at ${r.offset} survived`,
                );
            assert.deepEqual(finalMap(after), finalMap(before));
            assert.equal(log.logEndOffset, before.length === 0 ? 0 : before[before.length - 1]!.offset + 1);
            // Past the delete horizon, a second pass drops tombstones; the map still matches.
            now += 5000;
            await log.compact(now);
            const later = readAll(log);
            assert.deepEqual(finalMap(later), finalMap(before));
            for (const r of later)
              assert.ok(
                r.value !== null || r.offset >= activeBase,
                `tombstone at ${r.offset} outlived its horizon`,
              );
            await log.close();
            const reopened = await openLog(dir, COMPACT, () => now);
            assert.deepEqual(readAll(reopened), later);
            await reopened.close();
          } finally {
            cleanup();
          }
        },
      ),
      { numRuns: 25, endOnFailure: true },
    );
  });

  it('does not block appends and reads while it runs', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { ...COMPACT, 'segment.bytes': 64 * 1024 });
      for (let i = 0; i < 3000; i++)
        await log.append(encodeRecordBatch({ records: [kv(`k${i % 50}`, `v${i}`)] }));
      const running = log.compact();
      let appendedDuring = 0;
      let done = false;
      void running.then(() => {
        done = true;
      });
      while (!done) {
        await log.append(encodeRecordBatch({ records: [kv('live', `x${appendedDuring}`)] }));
        assert.ok(
          log.read(log.logStartOffset, { maxBytes: 4096 }).records.length > 0,
          'reads work during cleaning',
        );
        appendedDuring++;
        await new Promise((r) => setImmediate(r));
      }
      assert.ok((await running) > 0, 'cleaned something');
      assert.ok(appendedDuring > 0, 'appends interleaved with cleaning');
      const m = finalMap(readAll(log));
      assert.equal(m.get('live'), `x${appendedDuring - 1}`);
      for (let k = 0; k < 50; k++) assert.equal(m.get(`k${k}`), `v${2950 + k}`);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('drops aborted transactional data, keeps committed data and markers', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { ...COMPACT, 'segment.bytes': 400 });
      const txn = (pid: number, key: string, value: string, seq: number) =>
        encodeRecordBatch({
          producerId: pid,
          producerEpoch: 0,
          baseSequence: seq,
          isTransactional: true,
          records: [kv(key, value)],
        });
      await log.append(encodeRecordBatch({ records: [kv('x', 'plain')] }));
      await log.append(txn(1, 'x', 'aborted', 0));
      await log.append(txn(2, 'y', 'committed', 0));
      await log.appendTxnMarker(1, 0, false, 0);
      await log.appendTxnMarker(2, 0, true, 0);
      for (let i = 0; i < 10; i++)
        await log.append(encodeRecordBatch({ records: [kv(`pad${i}`, 'p'.repeat(100))] }));
      await log.compact();
      const values = readAll(log).map((r) => r.value);
      assert.ok(!values.includes('aborted'), 'aborted data removed');
      assert.ok(values.includes('committed'), 'committed data kept');
      assert.ok(values.includes('plain'), 'x keeps its latest committed value');
      // Markers survive (2 control records) and producer 1 keeps an empty batch for its sequence.
      const all = readAll(log);
      assert.equal(all.filter((r) => r.key?.charCodeAt(0) === 0).length, 2);
      assert.equal((await log.append(txn(1, 'z', 'next', 0))).duplicate, true);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('finishes a swap interrupted by a crash on the next open', async () => {
    const { dir, cleanup } = tempDir();
    const { dir: copy, cleanup: cleanupCopy } = tempDir();
    try {
      const log = await openLog(dir, COMPACT);
      for (let i = 0; i < 200; i++)
        await log.append(encodeRecordBatch({ records: [kv(`k${i % 7}`, `v${i}`)] }));
      const before = readAll(log);
      await log.close();
      const secondBase = Number(
        readdirSync(dir)
          .filter((f) => f.endsWith('.log'))
          .sort()[1]!
          .slice(0, 20),
      );
      cpSync(dir, copy, { recursive: true });
      const compacted = await openLog(copy, COMPACT);
      await compacted.compact();
      const firstGroup = readAll(compacted).filter((r) => r.offset < secondBase);
      await compacted.close();
      // Crash right after the commit point of the first group: its swap file exists and so do
      // the segments it replaces.
      copyFileSync(join(copy, '00000000000000000000.log'), join(dir, '00000000000000000000.log.swap'));
      const recovered = await openLog(dir, COMPACT);
      assert.ok(!readdirSync(dir).some((f) => f.endsWith('.swap')), 'swap completed');
      const got = readAll(recovered);
      assert.deepEqual(got, [...firstGroup, ...before.filter((r) => r.offset >= secondBase)]);
      assert.deepEqual(finalMap(got), finalMap(before));
      await recovered.close();
    } finally {
      cleanup();
      cleanupCopy();
    }
  });
});
