/**
 * Compatibility with @confluentinc/kafka-javascript (librdkafka 2.x through its KafkaJS-style
 * API) against a `sluice broker` process.
 * Checks (test/compat/support/scenarios.ts): 100 000 records with each codec (none, gzip,
 * snappy, lz4, zstd) back byte-identical with keys, headers and timestamps; a three-member
 * group splits, rebalances on leave and join, and its committed offsets survive a broker
 * crash; an idempotent producer's retried batch is stored once; ListOffsets by timestamp
 * (the client's own admin).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
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
const { KafkaJS } =
  require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');
type Message = import('@confluentinc/kafka-javascript').KafkaJS.KafkaMessage;

const N = 100_000;

function kafka(bootstrap: string) {
  return new KafkaJS.Kafka({
    kafkaJS: { brokers: [bootstrap], clientId: 'compat-confluent', logLevel: KafkaJS.logLevel.NOTHING },
  });
}

async function consumeAll(bootstrap: string, topic: string, n: number, onMessage: (m: Message) => void) {
  const consumer = kafka(bootstrap).consumer({
    kafkaJS: { groupId: `read-${topic}-${Date.now()}`, fromBeginning: true, autoCommit: false },
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    let count = 0;
    await consumer.run({
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

const headerPairs = (h: Message['headers']): [string, Buffer][] =>
  Object.entries(h ?? {}).flatMap(([k, v]) =>
    (Array.isArray(v) ? v : [v]).map((x): [string, Buffer] => [k, Buffer.from(x as Buffer)]),
  );

describe('compat: @confluentinc/kafka-javascript', { timeout: 300_000 }, () => {
  let env: CompatBroker;
  before(async () => {
    env = await startCompatBroker();
  });
  after(async () => {
    await env?.close();
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`${codec}: 100 000 records back byte-identical (keys, headers, timestamps)`, async () => {
      const topic = `rk-${codec}`;
      const admin = await observer(env.bootstrap);
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await admin.disconnect();
      const records = makeRecords(N, topic);
      const producer = kafka(env.bootstrap).producer({
        'compression.type': codec,
        'linger.ms': 5,
        'batch.num.messages': 10_000,
        kafkaJS: { acks: -1 },
      } as never);
      await producer.connect();
      for (let i = 0; i < N; i += 10_000) {
        await producer.send({
          topic,
          messages: records.slice(i, i + 10_000).map((r) => ({
            key: r.key,
            value: r.value,
            partition: 0,
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
            key: m.key ?? null,
            value: m.value ?? null,
            headers: headerPairs(m.headers),
            timestamp: Number(m.timestamp),
          }),
        ),
      );
      assertSameRecords(got, records.map(digest), `confluent ${codec}`);
    });
  }

  it('a group of three splits, rebalances on leave and join; offsets survive a crash', async () => {
    await groupScenario(
      env,
      {
        async produce(bootstrap, topic, values) {
          const p = kafka(bootstrap).producer({ kafkaJS: { acks: -1 } });
          await p.connect();
          await p.send({ topic, messages: values.map((v) => ({ key: v, value: v })) });
          await p.disconnect();
        },
        async member(bootstrap, group, topic): Promise<Member> {
          const c = kafka(bootstrap).consumer({
            'heartbeat.interval.ms': 500,
            kafkaJS: {
              groupId: group,
              fromBeginning: true,
              sessionTimeout: 10_000,
              autoCommitInterval: 200,
            },
          } as never);
          const received: string[] = [];
          await c.connect();
          await c.subscribe({ topics: [topic] });
          await c.run({
            eachMessage: async ({ message }) => {
              received.push(String(message.value));
            },
          });
          return { received, close: () => c.disconnect() };
        },
      },
      'rk',
    );
  });

  it('an idempotent producer’s retried batch is stored once', async () => {
    await idempotentScenario(
      env,
      'rk',
      async (bootstrap, topic, values) => {
        const p = kafka(bootstrap).producer({ kafkaJS: { idempotent: true, acks: -1 } });
        await p.connect();
        await p.send({ topic, messages: values.map((v) => ({ value: v })) });
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
    const topic = 'rk-time';
    const k = kafka(env.bootstrap);
    const admin = k.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const p = k.producer();
      await p.connect();
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
      assert.equal(await at(1990), '99');
      assert.equal(await at(5000), '100', 'after the last record: the log end');
    } finally {
      await admin.disconnect();
    }
  });
});
