/**
 * Golden tests for the rest of the APIs: real clients run admin operations, idempotent and
 * transactional producers against a responder that answers every API with Sluice's encoder
 * (an all-defaults body where nothing better is needed). Whatever the clients make of those
 * answers, every request frame they send must decode with no bytes left over and re-encode to
 * exactly the client's bytes. Each client run is bounded by per-operation timeouts.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { decodeRequest, encodeRequest } from '../../src/protocol/index.js';
import { Responder } from './support/responder.js';

const require = createRequire(import.meta.url);

async function attempt(what: string, op: () => Promise<unknown>, ms = 2500): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    op().catch(() => {}),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]).finally(() => clearTimeout(timer));
  void what;
}

/**
 * trailingAllowed: API keys where this client is known to send bytes after a complete body.
 * librdkafka 2.x appends 3 bytes (01 00 00) to a Metadata v12 request for all topics; Kafka's
 * parser ignores bytes after the body, and so does decodeRequest (it reports their count).
 */
function verify(
  responder: Responder,
  t: { diagnostic(m: string): void },
  trailingAllowed: number[] = [],
): Set<string> {
  const seen = new Set<string>();
  for (const c of responder.captured) {
    const d = decodeRequest(c.frame);
    if (d.trailingBytes > 0) {
      assert.ok(
        trailingAllowed.includes(c.apiKey),
        `API ${c.apiKey} v${c.apiVersion}: ${d.trailingBytes} bytes left over`,
      );
      t.diagnostic(`API ${c.apiKey} v${c.apiVersion}: ${d.trailingBytes} trailing bytes ignored`);
    }
    const again = encodeRequest(d.apiKey, d.apiVersion, d.correlationId, d.clientId, d.body as never);
    assert.deepStrictEqual(
      again.subarray(4),
      c.frame.subarray(0, c.frame.length - d.trailingBytes),
      `API ${c.apiKey} v${c.apiVersion} re-encodes to the client's bytes`,
    );
    seen.add(`${c.apiKey}v${c.apiVersion}`);
  }
  assert.deepEqual(responder.errors, []);
  t.diagnostic([...seen].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)).join(' '));
  return new Set([...seen].map((s) => s.split('v')[0] as string));
}

