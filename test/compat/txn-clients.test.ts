/**
 * Transactions with real clients against a Sluice broker over a real log (temp dir, random
 * port): kafkajs and @confluentinc/kafka-javascript commit (visible to read_committed) and abort
 * (never visible, though the records are in the log: read_uncommitted sees them); kcat with
 * isolation.level=read_committed agrees; two producers with one transactional id (the older
 * is fenced and its writes never become visible); a consume-transform-produce loop with
 * sendOffsets moves the group's offsets only with committed output; the broker restarts and
 * an open transaction left by a vanished producer is aborted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningBroker, startBroker } from './support/txn-broker.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
const { KafkaJS } =
  require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');

async function kcat(args: string[], ms = 15_000): Promise<string> {
  const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  await Promise.race([once(child, 'close'), sleep(ms)]);
  child.kill('SIGKILL');
  return out;
}

/** Values in a topic, read with kcat from the beginning to the end (per isolation level). */
async function kcatValues(port: number, topic: string, committed: boolean): Promise<string[]> {
  const out = await kcat([
    '-b',
    `127.0.0.1:${port}`,
    '-C',
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%s\\n',
    '-X',
    `isolation.level=${committed ? 'read_committed' : 'read_uncommitted'}`,
  ]);
  return out.split('\n').filter((l) => l.length > 0);
}

