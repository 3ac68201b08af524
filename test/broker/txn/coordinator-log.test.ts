/**
 * The transaction coordinator's persistence edge over a real LogManager in a temp dir:
 * `__transaction_state` records (Kafka's key/value layout, v0 and v1 round trips as a
 * property), reload after a clean close and after an unclean stop (no close: what kill -9
 * leaves), completion of PrepareCommit/PrepareAbort and abort of Ongoing on load (markers in
 * the partitions, LSO released), timeouts with a manual clock, a failing state log, and the
 * log-backed offset store deciding transactional offsets by marker, also on replay.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { LogOffsetStore } from '../../../src/broker/log-offset-store.js';
import {
  decodeTxnKey,
  decodeTxnValue,
  encodeTxnKey,
  encodeTxnValue,
  logMarkerWriter,
  openTxnStateLog,
  TransactionCoordinator,
  TxnError,
  type TxnMetadata,
  TxnState,
  type TxnStateLog,
} from '../../../src/broker/txn/index.js';
import { LogManager } from '../../../src/log/index.js';
import { encodeRecordBatch } from '../../../src/protocol/index.js';

const metaArb: fc.Arbitrary<TxnMetadata> = fc
  .record({
    transactionalId: fc.string({ minLength: 1, maxLength: 20 }),
    producerId: fc.integer({ min: 0, max: 2 ** 52 }),
    previousProducerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 40 })),
    producerEpoch: fc.integer({ min: 0, max: 32766 }),
    timeoutMs: fc.integer({ min: 1, max: 900_000 }),
    state: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7) as fc.Arbitrary<TxnState>,
    partitions: fc.uniqueArray(
      fc.record({ topic: fc.constantFrom('a', 'b', 'orders'), partition: fc.integer({ min: 0, max: 9 }) }),
      { selector: (p) => `${p.topic}:${p.partition}`, maxLength: 8 },
    ),
    txnStartTimestamp: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 45 })),
    lastUpdateTimestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  })
  .map((m) => ({
    ...m,
    lastProducerEpoch: -1,
    // Plain objects: fast-check may build records without a prototype.
    partitions: m.partitions
      .map((p) => ({ topic: p.topic, partition: p.partition }))
      .sort((x, y) => (x.topic === y.topic ? x.partition - y.partition : x.topic < y.topic ? -1 : 1)),
  }));

describe('__transaction_state codec', () => {
  it('key and value round-trip (v1 with tagged previous producer id; v0 without it)', () => {
    fc.assert(
      fc.property(metaArb, (m) => {
        assert.equal(decodeTxnKey(encodeTxnKey(m.transactionalId)), m.transactionalId);
        assert.deepEqual(decodeTxnValue(m.transactionalId, encodeTxnValue(m, 1)), m);
        assert.deepEqual(decodeTxnValue(m.transactionalId, encodeTxnValue(m, 0)), {
          ...m,
          previousProducerId: -1,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('lays out v0 bytes as Kafka does', () => {
    const m: TxnMetadata = {
      transactionalId: 't',
      producerId: 5,
      previousProducerId: -1,
      lastProducerEpoch: -1,
      producerEpoch: 2,
      timeoutMs: 60_000,
      state: TxnState.Ongoing,
      partitions: [{ topic: 'x', partition: 3 }],
      txnStartTimestamp: 7,
      lastUpdateTimestamp: 8,
    };
    const hex = encodeTxnValue(m, 0).toString('hex');
    const expected = [
      '0000', // version 0
      '0000000000000005', // producer id
      '0002', // epoch
      '0000ea60', // timeout 60000
      '01', // Ongoing
      '00000001', // one topic
      '00017', // "x" length 1 then 'x' (0x78)
    ].join('');
    assert.ok(hex.startsWith(expected.replace('00017', '000178')));
    assert.ok(hex.endsWith(['00000001', '00000003', '0000000000000008', '0000000000000007'].join('')));
    assert.equal(encodeTxnKey('t').toString('hex'), '0000000174');
  });

  it('rejects unknown versions and states', () => {
    assert.throws(() => decodeTxnKey(Buffer.from('00010001', 'hex')));
    const v = encodeTxnValue({
      transactionalId: 't',
      producerId: 1,
      previousProducerId: -1,
      lastProducerEpoch: -1,
      producerEpoch: 0,
      timeoutMs: 1,
      state: TxnState.Empty,
      partitions: [],
      txnStartTimestamp: -1,
      lastUpdateTimestamp: 0,
    });
    v.writeInt8(9, 2 + 8 + 2 + 4);
    assert.throws(() => decodeTxnValue('t', v));
  });
});

describe('transaction coordinator over the log', () => {
  let dir = '';
  let logs: LogManager;
  let now = 1_000;
  let nextPid = 100;

  async function coordinator(l: LogManager, log?: TxnStateLog) {
    return TransactionCoordinator.load({
      log: log ?? (await openTxnStateLog(l)),
      markers: logMarkerWriter(l),
      allocateProducerId: () => nextPid++,
      now: () => now,
    });
  }

  /** One transactional record batch from a producer into a partition. */
  async function produce(
    l: LogManager,
    topic: string,
    partition: number,
    pid: number,
    epoch: number,
    seq: number,
  ) {
    await l.getLog(topic, partition).append(
      encodeRecordBatch({
        isTransactional: true,
        producerId: pid,
        producerEpoch: epoch,
        baseSequence: seq,
        records: [{ key: Buffer.from('k'), value: Buffer.from(`v${seq}`) }],
      }),
    );
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-txn-coord-'));
    logs = await LogManager.open({ dataDir: dir });
    await logs.createTopic('t', 2);
    now = 1_000;
  });

  afterEach(async () => {
    await logs.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('commit writes markers to every partition and releases the last stable offset', async () => {
    const c = await coordinator(logs);
    const p = await c.initProducerId('tx', 60_000);
    assert.equal(p.errorCode, 0);
    assert.equal(
      (
        await c.addPartitions('tx', p.producerId, p.producerEpoch, [
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
        ])
      ).errorCode,
      0,
    );
    await produce(logs, 't', 0, p.producerId, p.producerEpoch, 0);
    await produce(logs, 't', 1, p.producerId, p.producerEpoch, 0);
    assert.equal(logs.getLog('t', 0).lastStableOffset, 0, 'open transaction holds the LSO');
    assert.equal((await c.endTxn('tx', p.producerId, p.producerEpoch, true)).errorCode, 0);
    await c.idle();
    for (const part of [0, 1]) {
      const log = logs.getLog('t', part);
      assert.equal(log.logEndOffset, 2, 'data + COMMIT marker');
      assert.equal(log.lastStableOffset, 2);
      assert.deepEqual(log.abortedTransactions(0, 2), []);
    }
    assert.equal(c.describe('tx')?.state, TxnState.CompleteCommit);
    await c.close();
  });

  it('reload after a clean close keeps ids and epochs; re-init bumps', async () => {
    const c = await coordinator(logs);
    const p = await c.initProducerId('tx', 60_000);
    await c.close();
    await logs.close();
    logs = await LogManager.open({ dataDir: dir });
    const c2 = await coordinator(logs);
    assert.equal(c2.describe('tx')?.producerId, p.producerId);
    const q = await c2.initProducerId('tx', 60_000);
    assert.equal(q.producerId, p.producerId);
    assert.equal(q.producerEpoch, p.producerEpoch + 1);
    await c2.close();
  });

  it('after an unclean stop, Ongoing is aborted and PrepareCommit completed on load', async () => {
    const c = await coordinator(logs);
    const a = await c.initProducerId('ongoing', 60_000);
    const b = await c.initProducerId('committing', 60_000);
    await c.addPartitions('ongoing', a.producerId, a.producerEpoch, [{ topic: 't', partition: 0 }]);
    await c.addPartitions('committing', b.producerId, b.producerEpoch, [{ topic: 't', partition: 1 }]);
    await produce(logs, 't', 0, a.producerId, a.producerEpoch, 0);
    await produce(logs, 't', 1, b.producerId, b.producerEpoch, 0);
    // PrepareCommit reaches the state log, then the process dies before any marker: simulate
    // by appending the PrepareCommit record ourselves and never running the coordinator again.
    const prepared = { ...(c.describe('committing') as TxnMetadata), state: TxnState.PrepareCommit };
    const stateLog = await openTxnStateLog(logs);
    await stateLog.append([{ key: encodeTxnKey('committing'), value: encodeTxnValue(prepared) }]);
    // No close of the coordinator nor of the logs: reopen the directory as after kill -9.
    logs = await LogManager.open({ dataDir: dir });
    const c2 = await coordinator(logs);
    await c2.idle();
    assert.equal(c2.describe('ongoing')?.state, TxnState.CompleteAbort);
    assert.equal(c2.describe('ongoing')?.producerEpoch, a.producerEpoch + 1, 'the old producer is fenced');
    assert.equal(c2.describe('committing')?.state, TxnState.CompleteCommit);
    const l0 = logs.getLog('t', 0);
    const l1 = logs.getLog('t', 1);
    assert.equal(l0.lastStableOffset, l0.logEndOffset);
    assert.equal(l1.lastStableOffset, l1.logEndOffset);
    assert.equal(l0.abortedTransactions(0, l0.logEndOffset).length, 1, 'the open one was aborted');
    assert.equal(l1.abortedTransactions(0, l1.logEndOffset).length, 0, 'the prepared one was committed');
    // The fenced producer's late write is refused by the partition.
    await assert.rejects(produce(logs, 't', 0, a.producerId, a.producerEpoch, 1), /epoch/);
    await c2.close();
  });

  it('a transaction older than its timeout is aborted by tick (manual clock)', async () => {
    const c = await coordinator(logs);
    const p = await c.initProducerId('slow', 5_000);
    await c.addPartitions('slow', p.producerId, p.producerEpoch, [{ topic: 't', partition: 0 }]);
    await produce(logs, 't', 0, p.producerId, p.producerEpoch, 0);
    now += 5_000;
    await c.tick();
    assert.equal(c.describe('slow')?.state, TxnState.Ongoing);
    now += 1;
    await c.tick();
    await c.idle();
    assert.equal(c.describe('slow')?.state, TxnState.CompleteAbort);
    assert.equal(logs.getLog('t', 0).lastStableOffset, logs.getLog('t', 0).logEndOffset);
    assert.equal(
      (await c.endTxn('slow', p.producerId, p.producerEpoch, true)).errorCode,
      TxnError.PRODUCER_FENCED,
    );
    await c.close();
  });

  it('a failing state log answers COORDINATOR_NOT_AVAILABLE and changes nothing', async () => {
    const real = await openTxnStateLog(logs);
    let fail = false;
    const flaky: TxnStateLog = {
      append: (r) => (fail ? Promise.reject(new Error('disk full')) : real.append(r)),
      readAll: () => real.readAll(),
    };
    const c = await coordinator(logs, flaky);
    const p = await c.initProducerId('f', 60_000);
    fail = true;
    const r = await c.addPartitions('f', p.producerId, p.producerEpoch, [{ topic: 't', partition: 0 }]);
    assert.equal(r.errorCode, 15);
    assert.equal(c.describe('f')?.state, TxnState.Empty);
    fail = false;
    assert.equal(
      (await c.addPartitions('f', p.producerId, p.producerEpoch, [{ topic: 't', partition: 0 }])).errorCode,
      0,
    );
    await c.close();
  });

  it('transactional offsets in __consumer_offsets are decided by the marker, also on replay', async () => {
    const store = await LogOffsetStore.open(logs);
    const value = { offset: 42, leaderEpoch: -1, metadata: null, commitTimestamp: 1 };
    await store.commitTransactional(7, 0, 'g', [{ topic: 't', partition: 0, value }]);
    await store.commitTransactional(8, 0, 'g', [{ topic: 't', partition: 1, value }]);
    assert.equal(store.fetch('g', 't', 0), undefined, 'pending offsets are invisible');
    assert.equal(store.hasPending('g', 't', 0), true);
    const offsetsLog = logs.getLog('__consumer_offsets', store.partitionFor('g'));
    await offsetsLog.appendTxnMarker(7, 0, true, 0);
    store.onMarker(7, true);
    assert.equal(store.fetch('g', 't', 0)?.offset, 42);
    // Producer 8's transaction is still open at the "crash": replay keeps it pending, then an
    // abort marker drops it.
    logs = await LogManager.open({ dataDir: dir });
    const again = await LogOffsetStore.open(logs);
    assert.equal(again.fetch('g', 't', 0)?.offset, 42, 'committed offsets replayed');
    assert.equal(again.fetch('g', 't', 1), undefined);
    assert.equal(again.hasPending('g', 't', 1), true);
    again.onMarker(8, false);
    assert.equal(again.fetch('g', 't', 1), undefined);
    assert.equal(again.hasPending('g', 't', 1), false);
  });
});
