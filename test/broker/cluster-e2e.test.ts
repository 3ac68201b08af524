/**
 * The broker end to end with real clients: a KafkaServer with the Cluster handlers (over log/'s
 * LogManager in a temporary directory) and the group handlers. kafkajs, @platformatic/kafka,
 * librdkafka (kcat and @confluentinc/kafka-javascript) create topics, produce records with keys,
 * headers and timestamps, and consume them back identical, alone and in a consumer group.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Cluster,
  clusterHandlers,
  GroupCoordinator,
  groupHandlers,
  KafkaServer,
  MemoryOffsetStore,
} from '../../src/broker/index.js';
import { type TempLogs, tempLogs } from './support/temp-log.js';

const require = createRequire(import.meta.url);

function kcat(
  args: string[],
  input: string | null = null,
  ms = 10_000,
): Promise<{ code: number; out: string; err: string }> {
  const child = spawn('kcat', args, { stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  if (input !== null) child.stdin?.end(input);
  return Promise.race([once(child, 'close').then(([code]) => code as number), sleep(ms).then(() => -1)])
    .then((code) => ({ code, out, err }))
    .finally(() => child.kill('SIGKILL'));
}

describe('broker end to end with real clients (real log)', { timeout: 120_000 }, () => {
  let server: KafkaServer;
  let cluster: Cluster;
  let broker = '';
  const coordinator = new GroupCoordinator({ initialRebalanceDelayMs: 300 });

  let store: TempLogs;
  before(async () => {
    store = await tempLogs({ 'flush.ms': -1 });
    const node = { nodeId: 1, host: '127.0.0.1', port: 0 };
    cluster = new Cluster({
      logs: store.logs,
      node,
      clusterId: 'sluice-e2e',
      defaultPartitions: 3,
    });
    server = new KafkaServer({
      port: 0,
      handlers: {
        ...clusterHandlers(cluster),
        ...groupHandlers({
          node,
          coordinator,
          offsets: new MemoryOffsetStore(),
          partitionExists: (t, p) => cluster.partitionExists(t, p),
        }),
      },
    });
    const { port } = await server.listen();
    node.port = port;
    broker = `127.0.0.1:${port}`;
  });
  after(async () => {
    coordinator.shutdown();
    await server.close();
    await store.close();
  });

  it('kafkajs: create a topic, produce 300 records with keys, headers, timestamps, consume them back identical in a group', {
    timeout: 40_000,
  }, async () => {
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    const kafka = new Kafka({ clientId: 'e2e', brokers: [broker], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 4 }] }), true);
    const md = await admin.fetchTopicMetadata({ topics: ['kjs'] });
    assert.equal(md.topics[0]?.partitions.length, 4);
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 300 }, (_, i) => ({
      key: `k${i % 17}`,
      value: `value-${i}-${'x'.repeat(i % 50)}`,
      headers: { h: `h${i}` },
      timestamp: String(1_700_000_000_000 + i),
    }));
    for (let i = 0; i < sent.length; i += 50)
      await producer.send({ topic: 'kjs', messages: sent.slice(i, i + 50) });
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets('kjs');
    assert.equal(
      offsets.reduce((n, p) => n + Number(p.high), 0),
      300,
    );
    const got: { key: string; value: string; h: string; ts: string }[] = [];
    const consumer = kafka.consumer({ groupId: 'kjs-group', heartbeatInterval: 300 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          key: String(message.key),
          value: String(message.value),
          h: String(message.headers?.h),
          ts: message.timestamp,
        });
      },
    });
    const deadline = Date.now() + 25_000;
    while (got.length < 300 && Date.now() < deadline) await sleep(100);
    await consumer.disconnect();
    await admin.disconnect();
    const norm = (xs: { key: string; value: string; h: string; ts: string }[]) =>
      xs.map((x) => JSON.stringify(x)).sort();
    assert.deepEqual(
      norm(got),
      norm(sent.map((s) => ({ key: s.key, value: s.value, h: s.headers.h, ts: s.timestamp }))),
    );
  });

  it('kafkajs admin: topic configs (create with overrides, describe, alter, incremental), partitions, records, deletion', {
    timeout: 20_000,
  }, async () => {
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    const kafka = new Kafka({
      clientId: 'admin',
      brokers: [broker],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          { topic: 'cfg', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '1000' }] },
        ],
      });
      const describe = async () => {
        const r = await admin.describeConfigs({
          resources: [{ type: 2, name: 'cfg' }],
          includeSynonyms: false,
        });
        return Object.fromEntries(
          (r.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
        );
      };
      assert.equal((await describe())['retention.ms'], '1000');
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name: 'cfg', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      });
      const after = await describe();
      assert.equal(after['cleanup.policy'], 'compact');
      assert.equal(
        after['retention.ms'],
        '604800000',
        'AlterConfigs replaces: retention.ms is back to its default',
      );
      await assert.rejects(
        admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: 2, name: 'cfg', configEntries: [{ name: 'no.such.key', value: '1' }] }],
        }),
      );
      await admin.createPartitions({ topicPartitions: [{ topic: 'cfg', count: 4 }] });
      assert.equal((await admin.fetchTopicMetadata({ topics: ['cfg'] })).topics[0]?.partitions.length, 4);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: 'cfg',
        // keyed: the topic is compacted now, and a compacted log refuses keyless records (as Kafka)
        messages: [0, 1, 2].map((i) => ({ partition: 0, key: `k${i}`, value: `v${i}` })),
      });
      await producer.disconnect();
      // A compact-only topic's records go by key, never by offset (as Kafka: POLICY_VIOLATION).
      await assert.rejects(
        admin.deleteTopicRecords({ topic: 'cfg', partitions: [{ partition: 0, offset: '2' }] }),
        (err: Error & { cause?: { partitions?: Array<{ error?: { type?: string } }> } }) =>
          err.cause?.partitions?.[0]?.error?.type === 'POLICY_VIOLATION',
      );
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: 2, name: 'cfg', configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }] },
        ],
      });
      await admin.deleteTopicRecords({ topic: 'cfg', partitions: [{ partition: 0, offset: '2' }] });
      const offsets = await admin.fetchTopicOffsets('cfg');
      assert.equal(offsets.find((p) => p.partition === 0)?.low, '2');
      await admin.deleteTopics({ topics: ['cfg'] });
      assert.equal(cluster.hasTopic('cfg'), false);
    } finally {
      await admin.disconnect();
    }
  });

  it('kcat: produce with every codec and consume back byte-identical; list offsets', {
    timeout: 40_000,
  }, async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `key${i}:payload ${i} ${'é'.repeat(i % 7)}`);
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      const p = await kcat(
        [
          '-P',
          '-b',
          broker,
          '-t',
          `kc-${codec}`,
          '-K',
          ':',
          '-z',
          codec,
          '-X',
          'topic.partitioner=murmur2_random',
        ],
        `${lines.join('\n')}\n`,
      );
      assert.equal(p.code, 0, p.err);
      const c = await kcat([
        '-C',
        '-b',
        broker,
        '-t',
        `kc-${codec}`,
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%k:%s\\n',
      ]);
      assert.equal(c.code, 0, c.err);
      assert.deepEqual(c.out.trim().split('\n').sort(), [...lines].sort(), codec);
    }
    const q = await kcat(['-Q', '-b', broker, '-t', 'kc-none:0:-1']);
    assert.equal(q.code, 0, q.err);
  });

  it('@confluentinc/kafka-javascript and @platformatic/kafka read what the other wrote', {
    timeout: 40_000,
  }, async () => {
    const { KafkaJS } =
      require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');
    const rk = new KafkaJS.Kafka({
      kafkaJS: { brokers: [broker], clientId: 'rk', logLevel: KafkaJS.logLevel.NOTHING },
    });
    const rkp = rk.producer({ 'compression.type': 'gzip' } as never);
    await rkp.connect();
    await rkp.send({
      topic: 'mixed',
      messages: Array.from({ length: 50 }, (_, i) => ({
        key: `r${i}`,
        value: `from-librdkafka-${i}`,
        headers: { n: String(i) },
      })),
    });
    await rkp.disconnect();
    const { Consumer, Producer, stringDeserializers, stringSerializers, MessagesStreamModes } = await import(
      '@platformatic/kafka'
    );
    const pp = new Producer({ clientId: 'pf', bootstrapBrokers: [broker], serializers: stringSerializers });
    await pp.send({
      messages: Array.from({ length: 50 }, (_, i) => ({
        topic: 'mixed',
        key: `p${i}`,
        value: `from-platformatic-${i}`,
      })),
    });
    await pp.close();
    const pc = new Consumer({
      clientId: 'pf',
      groupId: 'pf-group',
      bootstrapBrokers: [broker],
      deserializers: stringDeserializers,
    });
    const stream = await pc.consume({
      topics: ['mixed'],
      mode: MessagesStreamModes.EARLIEST,
      maxWaitTime: 200,
    });
    const seen = new Set<string>();
    const deadline = Date.now() + 20_000;
    for await (const m of stream) {
      seen.add(`${m.key}=${m.value}`);
      if (seen.size >= 100 || Date.now() > deadline) break;
    }
    await stream.close();
    await pc.close();
    for (let i = 0; i < 50; i++) {
      assert.ok(seen.has(`r${i}=from-librdkafka-${i}`), `platformatic read librdkafka record ${i}`);
      assert.ok(seen.has(`p${i}=from-platformatic-${i}`), `platformatic read its record ${i}`);
    }
  });
});