describe('golden: admin, idempotent and transactional requests of real clients', { timeout: 120_000 }, () => {
  let responder: Responder;
  before(async () => {
    responder = new Responder(['golden'], true);
    await responder.start();
  });
  after(async () => {
    await responder.stop();
  });

  it('kafkajs', { timeout: 60_000 }, async (t) => {
    responder.captured.length = 0;
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    const kafka = new Kafka({
      clientId: 'golden-admin',
      brokers: [`127.0.0.1:${responder.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await attempt('connect', () => admin.connect());
    await attempt('createTopics', () =>
      admin.createTopics({ topics: [{ topic: 'a', numPartitions: 2 }], timeout: 1000 }),
    );
    await attempt('createPartitions', () =>
      admin.createPartitions({ topicPartitions: [{ topic: 'golden', count: 3 }] }),
    );
    await attempt('deleteTopics', () => admin.deleteTopics({ topics: ['a'], timeout: 1000 }));
    await attempt('describeConfigs', () =>
      admin.describeConfigs({ resources: [{ type: 2, name: 'golden' }], includeSynonyms: true }),
    );
    await attempt('alterConfigs', () =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name: 'golden', configEntries: [{ name: 'retention.ms', value: '1000' }] }],
      }),
    );
    await attempt('fetchOffsets', () => admin.fetchOffsets({ groupId: 'g', topics: ['golden'] }));
    await attempt('setOffsets', () =>
      admin.setOffsets({ groupId: 'g', topic: 'golden', partitions: [{ partition: 0, offset: '5' }] }),
    );
    await attempt('describeGroups', () => admin.describeGroups(['g']));
    await attempt('listGroups', () => admin.listGroups());
    await attempt('deleteGroups', () => admin.deleteGroups(['g']));
    await attempt('fetchTopicOffsets', () => admin.fetchTopicOffsets('golden'));
    await attempt('fetchTopicOffsetsByTimestamp', () =>
      admin.fetchTopicOffsetsByTimestamp('golden', 1_700_000_000_000),
    );
    await attempt('deleteTopicRecords', () =>
      admin.deleteTopicRecords({ topic: 'golden', partitions: [{ partition: 0, offset: '1' }] }),
    );
    await attempt('describeCluster', () => admin.describeCluster());
    await attempt('disconnect', () => admin.disconnect());
    const txp = kafka.producer({
      transactionalId: 'tx-1',
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 1 },
    });
    await attempt(
      'txn',
      async () => {
        await txp.connect();
        const txn = await txp.transaction();
        await txn.send({ topic: 'golden', messages: [{ value: 'x' }] });
        await txn.sendOffsets({
          consumerGroupId: 'g',
          topics: [{ topic: 'golden', partitions: [{ partition: 0, offset: '1' }] }],
        });
        await txn.commit();
      },
      6000,
    );
    await attempt('txn disconnect', () => txp.disconnect());
    const keys = verify(responder, t);
    for (const k of [18, 3, 2, 10, 16, 19, 20, 21, 22, 32, 33, 37])
      assert.ok(keys.has(String(k)), `kafkajs sent API ${k}`);
  });

  it('@platformatic/kafka', { timeout: 60_000 }, async (t) => {
    responder.captured.length = 0;
    const { Admin } = await import('@platformatic/kafka');
    const admin = new Admin({
      clientId: 'golden-admin',
      bootstrapBrokers: [`127.0.0.1:${responder.port}`],
      retries: 0,
      timeout: 2000,
    });
    const a = admin as unknown as Record<string, (o: unknown) => Promise<unknown>>;
    const call = (name: string, o: unknown) =>
      attempt(name, () => (a[name] as (o: unknown) => Promise<unknown>).call(admin, o));
    await call('createTopics', { topics: ['a'], partitions: 2, replicas: 1 });
    await call('createPartitions', { topics: [{ name: 'golden', count: 3, assignments: [] }] });
    await call('deleteTopics', { topics: ['a'] });
    await call('listGroups', {});
    await call('describeGroups', { groups: ['g'] });
    await call('deleteGroups', { groups: ['g'] });
    await call('describeConfigs', {
      resources: [{ resourceType: 2, resourceName: 'golden', configurationKeys: ['retention.ms'] }],
    });
    await call('alterConfigs', {
      resources: [
        { resourceType: 2, resourceName: 'golden', configs: [{ name: 'retention.ms', value: '1000' }] },
      ],
    });
    await call('incrementalAlterConfigs', {
      resources: [
        {
          resourceType: 2,
          resourceName: 'golden',
          configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
        },
      ],
    });
    await call('listConsumerGroupOffsets', { groups: ['g'] });
    await call('alterConsumerGroupOffsets', {
      groupId: 'g',
      topics: [{ name: 'golden', partitionOffsets: [{ partition: 0, offset: 5n }] }],
    });
    await call('deleteConsumerGroupOffsets', {
      groupId: 'g',
      topics: [{ name: 'golden', partitionIndexes: [0] }],
    });
    await call('deleteRecords', { topics: [{ name: 'golden', partitions: [{ partition: 0, offset: 1n }] }] });
    await call('listOffsets', {
      topics: [{ name: 'golden', partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    });
    await call('removeMembersFromConsumerGroup', { groupId: 'g', members: [{ memberId: 'm-1' }] });
    await call('findCoordinator', { keyType: 0, keys: ['g'] });
    await attempt('close', () => admin.close());
    const keys = verify(responder, t);
    for (const k of [18, 3, 2, 10, 16, 19, 20, 21, 32, 33, 37, 44])
      assert.ok(keys.has(String(k)), `platformatic sent API ${k}`);
  });

  it('@confluentinc/kafka-javascript (librdkafka 2.x)', { timeout: 60_000 }, async (t) => {
    responder.captured.length = 0;
    const { KafkaJS } =
      require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');
    const kafka = new KafkaJS.Kafka({
      kafkaJS: {
        brokers: [`127.0.0.1:${responder.port}`],
        clientId: 'golden-admin',
        logLevel: KafkaJS.logLevel.NOTHING,
      },
    });
    const admin = kafka.admin();
    await attempt('connect', () => admin.connect());
    await attempt('createTopics', () =>
      admin.createTopics({ topics: [{ topic: 'a', numPartitions: 2 }], timeout: 1000 }),
    );
    await attempt('deleteTopics', () => admin.deleteTopics({ topics: ['a'], timeout: 1000 }));
    await attempt('listGroups', () => admin.listGroups({ timeout: 1000 }));
    // Not describeGroups: on the responder's all-defaults answer the binding occasionally
    // crashes the test process (SIGSEGV: a NULL string from librdkafka's group description
    // reaches strlen; seen 4 times in ~40 loaded runs). Its DescribeGroups request is covered by
    // kafkajs above and, against the real broker, by test/cli's `groups describe`.
    await attempt('deleteGroups', () => admin.deleteGroups(['g'], { timeout: 1000 }));
    await attempt('fetchOffsets', () =>
      admin.fetchOffsets({ groupId: 'g', topics: ['golden'], timeout: 1000 }),
    );
    await attempt('deleteTopicRecords', () =>
      admin.deleteTopicRecords({
        topic: 'golden',
        partitions: [{ partition: 0, offset: '1' }],
        operationTimeout: 1000,
      }),
    );
    await attempt('fetchTopicOffsets', () =>
      admin.fetchTopicOffsets('golden', {
        timeout: 1000,
        isolationLevel: KafkaJS.IsolationLevel.READ_UNCOMMITTED,
      }),
    );
    await attempt('disconnect', () => admin.disconnect());
    const producer = kafka.producer({ kafkaJS: { idempotent: true } });
    await attempt(
      'idempotent produce',
      async () => {
        await producer.connect();
        await producer.send({ topic: 'golden', messages: [{ value: 'x' }] });
      },
      4000,
    );
    await attempt('producer disconnect', () => producer.disconnect());
    const keys = verify(responder, t, [3]);
    for (const k of [18, 3, 19, 20, 22]) assert.ok(keys.has(String(k)), `librdkafka sent API ${k}`);
  });
});
