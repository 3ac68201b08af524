/**
 * LogOffsetStore on the real log: committed offsets are records of `__consumer_offsets` in
 * Kafka's layout (key v1, value v3), replayed when the store is opened again after a clean
 * close and after a crash (no clean shutdown: the manager is abandoned, not closed); deletes
 * are tombstones; compaction keeps the latest value per key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeOffsetKey,
  decodeOffsetValue,
  encodeOffsetKey,
  encodeOffsetValue,
  LogOffsetStore,
  OFFSETS_TOPIC,
} from '../../src/broker/index.js';
import { LogManager } from '../../src/log/index.js';
import { decodeRecordBatch } from '../../src/protocol/index.js';
import { tempDir } from './support/temp-log.js';

const value = (offset: number, metadata = '') => ({
  offset,
  leaderEpoch: 3,
  metadata,
  commitTimestamp: 1_700_000_000_000 + offset,
});

describe('LogOffsetStore', () => {
  it('encodes keys and values in Kafka’s layout', () => {
    const k = encodeOffsetKey('g', 'orders', 7);
    // int16 version 1, string "g", string "orders", int32 7
    assert.deepEqual([...k], [0, 1, 0, 1, 0x67, 0, 6, ...Buffer.from('orders'), 0, 0, 0, 7]);
    assert.deepEqual(decodeOffsetKey(k), { group: 'g', topic: 'orders', partition: 7 });
    const v = encodeOffsetValue(value(42, 'm'));
    assert.equal(v.readInt16BE(0), 3);
    assert.equal(Number(v.readBigInt64BE(2)), 42);
    assert.deepEqual(decodeOffsetValue(v), { ...value(42, 'm') });
    // group metadata keys (v2) are not offset keys
    assert.equal(decodeOffsetKey(Buffer.from([0, 2, 0, 1, 0x67])), null);
  });

  it('replays commits and tombstones after a clean close and after a crash', async () => {
    const tmp = tempDir();
    try {
      let logs = await LogManager.open({ dataDir: tmp.dir });
      let store = await LogOffsetStore.open(logs);
      await store.commit('g1', [
        { topic: 't', partition: 0, value: value(10) },
        { topic: 't', partition: 1, value: value(20, 'meta') },
      ]);
      await store.commit('g2', [{ topic: 'u', partition: 0, value: value(5) }]);
      await store.commit('g1', [{ topic: 't', partition: 0, value: value(11) }]);
      await logs.close();

      logs = await LogManager.open({ dataDir: tmp.dir });
      store = await LogOffsetStore.open(logs);
      assert.equal(logs.getLog(OFFSETS_TOPIC, 0).openReport.cleanShutdown, true);
      assert.deepEqual(store.fetch('g1', 't', 0), value(11));
      assert.deepEqual(store.fetch('g1', 't', 1), value(20, 'meta'));
      assert.deepEqual(store.groups().sort(), ['g1', 'g2']);
      await store.delete('g1', 't', 1);
      await store.deleteGroup('g2');
      await store.commit('g3', [{ topic: 't', partition: 2, value: value(99) }]);
      // A crash: the acknowledged appends are fsync'd (flush.ms 0); no clean close.
      const crashed = logs;

      const copy = tempDir();
      try {
        const { cpSync, rmSync } = await import('node:fs');
        cpSync(tmp.dir, copy.dir, { recursive: true });
        rmSync(`${copy.dir}/.lock`, { force: true });
        const logs2 = await LogManager.open({ dataDir: copy.dir });
        const store2 = await LogOffsetStore.open(logs2);
        assert.equal(logs2.getLog(OFFSETS_TOPIC, 0).openReport.cleanShutdown, false);
        assert.deepEqual(store2.fetch('g1', 't', 0), value(11));
        assert.equal(store2.fetch('g1', 't', 1), undefined);
        assert.equal(store2.fetch('g2', 'u', 0), undefined);
        assert.deepEqual(store2.fetch('g3', 't', 2), value(99));
        assert.deepEqual(store2.groups().sort(), ['g1', 'g3']);
        // the records are really there, in order: 3 commits + tombstones + the last commit
        const read = logs2.getLog(OFFSETS_TOPIC, 0).read(0, { maxBytes: 1 << 20 });
        let pos = 0;
        const keys: string[] = [];
        while (pos < read.records.length) {
          const b = decodeRecordBatch(read.records, pos);
          for (const r of b.records) {
            const k = decodeOffsetKey(r.key as Buffer);
            keys.push(`${k?.group}/${k?.topic}/${k?.partition}${r.value === null ? ' x' : ''}`);
          }
          pos += 12 + b.header.batchLength;
        }
        assert.deepEqual(keys, ['g1/t/0', 'g1/t/1', 'g2/u/0', 'g1/t/0', 'g1/t/1 x', 'g2/u/0 x', 'g3/t/2']);
        await logs2.close();
      } finally {
        copy.remove();
      }
      await crashed.close();
    } finally {
      tmp.remove();
    }
  });

  it('compaction keeps the latest offset per key and the replay agrees', async () => {
    const tmp = tempDir();
    try {
      const logs = await LogManager.open({ dataDir: tmp.dir, defaults: { 'flush.ms': -1 } });
      const store = await LogOffsetStore.open(logs);
      logs.alterTopicConfig(OFFSETS_TOPIC, { 'segment.bytes': 1024, 'min.cleanable.dirty.ratio': 0.01 });
      for (let i = 0; i < 200; i++)
        await store.commit('g', [{ topic: 't', partition: i % 4, value: value(i) }]);
      const before = logs.getLog(OFFSETS_TOPIC, 0).size;
      await logs.runMaintenance();
      assert.ok(logs.getLog(OFFSETS_TOPIC, 0).size < before, 'compaction removed superseded commits');
      const replay = await LogOffsetStore.open(logs);
      for (let p = 0; p < 4; p++) assert.deepEqual(replay.fetch('g', 't', p), value(196 + p));
      await logs.close();
    } finally {
      tmp.remove();
    }
  });
});
