import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';
import { isSluiceError } from '../../src/common/index.js';
import { MemoryLogStore } from './support/memory-log.js';

const require = createRequire(import.meta.url);

describe('broker configuration', () => {
  it('merges defaults < config file < environment < flags', () => {
    const d = resolveBrokerConfig();
    assert.equal(d.port, 9092);
    assert.equal(d.advertisedHost, d.host);
    assert.equal(d.sasl.enabled, false);
    const c = resolveBrokerConfig({
      file: { port: 9000, defaultPartitions: 3, dataDir: '/data', topicDefaults: { 'retention.ms': 1000 } },
      env: { SLUICE_BROKER_PORT: '9100', SLUICE_BROKER_AUTO_CREATE_TOPICS: 'false', UNRELATED: 'x' },
      flags: { port: 9200, advertisedHost: 'broker.example' },
    });
    assert.equal(c.port, 9200);
    assert.equal(c.autoCreateTopics, false);
    assert.equal(c.defaultPartitions, 3);
    assert.equal(c.dataDir, '/data');
    assert.equal(c.advertisedHost, 'broker.example');
    assert.equal(c.advertisedPort, 9200);
    assert.deepEqual(c.topicDefaults, { 'retention.ms': 1000 });
  });

  it('refuses bad values and unknown settings, naming the key and the source', () => {
    const bad: [Parameters<typeof resolveBrokerConfig>[0], RegExp][] = [
      [{ flags: { port: 70000 } }, /flags: port=70000/],
      [{ env: { SLUICE_BROKER_MAX_REQUEST_BYTES: 'lots' } }, /environment: maxRequestBytes/],
      [{ file: { defaultPartitions: 0 } }, /config file: defaultPartitions=0 must be at least 1/],
      [{ flags: { prot: 1 } }, /prot.* is not a broker setting/],
      [{ file: { sasl: { users: [] } } }, /sasl.users/],
      [
        { file: { sasl: { mechanisms: ['GSSAPI'], users: [{ name: 'a', password: 'b' }] } } },
        /sasl.mechanisms/,
      ],
      [
        { file: { groupMinSessionTimeoutMs: 10_000, groupMaxSessionTimeoutMs: 5000 } },
        /groupMaxSessionTimeoutMs/,
      ],
    ];
    for (const [sources, message] of bad) {
      assert.throws(
        () => resolveBrokerConfig(sources),
        (e) => isSluiceError(e, 'INVALID_CONFIG') && message.test(e.message),
        String(message),
      );
    }
  });
});

describe('Broker', { timeout: 30_000 }, () => {
  it('starts from a configuration (port 0, SASL SCRAM) and serves kafkajs end to end', {
    timeout: 20_000,
  }, async () => {
    const config = resolveBrokerConfig({
      flags: { port: 0, groupInitialRebalanceDelayMs: 0 },
      file: { sasl: { mechanisms: ['SCRAM-SHA-256'], users: [{ name: 'app', password: 'pw' }] } },
    });
    const broker = await Broker.start(config, { logs: new MemoryLogStore() });
    try {
      assert.ok(broker.address.port > 0);
      const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
      const kafka = new Kafka({
        clientId: 'b',
        brokers: [`127.0.0.1:${broker.address.port}`],
        logLevel: logLevel.NOTHING,
        sasl: { mechanism: 'scram-sha-256', username: 'app', password: 'pw' },
      });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: 'orders',
        messages: [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ],
      });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: 'g' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'orders', fromBeginning: true });
      const got: string[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => void got.push(`${message.key}=${message.value}`),
      });
      const deadline = Date.now() + 10_000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await consumer.disconnect();
      assert.deepEqual(got.sort(), ['a=1', 'b=2']);
      assert.equal(broker.cluster.describeTopic('orders')?.partitions, 1);
    } finally {
      await broker.close();
    }
  });
});
