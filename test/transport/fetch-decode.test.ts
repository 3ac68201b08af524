/**
 * The embedded fetcher's decoding of fetched bytes, as a Kafka client reads them: control
 * batches skipped, aborted transactions filtered under read_committed (and only those of the
 * aborted producer, only up to its ABORT marker), records before the fetch offset skipped,
 * a partial batch at the end left for the next fetch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRecordBatch, encodeTxnMarkerBatch, setBaseOffset } from '../../src/protocol/index.js';
import { decodeFetched } from '../../src/transport/embedded/fetcher.js';

const tp = { topic: 't', partition: 0 };

function data(baseOffset: number, producerId: number, transactional: boolean, values: string[]): Buffer {
  return encodeRecordBatch({
    baseOffset,
    producerId,
    producerEpoch: producerId < 0 ? -1 : 0,
    baseSequence: producerId < 0 ? -1 : 0,
    isTransactional: transactional,
    records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1000 + i })),
  });
}

function marker(offset: number, producerId: number, commit: boolean): Buffer {
  const b = encodeTxnMarkerBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0 });
  setBaseOffset(b, 0, offset);
  return b;
}

// 0-1 plain, 2-3 producer 7 (aborted), 4 producer 8 (committed), 5 ABORT(7), 6 COMMIT(8),
// 7-8 producer 7 again (committed), 9 COMMIT(7).
const log = Buffer.concat([
  data(0, -1, false, ['a0', 'a1']),
  data(2, 7, true, ['t7-0', 't7-1']),
  data(4, 8, true, ['t8-0']),
  marker(5, 7, false),
  marker(6, 8, true),
  data(7, 7, true, ['r7-0', 'r7-1']),
  marker(9, 7, true),
]);
const aborted = [{ producerId: 7, firstOffset: 2 }];
const values = (r: { records: { value: Buffer | null }[] }) => r.records.map((x) => x.value?.toString());

describe('decodeFetched', () => {
  it('read_committed drops the aborted transaction and every control batch', () => {
    const r = decodeFetched(tp, log, 0, aborted, true);
    assert.deepEqual(values(r), ['a0', 'a1', 't8-0', 'r7-0', 'r7-1']);
    assert.deepEqual(
      r.records.map((x) => x.offset),
      [0, 1, 4, 7, 8],
    );
    assert.equal(r.next, 10);
  });

  it('read_uncommitted returns every data record and no control record', () => {
    const r = decodeFetched(tp, log, 0, null, false);
    assert.deepEqual(values(r), ['a0', 'a1', 't7-0', 't7-1', 't8-0', 'r7-0', 'r7-1']);
    assert.equal(r.next, 10);
  });

  it('skips records before the fetch offset, inside a batch too', () => {
    assert.deepEqual(values(decodeFetched(tp, log, 1, aborted, true)), ['a1', 't8-0', 'r7-0', 'r7-1']);
    const fromMarker = decodeFetched(tp, log, 8, aborted, true);
    assert.deepEqual(values(fromMarker), ['r7-1']);
    assert.equal(fromMarker.next, 10);
  });

  it('leaves a partial batch at the end for the next fetch', () => {
    const cut = log.subarray(0, log.length - 10);
    const r = decodeFetched(tp, cut, 0, aborted, true);
    assert.deepEqual(values(r), ['a0', 'a1', 't8-0', 'r7-0', 'r7-1']);
    assert.equal(r.next, 9, 'the cut COMMIT marker at offset 9 is fetched again');
  });

  it('keeps timestamps and offsets of the batch', () => {
    const r = decodeFetched(tp, log, 0, null, false);
    assert.deepEqual(
      r.records.slice(0, 2).map((x) => [x.topic, x.partition, x.offset, x.timestamp]),
      [
        ['t', 0, 0, 1000],
        ['t', 0, 1, 1001],
      ],
    );
  });
});
