/**
 * The shared transport suite on the embedded transport, over a broker started here (port 0,
 * temporary directory, short group timeouts); then what only the embedded transport can show:
 * the producer's batches as the log stores them (producer id, epoch, sequences), a member
 * removed by the coordinator (UNKNOWN_MEMBER_ID → onLost → rejoin), a zombie's offsets refused
 * by generation (KIP-447 → PRODUCER_FENCED), and calls after close.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSluiceError } from '../../src/common/index.js';
import { readBatchHeader } from '../../src/protocol/index.js';
import type { EmbeddedGroupConsumer } from '../../src/transport/embedded/consumer.js';
import { createEmbeddedTransport, type TopicPartition, type Transport } from '../../src/transport/index.js';
import { startTestBroker, type TestBroker } from './broker-fixture.js';
import { transportSuite } from './suite.js';

transportSuite('embedded', async () => {
  const b = await startTestBroker();
  const transport = createEmbeddedTransport(b.broker);
  return {
    transport,
    close: async () => {
      await transport.close();
      await b.close();
    },
  };
});

describe('embedded transport specifics', { timeout: 120_000 }, () => {
  let b: TestBroker;
  let t: Transport;
  before(async () => {
    b = await startTestBroker();
    t = createEmbeddedTransport(b.broker);
  });
  after(async () => {
    await t?.close();
    await b?.close();
  });

  it('an idempotent producer writes batches with its producer id and consecutive sequences', async () => {
    await t.admin.ensureTopics([{ topic: 'idem-headers', partitions: 1 }]);
    const producer = t.producer({ lingerMs: 0 });
    await producer.connect();
    for (const n of [3, 1, 4]) {
      await producer.send(
        'idem-headers',
        0,
        Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${n}.${i}`) })),
      );
    }
    await producer.close();
    const [r] = await b.broker.cluster.fetch(
      [{ topic: 'idem-headers', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
      { maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
    );
    const headers = [];
    for (let pos = 0; pos < (r?.records.length ?? 0); ) {
      const h = readBatchHeader(r?.records as Buffer, pos);
      headers.push(h);
      pos += h.size;
    }
    assert.deepEqual(
      headers.map((h) => [h.baseOffset, h.recordCount, h.baseSequence, h.producerEpoch, h.isTransactional]),
      [
        [0, 3, 0, 0, false],
        [3, 1, 3, 0, false],
        [4, 4, 4, 0, false],
      ],
    );
    const ids = new Set(headers.map((h) => h.producerId));
    assert.equal(ids.size, 1);
    assert.ok(([...ids][0] as number) >= 0);
  });

  it('one send larger than a batch may hold is split into batches of at most 1 MiB, in order', async () => {
    await t.admin.ensureTopics([{ topic: 'big-send', partitions: 1 }]);
    const producer = t.producer({ lingerMs: 0 });
    await producer.connect();
    const value = Buffer.alloc(1024, 7);
    const n = 3000; // ~3 MiB in one call: one batch would exceed max.message.bytes (1 MiB)
    await producer.send(
      'big-send',
      0,
      Array.from({ length: n }, (_, i) => ({ key: Buffer.from(String(i)), value })),
    );
    await producer.close();
    const sizes: number[] = [];
    let offset = 0;
    let next = 0;
    while (offset < n) {
      const [r] = await b.broker.cluster.fetch(
        [{ topic: 'big-send', partition: 0, fetchOffset: offset, partitionMaxBytes: 4 << 20 }],
        { maxWaitMs: 0, minBytes: 1, maxBytes: 4 << 20, isolationLevel: 0 },
      );
      const buf = r?.records as Buffer;
      assert.ok(buf.length > 0, `records at offset ${offset}`);
      for (let pos = 0; pos < buf.length; ) {
        const h = readBatchHeader(buf, pos);
        assert.equal(h.baseOffset, next, 'batches follow each other');
        assert.equal(h.baseSequence, next, 'sequences follow the records');
        sizes.push(h.size);
        next = h.lastOffset + 1;
        pos += h.size;
      }
      offset = next;
    }
    assert.equal(next, n);
    assert.ok(sizes.length >= 3, `split into ${sizes.length} batches`);
    for (const size of sizes) assert.ok(size <= 1_048_576 + 1024, `batch of ${size} bytes`);
  });

  it('a member the coordinator dropped reports its partitions lost and rejoins', async () => {
    await t.admin.ensureTopics([{ topic: 'kicked', partitions: 2 }]);
    const events: string[] = [];
    const names = (ps: readonly TopicPartition[]) => ps.map((p) => `${p.topic}-${p.partition}`).join(',');
    const consumer = t.groupConsumer({
      groupId: 'kicked',
      topics: ['kicked'],
      sessionTimeoutMs: 3000,
      listener: {
        onAssigned: (ps) => {
          events.push(`assigned ${names(ps)}`);
        },
        onRevoked: (ps) => {
          events.push(`revoked ${names(ps)}`);
        },
        onLost: (ps) => {
          events.push(`lost ${names(ps)}`);
        },
      },
    });
    try {
      await consumer.start();
      const deadline = Date.now() + 20_000;
      while (consumer.assignment().length < 2 && Date.now() < deadline) await consumer.poll(10, 100);
      assert.deepEqual(events, ['assigned kicked-0,kicked-1']);
      const { memberId } = (consumer as EmbeddedGroupConsumer).groupMetadata();
      assert.deepEqual(b.broker.coordinator.leave('kicked', [{ memberId, groupInstanceId: null }]), [0]);
      while (events.length < 3 && Date.now() < deadline) await consumer.poll(10, 100);
      assert.deepEqual(events, [
        'assigned kicked-0,kicked-1',
        'lost kicked-0,kicked-1',
        'assigned kicked-0,kicked-1',
      ]);
      assert.notEqual((consumer as EmbeddedGroupConsumer).groupMetadata().memberId, memberId);
    } finally {
      await consumer.close();
    }
    assert.equal(events.at(-1), 'revoked kicked-0,kicked-1', 'close revokes what is owned');
  });

  it("a zombie's offsets from an old generation are refused: PRODUCER_FENCED, then abort works", async () => {
    await t.admin.ensureTopics([{ topic: 'zombie', partitions: 1 }]);
    const consumer = t.groupConsumer({
      groupId: 'zombie',
      topics: ['zombie'],
      sessionTimeoutMs: 3000,
      listener: { onAssigned: () => {}, onRevoked: () => {}, onLost: () => {} },
    }) as EmbeddedGroupConsumer;
    const producer = t.producer({ transactionalId: 'zombie-txn' });
    try {
      await consumer.start();
      const deadline = Date.now() + 20_000;
      while (consumer.assignment().length < 1 && Date.now() < deadline) await consumer.poll(10, 100);
      const live = consumer.groupMetadata();
      await producer.connect();
      producer.beginTransaction();
      const stale = Object.assign(Object.create(Object.getPrototypeOf(consumer)), consumer, {
        groupMetadata: () => ({ ...live, generationId: live.generationId - 1 }),
      });
      await assert.rejects(
        producer.sendOffsets(stale, [{ topic: 'zombie', partition: 0, offset: 1 }]),
        (e) => isSluiceError(e, 'PRODUCER_FENCED') && /ILLEGAL_GENERATION/.test(e.message),
      );
      await assert.rejects(producer.commitTransaction(), (e) => isSluiceError(e, 'PRODUCER_FENCED'));
      await producer.abortTransaction();
      assert.deepEqual(await t.admin.committedOffsets('zombie', [{ topic: 'zombie', partition: 0 }]), [
        { topic: 'zombie', partition: 0, offset: null },
      ]);
    } finally {
      await producer.close();
      await consumer.close();
    }
  });

  it('static membership: a second instance with the same group.instance.id fences the first', async () => {
    await t.admin.ensureTopics([{ topic: 'static', partitions: 2 }]);
    const listener = { onAssigned: () => {}, onRevoked: () => {}, onLost: () => {} };
    const options = {
      groupId: 'static',
      topics: ['static'],
      sessionTimeoutMs: 3000,
      groupInstanceId: 'inst-1',
    };
    const first = t.groupConsumer({ ...options, listener });
    const second = t.groupConsumer({ ...options, listener });
    try {
      await first.start();
      const deadline = Date.now() + 20_000;
      while (first.assignment().length < 2 && Date.now() < deadline) await first.poll(10, 100);
      assert.equal(first.assignment().length, 2);
      await second.start();
      while (second.assignment().length < 2 && Date.now() < deadline) await second.poll(10, 100);
      assert.equal(second.assignment().length, 2, 'the new instance takes over the assignment');
      let fenced: unknown;
      while (fenced === undefined && Date.now() < deadline) {
        await first.poll(10, 100).catch((e) => {
          fenced = e;
        });
      }
      assert.ok(isSluiceError(fenced, 'PRODUCER_FENCED'), String(fenced));
      assert.match((fenced as Error).message, /FENCED_INSTANCE_ID/);
    } finally {
      await first.close().catch(() => undefined);
      await second.close();
    }
  });

  it('clients refuse calls after close (CLOSED)', async () => {
    const reader = t.partitionReader();
    await reader.close();
    await assert.rejects(reader.poll(1, 0), (e) => isSluiceError(e, 'CLOSED'));
    const producer = t.producer();
    await producer.connect();
    await producer.close();
    await assert.rejects(producer.flush(), (e) => isSluiceError(e, 'CLOSED'));
    const other = createEmbeddedTransport(b.broker);
    await other.close();
    assert.throws(
      () => other.producer(),
      (e) => isSluiceError(e, 'CLOSED'),
    );
  });
});
