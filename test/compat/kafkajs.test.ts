/**
 * Compatibility with kafkajs 2.2 (pure JavaScript client) against a `sluice broker` process.
 * Codecs: kafkajs carries none and gzip natively; snappy, lz4 and zstd need codec plugins
 * that are not installed, so those three are exercised with the other clients.
 * Checks (test/compat/support/scenarios.ts): 100 000 records per codec back byte-identical
 * with keys, headers and timestamps; a three-member group splits, rebalances on leave and
 * join, and its committed offsets survive a broker crash; an idempotent producer's retried
 * batch is stored once; ListOffsets by timestamp.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Consumer, Kafka } from 'kafkajs';
import {
  assertSameRecords,
  type CompatBroker,
  digest,
  makeRecords,
  startCompatBroker,
  waitFor,
} from './support/harness.js';
import { groupScenario, idempotentScenario, type Member, observer } from './support/scenarios.js';

const require = createRequire(import.meta.url);
const { Kafka: KafkaClass, logLevel, CompressionTypes } = require('kafkajs') as typeof import('kafkajs');

const N = 100_000;

function kafka(bootstrap: string): Kafka {
  return new KafkaClass({
    clientId: 'compat-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100 },
  });
}

async function consumeAll(
  bootstrap: string,
  topic: string,
  n: number,
  onMessage: (m: import('kafkajs').KafkaMessage) => void,
): Promise<void> {
  const consumer: Consumer = kafka(bootstrap).consumer({
    groupId: `read-${topic}-${Date.now()}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let count = 0;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          onMessage(m);
          count++;
        }
      },
    });
    await waitFor(`${n} records from ${topic}`, () => (count >= n ? true : undefined), 120_000);
  } finally {
    await consumer.disconnect();
  }
}

describe('compat: kafkajs', { timeout: 300_000 }, () => {
  let env: CompatBroker;
  before(async () => {
    env = await startCompatBroker();
  });
  after(async () => {
    await env?.close();
  });

  for (const [codec, type] of [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
  ] as const) {
    it(`${codec}: 100 000 records back byte-identical (keys, headers, timestamps)`, async () => {
      const topic = `kjs-${codec}`;
      const admin = await observer(env.bootstrap);
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await admin.disconnect();
      const records = makeRecords(N, topic);
      const producer = kafka(env.bootstrap).producer();
      await producer.connect();
      for (let i = 0; i < N; i += 5000) {
        await producer.send({
          topic,
          compression: type,
          acks: -1,
          messages: records.slice(i, i + 5000).map((r) => ({
            key: r.key,
            value: r.value,
            headers: Object.fromEntries(r.headers),
            timestamp: String(r.timestamp),
          })),
        });
      }
      await producer.disconnect();
      const got: string[] = [];
      await consumeAll(env.bootstrap, topic, N, (m) =>
        got.push(
          digest({
            key: m.key,
            value: m.value,
            headers: Object.entries(m.headers ?? {}).map(([k, v]) => [k, v as Buffer]),
            timestamp: Number(m.timestamp),
          }),
        ),
      );
      assertSameRecords(got, records.map(digest), `kafkajs ${codec}`);
    });
  }

  it('a group of three splits, rebalances on leave and join; offsets survive a crash', async () => {
    await groupScenario(
      env,
      {
        async produce(bootstrap, topic, values) {
          const p = kafka(bootstrap).producer();
          await p.connect();
          await p.send({ topic, acks: -1, messages: values.map((v) => ({ key: v, value: v })) });
          await p.disconnect();
        },
        async member(bootstrap, group, topic): Promise<Member> {
          const c = kafka(bootstrap).consumer({
            groupId: group,
            sessionTimeout: 10_000,
            heartbeatInterval: 500,
            rebalanceTimeout: 10_000,
          });
          const received: string[] = [];
          await c.connect();
          await c.subscribe({ topic, fromBeginning: true });
          await c.run({
            autoCommitInterval: 200,
            eachMessage: async ({ message }) => {
              received.push(String(message.value));
            },
          });
          return { received, close: () => c.disconnect() };
        },
      },
      'kjs',
    );
  });

  it('an idempotent producer’s retried batch is stored once', async () => {
    await idempotentScenario(
      env,
      'kjs',
      async (bootstrap, topic, values) => {
        const p = kafka(bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });
        await p.connect();
        await p.send({ topic, acks: -1, messages: values.map((v) => ({ value: v })) });
        await p.disconnect();
      },
      async (bootstrap, topic, n) => {
        const got: string[] = [];
        await consumeAll(bootstrap, topic, n, (m) => got.push(String(m.value)));
        return got;
      },
    );
  });

  it('ListOffsets by timestamp finds the first record at or after it', async () => {
    const topic = 'kjs-time';
    const admin = await observer(env.bootstrap);
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const p = kafka(env.bootstrap).producer();
      await p.connect();
      // timestamps 1000, 1010, … 1990 (offset i has timestamp 1000 + 10 i)
      await p.send({
        topic,
        messages: Array.from({ length: 100 }, (_, i) => ({
          value: `t${i}`,
          timestamp: String(1000 + 10 * i),
        })),
      });
      await p.disconnect();
      const at = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts))[0]?.offset;
      assert.equal(await at(1000), '0');
      assert.equal(await at(1255), '26');
      assert.equal(await at(1260), '26');
      assert.equal(await at(1990), '99');
      assert.equal(await at(5000), '100', 'after the last record: the log end');
    } finally {
      await admin.disconnect();
    }
  });
});
