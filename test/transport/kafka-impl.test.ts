/**
 * What the shared suite does not cover for the kafka transport (librdkafka over TCP to a Sluice
 * broker started here):
 *   - PartitionReader.position past transaction markers and an aborted tail equals
 *     listOffsets(latest), so a restore's "caught up" test ends;
 *   - a rebalance listener that throws fails the next poll() but does not stall the group;
 *   - a member dropped by the coordinator cannot add offsets to a transaction (KIP-447);
 *   - static membership: the older instance with the same group.instance.id is fenced;
 *   - null vs empty keys, values (kcat) and header values (kafkajs) on the wire;
 *   - misuse errors (seek of an unassigned partition, use after close).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSluiceError } from '../../src/common/index.js';
import {
  createKafkaTransport,
  type GroupConsumer,
  type IncomingRecord,
  type KafkaTransport,
} from '../../src/transport/index.js';
import { startTestBroker, type TestBroker } from './broker-fixture.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const WAIT_MS = 30_000;

function code(c: string) {
  return (err: unknown) => {
    assert.ok(isSluiceError(err), `expected a SluiceError, got ${String(err)}`);
    assert.equal(err.code, c, err.message);
    return true;
  };
}

async function until(what: string, step: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await step())) if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
}

async function kcat(args: string[]): Promise<string> {
  const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await once(child, 'close');
  clearTimeout(timer);
  return out;
}

describe('kafka transport: librdkafka specifics', { timeout: 180_000 }, () => {
  let b: TestBroker;
  let t: KafkaTransport;
  let bootstrap = '';
  let n = 0;
  const name = (p: string) => `${p}-${++n}-${process.pid}`;

  before(async () => {
    b = await startTestBroker();
    bootstrap = `127.0.0.1:${b.broker.address.port}`;
    t = createKafkaTransport({ bootstrap, clientId: 'impl-test', requestTimeoutMs: 20_000 });
  });

  after(async () => {
    await t?.close();
    await b?.close();
  });

  it('reader position passes commit markers and an aborted tail: it reaches listOffsets(latest)', async () => {
    const topic = name('markers');
    await t.admin.ensureTopics([{ topic, partitions: 1 }]);
    const p0 = { topic, partition: 0 };
    const producer = t.producer({ transactionalId: name('markers-tx') });
    try {
      await producer.connect();
      for (const commit of [true, true, false]) {
        producer.beginTransaction();
        await producer.send(topic, 0, [
          { key: null, value: Buffer.from(`${commit}-a`) },
          { key: null, value: Buffer.from(`${commit}-b`) },
        ]);
        if (commit) await producer.commitTransaction();
        else await producer.abortTransaction();
      }
    } finally {
      await producer.close();
    }
    // 3 transactions of 2 records + a marker each: the log ends at 9, the last batch a marker.
    const [latest] = await t.admin.listOffsets([p0], 'latest', 'read_committed');
    assert.equal(latest?.offset, 9);
    for (const isolationLevel of ['read_committed', 'read_uncommitted'] as const) {
      const reader = t.partitionReader({ isolationLevel });
      try {
        await reader.assign([{ ...p0, offset: 0 }]);
        const got: IncomingRecord[] = [];
        await until(`the ${isolationLevel} reader to reach 9`, async () => {
          got.push(...(await reader.poll(100, 100)));
          return reader.position(p0) >= 9;
        });
        assert.equal(reader.position(p0), 9, 'position is the end, past the last marker');
        const values = got.map((r) => r.value?.toString());
        if (isolationLevel === 'read_committed')
          assert.deepEqual(values, ['true-a', 'true-b', 'true-a', 'true-b']);
        else assert.deepEqual(values, ['true-a', 'true-b', 'true-a', 'true-b', 'false-a', 'false-b']);
        // The last record returned is at offset 7 (uncommitted) or 4: position is beyond it.
        assert.ok(reader.position(p0) > (got.at(-1)?.offset ?? -1) + 1);
      } finally {
        await reader.close();
      }
    }
  });

  it('a throwing listener fails the next poll, and the assignment still happens', async () => {
    const topic = name('throws');
    await t.admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = t.producer();
    await producer.connect();
    await producer.send(topic, 0, [{ key: null, value: Buffer.from('x') }]);
    await producer.close();
    let failed: unknown;
    const consumer: GroupConsumer = t.groupConsumer({
      groupId: name('throws-group'),
      topics: [topic],
      listener: {
        onAssigned: () => {
          throw new Error('listener failure');
        },
        onRevoked: () => undefined,
        onLost: () => undefined,
      },
    });
    try {
      await consumer.start();
      const got: IncomingRecord[] = [];
      await until('the record', async () => {
        try {
          got.push(...(await consumer.poll(10, 100)));
        } catch (err) {
          failed ??= err;
        }
        return got.length > 0;
      });
      assert.match(String((failed as Error)?.message), /listener failure/);
      assert.equal(got[0]?.value?.toString(), 'x');
      assert.deepEqual(consumer.assignment(), [{ topic, partition: 0 }]);
      assert.throws(() => consumer.seek({ topic, partition: 7 }, 0), code('INVALID_ARGUMENT'));
    } finally {
      await consumer.close();
    }
    await assert.rejects(consumer.poll(1, 0), code('CLOSED'));
  });

  it("a kicked member's sendOffsets is PRODUCER_FENCED (KIP-447 member check), then abort works", async () => {
    const topic = name('kicked');
    await t.admin.ensureTopics([{ topic, partitions: 1 }]);
    const groupId = name('kicked-group');
    const consumer = t.groupConsumer({
      groupId,
      topics: [topic],
      // Heartbeats every ~3.3 s: librdkafka keeps its stale member id long enough for the check.
      sessionTimeoutMs: 10_000,
      listener: { onAssigned: () => {}, onRevoked: () => {}, onLost: () => {} },
    });
    const producer = t.producer({ transactionalId: name('kicked-tx') });
    try {
      await consumer.start();
      await producer.connect();
      await until('the assignment', async () => {
        await consumer.poll(10, 100);
        return consumer.assignment().length === 1;
      });
      const members = b.broker.coordinator.describe(groupId)?.members ?? [];
      assert.equal(members.length, 1);
      // The coordinator drops the member (as after a missed session); the client does not know yet.
      b.broker.coordinator.leave(
        groupId,
        members.map((m) => ({ memberId: m.memberId, groupInstanceId: null })),
      );
      producer.beginTransaction();
      await assert.rejects(
        (async () => {
          await producer.sendOffsets(consumer, [{ topic, partition: 0, offset: 1 }]);
          await producer.commitTransaction();
        })(),
        code('PRODUCER_FENCED'),
      );
      await producer.abortTransaction();
      assert.deepEqual(await t.admin.committedOffsets(groupId, [{ topic, partition: 0 }]), [
        { topic, partition: 0, offset: null },
      ]);
    } finally {
      await producer.close();
      await consumer.close();
    }
  });

  it('static membership: a second instance with the same group.instance.id fences the first', async () => {
    const topic = name('static');
    await t.admin.ensureTopics([{ topic, partitions: 2 }]);
    const options = {
      groupId: name('static-group'),
      topics: [topic],
      sessionTimeoutMs: 3000,
      groupInstanceId: 'inst-1',
      listener: { onAssigned: () => {}, onRevoked: () => {}, onLost: () => {} },
    };
    const first = t.groupConsumer(options);
    const second = t.groupConsumer(options);
    try {
      await first.start();
      await until('the first assignment', async () => {
        await first.poll(10, 100);
        return first.assignment().length === 2;
      });
      await second.start();
      await until('the new instance to take over', async () => {
        await second.poll(10, 100);
        return second.assignment().length === 2;
      });
      let fenced: unknown;
      await until('the old instance to be fenced', async () => {
        await first.poll(10, 100).catch((e) => {
          fenced = e;
        });
        return fenced !== undefined;
      });
      assert.ok(isSluiceError(fenced, 'PRODUCER_FENCED'), String(fenced));
    } finally {
      await first.close().catch(() => undefined);
      await second.close();
    }
  });

  it('empty and null keys, values (kcat) and header values (kafkajs) are distinct on the wire', async () => {
    const topic = name('wire');
    await t.admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = t.producer();
    await producer.connect();
    await producer.send(topic, 0, [
      { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{ key: 'e', value: Buffer.alloc(0) }] },
      { key: null, value: null, headers: [{ key: 'n', value: null }] },
    ]);
    await producer.close();
    await assert.rejects(producer.send(topic, 0, []), code('CLOSED'));
    const out = await kcat([
      '-b',
      bootstrap,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%K %S\\n',
    ]);
    assert.deepEqual(out.trim().split('\n'), ['0 0', '-1 -1'], 'key and value lengths (-1 = null)');
    // A second, independent client (kafkajs decodes a -1 header length as null) checks headers.
    const kafka = new Kafka({ clientId: 'impl-wire', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: name('wire-kafkajs'), maxWaitTimeInMs: 100 });
    const seen: Array<Record<string, unknown>> = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({ ...(message.headers ?? {}) });
        },
      });
      await until('kafkajs to read both records', async () => {
        await sleep(50);
        return seen.length >= 2;
      });
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(seen[0], { e: Buffer.alloc(0) }, 'an empty header value stays empty');
    assert.deepEqual(seen[1], { n: null }, 'a null header value is null on the wire');
    // Reading back through librdkafka: the binding returns a null header value as empty.
    const reader = t.partitionReader({ isolationLevel: 'read_uncommitted' });
    try {
      await reader.assign([{ topic, partition: 0, offset: 0 }]);
      const got: IncomingRecord[] = [];
      await until('two records', async () => {
        got.push(...(await reader.poll(10, 100)));
        return got.length >= 2;
      });
      assert.deepEqual(
        got.map((r) => r.headers.map((h) => [h.key, h.value])),
        [[['e', Buffer.alloc(0)]], [['n', Buffer.alloc(0)]]],
      );
      assert.deepEqual(got[0]?.key, Buffer.alloc(0));
      assert.deepEqual(got[0]?.value, Buffer.alloc(0));
      assert.equal(got[1]?.key, null);
      assert.equal(got[1]?.value, null);
    } finally {
      await reader.close();
    }
  });
});