describe('transactions with real clients', { timeout: 180_000 }, () => {
  let dir = '';
  let b: RunningBroker;
  let brokers: string[] = [];
  const kafkaOf = (clientId: string) =>
    new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-txn-'));
    b = await startBroker(dir);
    brokers = [`127.0.0.1:${b.port}`];
    const admin = kafkaOf('admin').admin();
    await admin.connect();
    await admin.createTopics({
      topics: ['kj', 'rk', 'zombie', 'in', 'out', 'restart', 'rin', 'rout'].map((topic) => ({
        topic,
        numPartitions: 2,
      })),
    });
    await admin.disconnect();
  });

  after(async () => {
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kafkajs: committed records are visible to read_committed, aborted ones never', async () => {
    const producer = kafkaOf('kj').producer({
      transactionalId: 'kj-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({
      topic: 'kj',
      messages: [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `commit-${i}` })),
    });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({
      topic: 'kj',
      messages: [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `abort-${i}` })),
    });
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send({ topic: 'kj', messages: [{ key: 'k9', value: 'commit-9' }] });
    await t3.commit();
    await producer.disconnect();
    await b.broker.transactions.idle();

    const committed = (await kcatValues(b.port, 'kj', true)).sort();
    assert.deepEqual(committed, ['commit-0', 'commit-1', 'commit-2', 'commit-3', 'commit-9']);
    const all = (await kcatValues(b.port, 'kj', false)).sort();
    assert.deepEqual(all.filter((v) => v.startsWith('abort')).length, 4, 'aborted records are in the log');

    // kafkajs' own consumer (read_committed by default) agrees with kcat.
    const consumer = kafkaOf('kjc').consumer({ groupId: 'kj-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kj', fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value));
      },
    });
    const deadline = Date.now() + 20_000;
    while (seen.length < committed.length && Date.now() < deadline) await sleep(50);
    await sleep(300);
    await consumer.disconnect();
    assert.deepEqual(seen.sort(), committed);
  });

  it('@confluentinc/kafka-javascript: commit visible, abort invisible, kcat agrees', async () => {
    const rk = new KafkaJS.Kafka({
      kafkaJS: { brokers, clientId: 'rk', logLevel: KafkaJS.logLevel.NOTHING },
    });
    const producer = rk.producer({
      kafkaJS: { transactionalId: 'rk-tx', idempotent: true, maxInFlightRequests: 1 },
    });
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({
      topic: 'rk',
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `c${i}` })),
    });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({
      topic: 'rk',
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `a${i}` })),
    });
    await t2.abort();
    await producer.disconnect();
    await b.broker.transactions.idle();
    const committed = await kcatValues(b.port, 'rk', true);
    assert.deepEqual(committed.sort(), Array.from({ length: 20 }, (_, i) => `c${i}`).sort());
    assert.equal((await kcatValues(b.port, 'rk', false)).length, 40);

    const consumer = rk.consumer({
      kafkaJS: { groupId: 'rk-reader', fromBeginning: true },
      'isolation.level': 'read_committed',
    } as never);
    await consumer.connect();
    await consumer.subscribe({ topic: 'rk' });
    const seen: string[] = [];
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value));
      },
    });
    const deadline = Date.now() + 25_000;
    while (seen.length < 20 && Date.now() < deadline) await sleep(50);
    await sleep(300);
    await consumer.disconnect();
    assert.deepEqual(seen.sort(), committed.sort());
  });

  it('zombie: the older producer with the same transactional id is fenced; its writes never show', async () => {
    const older = kafkaOf('z1').producer({
      transactionalId: 'z-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await older.connect();
    const zt = await older.transaction();
    await zt.send({ topic: 'zombie', messages: [{ key: 'a', value: 'zombie-1' }] });
    // A new instance takes over the id: the open transaction is aborted, the older fenced.
    const newer = kafkaOf('z2').producer({
      transactionalId: 'z-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await newer.connect();
    const nt = await newer.transaction();
    await nt.send({ topic: 'zombie', messages: [{ key: 'a', value: 'newer-1' }] });
    await nt.commit();
    await assert.rejects(async () => {
      await zt.send({ topic: 'zombie', messages: [{ key: 'a', value: 'zombie-2' }] });
      await zt.commit();
    });
    await older.disconnect().catch(() => undefined);
    await newer.disconnect();
    await b.broker.transactions.idle();
    assert.deepEqual(await kcatValues(b.port, 'zombie', true), ['newer-1']);
  });

  it('consume-transform-produce with sendOffsets: offsets move only with committed output', async () => {
    const seed = kafkaOf('seed').producer();
    await seed.connect();
    await seed.send({
      topic: 'in',
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `${i}` })),
    });
    await seed.disconnect();
    const admin = kafkaOf('adm').admin();
    await admin.connect();
    const offsetsOf = async () =>
      (await admin.fetchOffsets({ groupId: 'ctp', topics: ['in'] }))[0]?.partitions
        .map((p) => Number(p.offset))
        .reduce((a, x) => a + Math.max(0, x), 0) ?? 0;

    const producer = kafkaOf('ctp').producer({
      transactionalId: 'ctp-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const consumer = kafkaOf('ctpc').consumer({ groupId: 'ctp', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'in', fromBeginning: true });
    let abortNext = true;
    let offsetsAfterAbort = -1;
    let done = 0;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const t = await producer.transaction();
        await t.send({
          topic: 'out',
          messages: batch.messages.map((m) => ({ key: m.key, value: `x${String(m.value)}` })),
        });
        await t.sendOffsets({
          consumerGroupId: 'ctp',
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }],
            },
          ],
        });
        if (abortNext) {
          abortNext = false;
          await t.abort();
          // Aborted: the offsets did not move.
          await b.broker.transactions.idle();
          offsetsAfterAbort = await offsetsOf();
          throw new Error('retry the batch'); // kafkajs re-delivers it
        }
        await t.commit();
        done += batch.messages.length;
      },
    });
    const deadline = Date.now() + 30_000;
    while (done < 30 && Date.now() < deadline) await sleep(50);
    await consumer.disconnect();
    await producer.disconnect();
    await b.broker.transactions.idle();
    assert.equal(offsetsAfterAbort, 0, 'an aborted transaction moved no offsets');
    assert.equal(await offsetsOf(), 30, 'offsets committed with the output');
    await admin.disconnect();
    const out = await kcatValues(b.port, 'out', true);
    assert.deepEqual(out.sort(), Array.from({ length: 30 }, (_, i) => `x${i}`).sort());
  });

  it('@confluentinc/kafka-javascript consume-transform-produce (KIP-447 group metadata): offsets only with committed output', async () => {
    const seed = kafkaOf('rseed').producer();
    await seed.connect();
    await seed.send({
      topic: 'rin',
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `${i}` })),
    });
    await seed.disconnect();
    const admin = kafkaOf('radm').admin();
    await admin.connect();
    const offsetsOf = async () =>
      (await admin.fetchOffsets({ groupId: 'rctp', topics: ['rin'] }))[0]?.partitions
        .map((p) => Number(p.offset))
        .reduce((a, x) => a + Math.max(0, x), 0) ?? 0;
    const rk = new KafkaJS.Kafka({
      kafkaJS: { brokers, clientId: 'rctp', logLevel: KafkaJS.logLevel.NOTHING },
    });
    const producer = rk.producer({
      kafkaJS: { transactionalId: 'rctp-tx', idempotent: true, maxInFlightRequests: 1 },
    });
    await producer.connect();
    const consumer = rk.consumer({ kafkaJS: { groupId: 'rctp', fromBeginning: true, autoCommit: false } });
    await consumer.connect();
    await consumer.subscribe({ topics: ['rin'] });
    let aborted = false;
    let offsetsAfterAbort = -1;
    let done = 0;
    void consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const t = await producer.transaction();
        await t.send({ topic: 'rout', messages: [{ key: message.key, value: `y${String(message.value)}` }] });
        await t.sendOffsets({
          consumer,
          topics: [{ topic, partitions: [{ partition, offset: String(Number(message.offset) + 1) }] }],
        });
        if (!aborted) {
          aborted = true;
          await t.abort();
          offsetsAfterAbort = await offsetsOf();
          throw new Error('retry the message'); // re-delivered by the client
        }
        await t.commit();
        done++;
      },
    });
    const deadline = Date.now() + 40_000;
    while (done < 20 && Date.now() < deadline) await sleep(50);
    await consumer.disconnect();
    await producer.disconnect();
    assert.equal(offsetsAfterAbort, 0, 'an aborted transaction moved no offsets');
    assert.equal(await offsetsOf(), 20, 'offsets committed with the output');
    await admin.disconnect();
    const out = await kcatValues(b.port, 'rout', true);
    assert.deepEqual(out.sort(), Array.from({ length: 20 }, (_, i) => `y${i}`).sort());
  });

  it('a broker restart aborts the open transaction of a vanished producer', async () => {
    const p = kafkaOf('rs').producer({ transactionalId: 'rs-tx', maxInFlightRequests: 1, idempotent: true });
    await p.connect();
    const t = await p.transaction();
    await t.send({ topic: 'restart', messages: [{ key: 'a', value: 'never' }] });
    // The producer vanishes without ending its transaction; the broker restarts.
    await b.close();
    b = await startBroker(dir, b.port);
    await b.broker.transactions.idle();
    assert.deepEqual(await kcatValues(b.port, 'restart', true), []);
    const d = b.broker.transactions.describe('rs-tx');
    assert.equal(d?.state, 5, 'CompleteAbort');
    const log = b.logs.getLog('restart', 0);
    const log1 = b.logs.getLog('restart', 1);
    assert.equal(log.lastStableOffset, log.highWatermark);
    assert.equal(log1.lastStableOffset, log1.highWatermark);
  });
});
