import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';
import { tempDir } from './support/temp-log.js';

const require = createRequire(import.meta.url);

describe('request trace (SLUICE_BROKER_TRACE)', { timeout: 30_000 }, () => {
  it('records the offsets and receive/start/write times of Produce and Fetch responses with kafkajs', {
    timeout: 20_000,
  }, async () => {
    const tmp = tempDir();
    const config = resolveBrokerConfig({
      flags: { port: 0, groupInitialRebalanceDelayMs: 0, dataDir: tmp.dir },
    });
    const broker = await Broker.start(config, { trace: true });
    const plain = await Broker.start(
      resolveBrokerConfig({ flags: { port: 0, dataDir: join(tmp.dir, 'plain') } }),
    );
    try {
      assert.equal(plain.trace, undefined);
      const trace = broker.trace;
      assert.ok(trace !== undefined);
      const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
      const kafka = new Kafka({
        clientId: 't',
        brokers: [`127.0.0.1:${broker.address.port}`],
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer();
      await producer.connect();
      // two requests: offsets 0-2, then 3-4
      await producer.send({ topic: 'traced', messages: ['a', 'b', 'c'].map((value) => ({ value })) });
      await producer.send({ topic: 'traced', messages: ['d', 'e'].map((value) => ({ value })) });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: 'g' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'traced', fromBeginning: true });
      let got = 0;
      await consumer.run({
        eachMessage: async () => {
          got++;
        },
      });
      const deadline = Date.now() + 10_000;
      while (got < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await consumer.disconnect();
      assert.equal(got, 5);

      const produced = trace.produce.filter((r) => r[0] === 'traced');
      assert.deepEqual(
        produced.map((r) => [r[1], r[2]]),
        [
          [0, 2],
          [3, 4],
        ],
      );
      const fetched = trace.fetch.filter((r) => r[0] === 'traced');
      assert.ok(fetched.length >= 1);
      assert.equal(Math.min(...fetched.map((r) => r[1])), 0);
      assert.equal(Math.max(...fetched.map((r) => r[2])), 4);
      for (const [, first, last, receivedAt, startedAt, writtenAt] of [...produced, ...fetched]) {
        assert.ok(first <= last);
        assert.ok(receivedAt > 0 && receivedAt <= startedAt && startedAt <= writtenAt);
      }
      // a Fetch is written after the append of the records it carries
      const appendOf3 = (produced[1] as (typeof produced)[number])[4];
      const fetchOf3 = fetched.find((r) => r[1] <= 3 && r[2] >= 3);
      assert.ok(fetchOf3 !== undefined && fetchOf3[5] >= appendOf3);
      assert.ok(trace.loopSamples > 0);

      const file = join(tmp.dir, 'trace.json');
      trace.writeTo(file);
      const written = JSON.parse(readFileSync(file, 'utf8')) as {
        timeOrigin: number;
        produce: unknown[][];
        fetch: unknown[][];
        dropped: number;
      };
      assert.equal(written.timeOrigin, performance.timeOrigin);
      assert.deepEqual(
        written.produce.filter((r) => r[0] === 'traced').map((r) => [r[1], r[2]]),
        [
          [0, 2],
          [3, 4],
        ],
      );
      assert.equal(written.fetch.length, trace.fetch.length);
      assert.equal(written.dropped, 0);
    } finally {
      await broker.close();
      await plain.close();
      tmp.remove();
    }
  });
});
