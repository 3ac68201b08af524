/**
 * Consumer groups through the real server with real clients: kafkajs and librdkafka
 * (@confluentinc/kafka-javascript) consumers join one group, split the partitions, rebalance
 * when a member leaves, and commit offsets that fetch back. The group handlers and the
 * coordinator are the real ones; Metadata, ListOffsets and Fetch are answered by small test
 * handlers for one empty topic (the log-backed ones come with the Cluster).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupCoordinator, groupHandlers, KafkaServer, MemoryOffsetStore } from '../../src/broker/index.js';
import { decodeConsumerAssignment } from '../../src/protocol/index.js';

const require = createRequire(import.meta.url);
const TOPIC = 'orders';
const PARTITIONS = 6;

describe('consumer groups with real clients', { timeout: 90_000 }, () => {
  let server: KafkaServer;
  let port = 0;
  const coordinator = new GroupCoordinator({ initialRebalanceDelayMs: 500 });
  const offsets = new MemoryOffsetStore();

  before(async () => {
    const node = { nodeId: 1, host: '127.0.0.1', port: 0 };
    server = new KafkaServer({
      port: 0,
      handlers: {
        ...groupHandlers({
          node,
          coordinator,
          offsets,
          partitionExists: (t, p) => t === TOPIC && p >= 0 && p < PARTITIONS,
        }),
        3: (req) => ({
          brokers: [{ ...node, rack: null }],
          clusterId: 'sluice-groups',
          controllerId: 1,
          topics: (req.body.topics === null ? [TOPIC] : req.body.topics.map((t) => t.name ?? '')).map(
            (name) => ({
              errorCode: name === TOPIC ? 0 : 3,
              name,
              partitions:
                name === TOPIC
                  ? Array.from({ length: PARTITIONS }, (_, i) => ({
                      partitionIndex: i,
                      leaderId: 1,
                      replicaNodes: [1],
                      isrNodes: [1],
                    }))
                  : [],
            }),
          ),
        }),
        2: (req) => ({
          topics: req.body.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode: 0,
              offset: 0,
              timestamp: -1,
            })),
          })),
        }),
        1: async (req) => {
          await sleep(Math.min(req.body.maxWaitMs, 200));
          return {
            responses: req.body.topics.map((t) => ({
              topic: t.topic,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partition,
                highWatermark: 0,
                lastStableOffset: 0,
                logStartOffset: 0,
              })),
            })),
          };
        },
      },
    });
    ({ port } = await server.listen());
    node.port = port;
  });

  after(async () => {
    coordinator.shutdown();
    await server.close();
  });

  /** Partitions assigned per member, read from the coordinator with the consumer protocol codec. */
  function assignment(groupId: string): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const d = coordinator.describe(groupId);
    if (d === undefined || d.state !== 'Stable') return out;
    for (const m of d.members) {
      const a = m.assignment.length === 0 ? [] : decodeConsumerAssignment(m.assignment).assignedPartitions;
      out.set(
        m.memberId,
        a.flatMap((t) => (t.topic === TOPIC ? t.partitions : [])).sort((x, y) => x - y),
      );
    }
    return out;
  }

  async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(coordinator.list())}`);
      await sleep(100);
    }
  }

  const splitAmong = (groupId: string, n: number) => () => {
    const a = assignment(groupId);
    if (a.size !== n) return false;
    const all = [...a.values()].flat().sort((x, y) => x - y);
    return (
      all.length === PARTITIONS &&
      all.every((p, i) => p === i) &&
      [...a.values()].every((ps) => ps.length > 0)
    );
  };

  it('kafkajs: three members split six partitions, rebalance when one leaves, commit offsets', {
    timeout: 60_000,
  }, async () => {
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    const kafka = new Kafka({ clientId: 'kjs', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const consumers = [0, 1, 2].map(() =>
      kafka.consumer({
        groupId: 'kjs',
        heartbeatInterval: 300,
        sessionTimeout: 10_000,
        rebalanceTimeout: 10_000,
      }),
    );
    try {
      for (const c of consumers) {
        await c.connect();
        await c.subscribe({ topic: TOPIC, fromBeginning: true });
        await c.run({ eachMessage: async () => {} });
      }
      await until('3 members to split the partitions', splitAmong('kjs', 3), 30_000);
      await (consumers[2] as (typeof consumers)[number]).disconnect(); // LeaveGroup
      await until('2 members to split the partitions', splitAmong('kjs', 2), 20_000);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const groups = await admin.describeGroups(['kjs']);
        assert.equal(groups.groups[0]?.state, 'Stable');
        assert.equal(groups.groups[0]?.members.length, 2);
        const listed = await admin.listGroups();
        assert.ok(listed.groups.some((g) => g.groupId === 'kjs'));
      } finally {
        await admin.disconnect();
      }
      const mine = [...assignment('kjs').values()];
      await (consumers[0] as (typeof consumers)[number]).commitOffsets(
        (mine[0] ?? []).map((p) => ({ topic: TOPIC, partition: p, offset: String(10 + p) })),
      );
      for (const p of mine[0] ?? []) assert.equal(offsets.fetch('kjs', TOPIC, p)?.offset, 10 + p);
    } finally {
      for (const c of consumers) await c.disconnect().catch(() => {});
    }
    await until('the group to empty', () => coordinator.describe('kjs')?.state === 'Empty', 10_000);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const fetched = await admin.fetchOffsets({ groupId: 'kjs', topics: [TOPIC] });
      const committed = fetched[0]?.partitions.filter((p) => p.offset !== '-1') ?? [];
      assert.ok(committed.length > 0);
      for (const p of committed) assert.equal(Number(p.offset), 10 + p.partition);
      await admin.deleteGroups(['kjs']);
      assert.equal(offsets.committed('kjs').length, 0);
    } finally {
      await admin.disconnect();
    }
  });
  it('librdkafka (@confluentinc/kafka-javascript): cooperative-sticky members split the partitions and rebalance on leave', {
    timeout: 60_000,
  }, async () => {
    const { KafkaJS } =
      require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');
    const kafka = new KafkaJS.Kafka({
      kafkaJS: { brokers: [`127.0.0.1:${port}`], clientId: 'rdk', logLevel: KafkaJS.logLevel.NOTHING },
    });
    const consumers = [0, 1, 2].map(() =>
      kafka.consumer({
        kafkaJS: {
          groupId: 'rdk',
          fromBeginning: true,
          sessionTimeout: 10_000,
          heartbeatInterval: 300,
          rebalanceTimeout: 10_000,
        },
        'partition.assignment.strategy': 'cooperative-sticky',
      }),
    );
    try {
      for (const c of consumers) {
        await c.connect();
        await c.subscribe({ topics: [TOPIC] });
        await c.run({ eachMessage: async () => {} });
      }
      await until('3 librdkafka members to split the partitions', splitAmong('rdk', 3), 40_000);
      assert.equal(coordinator.describe('rdk')?.protocol, 'cooperative-sticky');
      await (consumers[1] as (typeof consumers)[number]).disconnect();
      await until('2 librdkafka members to split the partitions', splitAmong('rdk', 2), 30_000);
    } finally {
      for (const c of consumers) await c.disconnect().catch(() => {});
    }
  });
});
