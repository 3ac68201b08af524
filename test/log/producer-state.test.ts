/** Producer state through the log: idempotent duplicates, sequence/epoch errors, snapshots and rebuild, transactions. */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/common/index.js';
import { encodeRecordBatch } from '../../src/protocol/index.js';
import { kv, openLog, readAll, tempDir } from './helpers.js';

function idem(producerId: number, epoch: number, seq: number, n = 1, transactional = false): Buffer {
  return encodeRecordBatch({
    producerId,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: transactional,
    records: Array.from({ length: n }, (_, i) => kv(`p${producerId}`, `e${epoch}s${seq + i}`)),
  });
}

describe('producer state (idempotence and transactions)', () => {
  it('answers a retried batch with its original offsets and writes nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      const first = await log.append(idem(7, 0, 0, 3));
      await log.append(idem(7, 0, 3, 2));
      const retry = await log.append(idem(7, 0, 0, 3));
      assert.deepEqual(
        [retry.baseOffset, retry.lastOffset, retry.duplicate],
        [first.baseOffset, first.lastOffset, true],
      );
      assert.equal(log.logEndOffset, 5);
      // Only the last five batches are remembered.
      for (let s = 5; s < 10; s++) await log.append(idem(7, 0, s));
      await assert.rejects(log.append(idem(7, 0, 0, 3)), (e: unknown) =>
        isSluiceError(e, 'OUT_OF_ORDER_SEQUENCE'),
      );
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('rejects sequence gaps, stale epochs and a new epoch not starting at 0', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      await log.append(idem(1, 3, 0, 2));
      await assert.rejects(log.append(idem(1, 3, 5)), (e: unknown) => {
        assert.ok(isSluiceError(e, 'OUT_OF_ORDER_SEQUENCE'), String(e));
        assert.equal(e.kafkaErrorCode, 45);
        return true;
      });
      await assert.rejects(log.append(idem(1, 2, 2)), (e: unknown) =>
        isSluiceError(e, 'INVALID_PRODUCER_EPOCH'),
      );
      await assert.rejects(log.append(idem(1, 4, 1)), (e: unknown) =>
        isSluiceError(e, 'OUT_OF_ORDER_SEQUENCE'),
      );
      const bumped = await log.append(idem(1, 4, 0));
      assert.equal(bumped.baseOffset, 2);
      // Unknown producers are accepted at any sequence; sequences wrap at int32 max.
      await log.append(idem(2, 0, 0x7fff_ffff));
      await log.append(idem(2, 0, 0));
      assert.equal(log.logEndOffset, 5);
      await log.close();
    } finally {
      cleanup();
    }
  });

  it('keeps producer state across a clean restart (snapshot) and an unclean one (rebuilt from the log)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir, { 'segment.bytes': 600 });
      for (let s = 0; s < 12; s++) await log.append(idem(9, 1, s));
      await log.close();
      const clean = await openLog(dir, { 'segment.bytes': 600 });
      assert.equal((await clean.append(idem(9, 1, 11))).duplicate, true);
      await assert.rejects(clean.append(idem(9, 1, 13)), (e: unknown) =>
        isSluiceError(e, 'OUT_OF_ORDER_SEQUENCE'),
      );
      await clean.append(idem(9, 1, 12));
      // Crash (no close) and lose every snapshot: state must come back from the batches.
      for (const f of readdirSync(dir)) if (f.endsWith('.snapshot')) rmSync(join(dir, f));
      const rebuilt = await openLog(dir, { 'segment.bytes': 600 });
      assert.equal(rebuilt.openReport.cleanShutdown, false);
      const dup = await rebuilt.append(idem(9, 1, 12));
      assert.deepEqual([dup.duplicate, dup.baseOffset], [true, 12]);
      await assert.rejects(rebuilt.append(idem(9, 0, 13)), (e: unknown) =>
        isSluiceError(e, 'INVALID_PRODUCER_EPOCH'),
      );
      await rebuilt.close();
    } finally {
      cleanup();
    }
  });

  it('tracks open transactions (last stable offset) and aborted ones, across restarts', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = await openLog(dir);
      await log.append(idem(1, 0, 0)); // offset 0, plain idempotent
      await log.append(idem(5, 0, 0, 2, true)); // 1-2, txn of producer 5
      assert.equal(log.lastStableOffset, 1);
      assert.equal(log.highWatermark, 3);
      assert.equal(
        log.read(0, { maxBytes: 1 << 20, maxOffset: log.lastStableOffset }).records.length > 0,
        true,
      );
      await assert.rejects(log.append(idem(5, 0, 2)), (e: unknown) => isSluiceError(e, 'INVALID_TXN_STATE'));
      await log.append(idem(6, 0, 0, 1, true)); // 3, txn of producer 6
      const abort = await log.appendTxnMarker(5, 0, false, 2); // 4
      assert.equal(abort.baseOffset, 4);
      assert.equal(log.lastStableOffset, 3);
      await log.appendTxnMarker(6, 0, true, 2); // 5
      assert.equal(log.lastStableOffset, 6);
      assert.deepEqual(log.abortedTransactions(0, 10), [{ producerId: 5, firstOffset: 1, lastOffset: 4 }]);
      assert.deepEqual(log.abortedTransactions(5, 10), []);
      await assert.rejects(
        log.appendTxnMarker(5, -1, true, 1), // a zombie coordinator call with an old epoch
        (e: unknown) => isSluiceError(e, 'INVALID_PRODUCER_EPOCH'),
      );
      await log.close();
      for (const clean of [true, false]) {
        const again = await openLog(dir);
        assert.deepEqual(again.abortedTransactions(0, 10)[0], {
          producerId: 5,
          firstOffset: 1,
          lastOffset: 4,
        });
        assert.equal(again.lastStableOffset, again.highWatermark);
        if (clean) await again.close();
        else for (const f of readdirSync(dir)) if (f.endsWith('.snapshot')) rmSync(join(dir, f));
      }
      assert.ok(readAll(await openLog(dir)).length >= 6, 'markers and data are all stored');
    } finally {
      cleanup();
    }
  });
});
