/**
 * Compatibility with @platformatic/kafka 1.x (pure TypeScript client, its own protocol code)
 * against a `sluice broker` process. Codecs: none, gzip, snappy, lz4 (snappy and lz4 through
 * WASM); its zstd needs node:zlib's zstd (Node 22.15+), so not on Node 20.
 * Checks (test/compat/support/scenarios.ts): 100 000 records with each codec back byte-identical with keys, headers and timestamps; a three-member
 * group splits, rebalances on leave and join, and its committed offsets survive a broker
 * crash; an idempotent producer's retried batch is stored once; ListOffsets by timestamp
 * (the client's own admin).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Admin,
  type CompressionAlgorithmValue,
  Consumer,
  type Message,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
} from '@platformatic/kafka';
import {
  assertSameRecords,
  type CompatBroker,
  digest,
  makeRecords,
  startCompatBroker,
  waitFor,
} from './support/harness.js';
import { groupScenario, idempotentScenario, type Member } from './support/scenarios.js';

const N = 100_000;

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'compat-pf', bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

/** Reads `n` records from the beginning (a group of one, no commits), calling `onMessage` in order. */
async function consumeAll(bootstrap: string, topic: string, n: number, onMessage: (m: Message) => void) {
  const consumer = new Consumer({
    clientId: 'compat-pf',
    groupId: `read-${topic}-${Date.now()}`,
    bootstrapBrokers: [bootstrap],
    maxWaitTime: 200,
    maxBytes: 8 * 1024 * 1024,
  });
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    });
    let count = 0;
    const timer = setTimeout(() => void stream.close(), 120_000);
    for await (const m of stream) {
      onMessage(m as Message);
      if (++count >= n) break;
    }
    clearTimeout(timer);
    await stream.close();
    assert.equal(count, n, `${n} records from ${topic}`);
  } finally {
    await consumer.close(true);
  }
}

describe('compat: @platformatic/kafka', { timeout: 300_000 }, () => {
  let env: CompatBroker;
  before(async () => {
    env = await startCompatBroker();
  });
  after(async () => {
    await env?.close();
  });

  // zstd: this client compresses with node:zlib's zstd, which Node 20 lacks ("zstd is not
  // supported in the current Node.js version"); zstd is covered by kcat and librdkafka.
  for (const codec of ['none', 'gzip', 'snappy', 'lz4'] as const) {
    it(`${codec}: 100 000 records back byte-identical (keys, headers, timestamps)`, async () => {
      const topic = `pf-${codec}`;
      await createTopic(env.bootstrap, topic, 1);
      const records = makeRecords(N, topic);
      const producer = new Producer({
        clientId: 'compat-pf',
        bootstrapBrokers: [env.bootstrap],
        acks: -1,
        ...(codec === 'none' ? {} : { compression: codec as CompressionAlgorithmValue }),
      });
      try {
        for (let i = 0; i < N; i += 5000) {
          await producer.send({
            messages: records.slice(i, i + 5000).map((r) => ({
              topic,
              partition: 0,
              key: r.key,
              value: r.value,
              headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), v])),
              timestamp: BigInt(r.timestamp),
            })),
          });
        }
      } finally {
        await producer.close();
      }
      const got: string[] = [];
      await consumeAll(env.bootstrap, topic, N, (m) =>
        got.push(
          digest({
            key: m.key ?? null,
            value: m.value ?? null,
            headers: [...m.headers].map(([k, v]) => [k.toString(), v]),
            timestamp: Number(m.timestamp),
          }),
        ),
      );
      assertSameRecords(got, records.map(digest), `platformatic ${codec}`);
    });
  }

  it('a group of three splits, rebalances on leave and join; offsets survive a crash', async () => {
    await groupScenario(
      env,
      {
        async produce(bootstrap, topic, values) {
          const p = new Producer({ clientId: 'compat-pf', bootstrapBrokers: [bootstrap], acks: -1 });
          try {
            await p.send({
              messages: values.map((v) => ({ topic, key: Buffer.from(v), value: Buffer.from(v) })),
            });
          } finally {
            await p.close();
          }
        },
        async member(bootstrap, group, topic): Promise<Member> {
          const c = new Consumer({
            clientId: 'compat-pf',
            groupId: group,
            bootstrapBrokers: [bootstrap],
            sessionTimeout: 10_000,
            heartbeatInterval: 500,
            maxWaitTime: 200,
          });
          const received: string[] = [];
          const stream = await c.consume({
            topics: [topic],
            mode: MessagesStreamModes.COMMITTED,
            fallbackMode: MessagesStreamFallbackModes.EARLIEST,
            autocommit: 200,
          });
          stream.on('data', (m: Message) => received.push(m.value.toString()));
          stream.on('error', () => undefined);
          return {
            received,
            async close() {
              await stream.close();
              await c.close(true);
            },
          };
        },
      },
      'pf',
    );
  });

  it('an idempotent producer’s retried batch is stored once', async () => {
    await idempotentScenario(
      env,
      'pf',
      async (bootstrap, topic, values) => {
        const p = new Producer({
          clientId: 'compat-pf',
          bootstrapBrokers: [bootstrap],
          idempotent: true,
          acks: -1,
          retries: 5,
          retryDelay: 100,
        });
        try {
          await p.send({ messages: values.map((v) => ({ topic, partition: 0, value: Buffer.from(v) })) });
        } finally {
          await p.close();
        }
      },
      async (bootstrap, topic, n) => {
        const got: string[] = [];
        await consumeAll(bootstrap, topic, n, (m) => got.push(m.value.toString()));
        return got;
      },
    );
  });

  it('ListOffsets by timestamp finds the first record at or after it', async () => {
    const topic = 'pf-time';
    await createTopic(env.bootstrap, topic, 1);
    const p = new Producer({ clientId: 'compat-pf', bootstrapBrokers: [env.bootstrap] });
    await p.send({
      messages: Array.from({ length: 100 }, (_, i) => ({
        topic,
        partition: 0,
        value: Buffer.from(`t${i}`),
        timestamp: BigInt(1000 + 10 * i),
      })),
    });
    await p.close();
    const admin = new Admin({ clientId: 'compat-pf', bootstrapBrokers: [env.bootstrap] });
    try {
      const at = async (ts: number) => {
        const r = await admin.listOffsets({
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: BigInt(ts) }] }],
        });
        return Number(r[0]?.partitions[0]?.offset);
      };
      assert.equal(await at(1000), 0);
      assert.equal(await at(1255), 26);
      assert.equal(await at(1990), 99);
      await waitFor('admin answers', () => true);
    } finally {
      await admin.close();
    }
  });
});
