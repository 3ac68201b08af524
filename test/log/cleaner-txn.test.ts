/**
 * Compaction with transactions: aborted data is removed; a marker stays while its
 * transaction still has a batch in the log or while it is its producer's last batch; a marker
 * whose transaction is wholly compacted away gets a delete horizon and goes in a run past it.
 * read_committed reads stay consistent throughout (no aborted record, LSO = log end).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PartitionLog } from '../../src/log/index.js';
import { encodeRecordBatch, readBatchHeader, validateBatches } from '../../src/protocol/index.js';
import { kv, openLog, readAll, tempDir } from './helpers.js';

const COMPACT = {
  'cleanup.policy': 'compact' as const,
  'segment.bytes': 300,
  'min.cleanable.dirty.ratio': 0,
  'delete.retention.ms': 1000,
};

function txnBatch(pid: number, seq: number, key: string, value: string, now: number): Buffer {
  return encodeRecordBatch({
    isTransactional: true,
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
    records: [kv(key, value, now)],
  });
}

/** Control batches in the log: [producerId, offset, hasDeleteHorizon]. */
function markers(log: PartitionLog): [number, number, boolean][] {
  const out: [number, number, boolean][] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { records } = log.read(next, { maxBytes: 1 << 20 });
    if (records.length === 0) break;
    let pos = 0;
    for (const h of validateBatches(records)) {
      const hh = readBatchHeader(records, pos);
      if (hh.isControl) out.push([hh.producerId, hh.baseOffset, hh.hasDeleteHorizon]);
      pos += h.size;
      next = h.lastOffset + 1;
    }
  }
  return out;
}

describe('compaction with transactions', () => {
  it('drops aborted data, keeps needed markers, expires markers of vanished transactions', async () => {
    const { dir, cleanup } = tempDir('sluice-compact-txn-');
    let now = 1_000_000;
    try {
      const log = await openLog(dir, COMPACT, () => now);
      // Producer 1: committed k=a1, then (later) overwritten by a plain write.
      await log.append(txnBatch(1, 0, 'k', 'a1', now));
      await log.appendTxnMarker(1, 0, true, 0);
      // Producer 2: aborted k=bad.
      await log.append(txnBatch(2, 0, 'k', 'bad', now));
      await log.appendTxnMarker(2, 0, false, 0);
      // Producer 3: committed j=c1, stays latest for j.
      await log.append(txnBatch(3, 0, 'j', 'c1', now));
      await log.appendTxnMarker(3, 0, true, 0);
      // Producer 1 again: a second committed transaction so its first marker is not its last batch.
      await log.append(txnBatch(1, 1, 'm', 'a2', now));
      await log.appendTxnMarker(1, 0, true, 0);
      // Plain overwrite of k, then filler so the segments above become inactive.
      await log.append(encodeRecordBatch({ records: [kv('k', 'final', now)] }));
      for (let i = 0; i < 12; i++) await log.append(encodeRecordBatch({ records: [kv(`f${i}`, 'x', now)] }));
      assert.equal(log.lastStableOffset, log.logEndOffset);
      const end = log.logEndOffset;

      await log.compact(now);
      let values = readAll(log).map((r) => `${r.key}=${r.value}`);
      assert.ok(!values.includes('k=bad'), 'aborted data is removed');
      assert.ok(!values.includes('k=a1'), 'overwritten data is removed');
      assert.ok(values.includes('j=c1') && values.includes('m=a2') && values.includes('k=final'));
      let m = markers(log);
      // Producer 1's first marker: its data is gone and it is not the producer's last batch ->
      // horizon set. Producer 2 (aborted) and producer 3: their markers are their last batches.
      const first1 = m.find(([pid]) => pid === 1);
      assert.ok(
        first1 !== undefined && first1[2] === true,
        'an emptied transaction marker gets a delete horizon',
      );
      assert.ok(
        m.some(([pid, , hz]) => pid === 3 && !hz),
        'a marker with remaining data stays as it was',
      );
      assert.equal(m.filter(([pid]) => pid === 1).length, 2);

      now += 1001; // past delete.retention.ms
      await log.compact(now);
      m = markers(log);
      assert.equal(m.filter(([pid]) => pid === 1).length, 1, 'the expired marker is gone');
      assert.ok(m.some(([pid]) => pid === 3));
      assert.ok(
        m.some(([pid]) => pid === 2),
        "the aborted producer's last batch stays (its state)",
      );
      values = readAll(log).map((r) => `${r.key}=${r.value}`);
      assert.ok(values.includes('j=c1') && values.includes('m=a2') && values.includes('k=final'));
      assert.equal(log.logEndOffset, end, 'offsets are unchanged');
      assert.equal(log.lastStableOffset, log.logEndOffset, 'no transaction looks open after cleaning');
      await log.close();
      // Rebuilding producer state from the cleaned log finds no open transaction either.
      const reopened = await openLog(dir, COMPACT, () => now);
      assert.equal(reopened.lastStableOffset, reopened.logEndOffset);
      await reopened.close();
    } finally {
      cleanup();
    }
  });
});
