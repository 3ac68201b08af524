/** LogManager: topic lifecycle, persisted per-topic config, orphan cleanup, maintenance passes. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/common/index.js';
import { LogManager } from '../../src/log/index.js';
import { batch, kv, readAll, tempDir } from './helpers.js';

describe('LogManager', () => {
  it('creates topics with per-topic config, persists them and reopens every partition', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const m = await LogManager.open({ dataDir: dir, defaults: { 'flush.ms': -1 } });
      await m.createTopic('orders', 3, { 'cleanup.policy': 'compact', 'segment.bytes': 4096 });
      await m.createTopic('clicks', 1);
      assert.ok(existsSync(join(dir, 'orders-2')), 'partition directory orders-2 exists');
      await m.getLog('orders', 1).append(batch([kv('k', 'v')]));
      await assert.rejects(m.createTopic('orders', 1), (e: unknown) => isSluiceError(e, 'ALREADY_EXISTS'));
      await assert.rejects(m.createTopic('bad/name', 1), (e: unknown) =>
        isSluiceError(e, 'INVALID_ARGUMENT'),
      );
      await assert.rejects(m.createTopic('x', 1, { 'retention.ms': 'soon' } as never), (e: unknown) =>
        isSluiceError(e, 'INVALID_CONFIG'),
      );
      await assert.rejects(m.createTopic('y', 1, { 'no.such.key': 1 } as never), (e: unknown) =>
        isSluiceError(e, 'INVALID_CONFIG'),
      );
      assert.equal(m.hasTopic('x'), false);
      await m.close();
      assert.equal(existsSync(join(dir, '.lock')), false, 'close releases the lock');
      writeFileSync(join(dir, '.lock'), '1'); // pid 1 is alive: another owner
      await assert.rejects(LogManager.open({ dataDir: dir }), (e: unknown) =>
        isSluiceError(e, 'ALREADY_EXISTS'),
      );
      writeFileSync(join(dir, '.lock'), '999999999'); // a dead owner's lock is taken over

      const again = await LogManager.open({ dataDir: dir, defaults: { 'flush.ms': -1 } });
      assert.deepEqual(
        again.topics().map((t) => [t.name, t.partitions]),
        [
          ['clicks', 1],
          ['orders', 3],
        ],
      );
      const orders = again.describeTopic('orders');
      assert.equal(orders.config['cleanup.policy'], 'compact');
      assert.equal(orders.config['segment.bytes'], 4096);
      assert.deepEqual(orders.overrides, { 'cleanup.policy': 'compact', 'segment.bytes': 4096 });
      assert.equal(again.getLog('orders', 1).logEndOffset, 1);
      assert.equal(again.getLog('orders', 1).openReport.cleanShutdown, true);
      assert.throws(
        () => again.getLog('orders', 3),
        (e: unknown) => isSluiceError(e, 'NOT_FOUND'),
      );
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('alters config live and persistently, adds partitions, deletes topics', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const m = await LogManager.open({ dataDir: dir, defaults: { 'flush.ms': -1 } });
      await m.createTopic('t', 1, { 'retention.ms': 1000 });
      m.alterTopicConfig('t', { 'retention.ms': '5000', 'max.message.bytes': 100 });
      assert.equal(m.getLog('t', 0).config['retention.ms'], 5000);
      await assert.rejects(m.getLog('t', 0).append(batch([{ value: Buffer.alloc(200) }])), (e: unknown) =>
        isSluiceError(e, 'RECORD_TOO_LARGE'),
      );
      m.alterTopicConfig('t', { 'max.message.bytes': null });
      await m.getLog('t', 0).append(batch([{ value: Buffer.alloc(200) }]));
      await m.createPartitions('t', 3);
      await m.getLog('t', 2).append(batch([kv('a', 'b')]));
      await assert.rejects(m.createPartitions('t', 2), (e: unknown) => isSluiceError(e, 'INVALID_ARGUMENT'));
      await m.createTopic('gone', 2);
      await m.deleteTopic('gone');
      assert.equal(existsSync(join(dir, 'gone-0')), false);
      await m.close();
      const persisted = JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8'));
      assert.deepEqual(persisted.topics.t, { partitions: 3, config: { 'retention.ms': 5000 } });
      // A partition directory of an unknown topic (crash during create/delete) is removed on open.
      mkdirSync(join(dir, 'orphan-0'));
      const again = await LogManager.open({ dataDir: dir });
      assert.equal(existsSync(join(dir, 'orphan-0')), false);
      assert.equal(again.getLog('t', 0).config['retention.ms'], 5000);
      assert.equal(readAll(again.getLog('t', 2)).length, 1);
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('runs retention and compaction in maintenance passes', async () => {
    const { dir, cleanup } = tempDir();
    try {
      let now = 50_000_000;
      const m = await LogManager.open({ dataDir: dir, defaults: { 'flush.ms': -1 }, now: () => now });
      await m.createTopic('old', 1, { 'segment.bytes': 500, 'retention.ms': 1000 });
      await m.createTopic('kv', 1, {
        'segment.bytes': 500,
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': 0,
      });
      for (let i = 0; i < 20; i++) {
        await m.getLog('old', 0).append(batch([{ value: Buffer.alloc(100), timestamp: now }]));
        await m.getLog('kv', 0).append(batch([kv(`k${i % 2}`, `v${i}`, now)]));
      }
      const oldSegs = m.getLog('old', 0).numberOfSegments;
      const kvSize = m.getLog('kv', 0).size;
      now += 10_000;
      await m.runMaintenance();
      assert.equal(m.getLog('old', 0).numberOfSegments, 1, `retention left ${oldSegs} segments`);
      assert.ok(m.getLog('kv', 0).size < kvSize, 'compaction shrank the compacted topic');
      const values = readAll(m.getLog('kv', 0)).map((r) => r.value);
      assert.ok(values.includes('v18') && values.includes('v19'), 'latest values kept');
      await m.close();
    } finally {
      cleanup();
    }
  });
});
