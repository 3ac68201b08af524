/**
 * Golden tests against real clients' bytes: kafkajs, @platformatic/kafka, librdkafka (kcat and
 * @confluentinc/kafka-javascript) connect to a minimal responder that answers with Sluice's
 * encoder. Every frame they send must decode with no bytes left over and re-encode to the same
 * bytes; and each client must accept our ApiVersions and Metadata responses (it reports the
 * broker and the topic back). Each test is bounded (< 15 s) and closes what it opened.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { decodeRequest, encodeRequest } from '../../src/protocol/index.js';
import { type Captured, Responder } from './support/responder.js';

const require = createRequire(import.meta.url);

function checkFrames(captured: Captured[], expectKeys: number[], t: { diagnostic(m: string): void }): void {
  t.diagnostic(
    captured
      .slice(0, 24)
      .map((c) => `api ${c.apiKey} v${c.apiVersion}`)
      .join(', '),
  );
  const keys = new Set(captured.map((c) => c.apiKey));
  for (const k of expectKeys) assert.ok(keys.has(k), `client sent API ${k} (sent ${[...keys].join(', ')})`);
  for (const c of captured) {
    const d = decodeRequest(c.frame);
    assert.equal(d.trailingBytes, 0, `API ${c.apiKey} v${c.apiVersion}: bytes left over`);
    const again = encodeRequest(d.apiKey, d.apiVersion, d.correlationId, d.clientId, d.body as never);
    assert.deepStrictEqual(
      again.subarray(4),
      c.frame,
      `API ${c.apiKey} v${c.apiVersion}: re-encodes to the client's bytes`,
    );
  }
}

/** Produce frames carry record batches v2 whose lengths tile the records field exactly. */
function checkProduceRecords(captured: Captured[]): number {
  let batches = 0;
  for (const c of captured) {
    if (c.apiKey !== 0) continue;
    const d = decodeRequest(c.frame);
    assert.ok(d.apiKey === 0);
    for (const t of d.body.topicData) {
      assert.equal(t.name, 'golden');
      for (const p of t.partitionData) {
        const rec = p.records as Buffer;
        let pos = 0;
        while (pos < rec.length) {
          assert.equal(rec[pos + 16], 2, 'record batch magic 2');
          pos += 12 + rec.readInt32BE(pos + 8);
          batches++;
        }
        assert.equal(pos, rec.length, 'batches tile the records field');
      }
    }
  }
  assert.ok(batches > 0, 'at least one record batch');
  return batches;
}

function runKcat(
  args: string[],
  input: string | null,
  ms: number,
): Promise<{ code: number | null; out: string; err: string }> {
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
  return withTimeout(
    new Promise<number | null>((res) => child.on('close', res)),
    ms,
    `kcat ${args.join(' ')}`,
  )
    .then((code) => ({ code, out, err }))
    .finally(() => child.kill('SIGKILL'));
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

describe('golden: real clients against Sluice encodings', { timeout: 60_000 }, () => {
  let responder: Responder;
  before(async () => {
    responder = new Responder(['golden']);
    await responder.start();
  });
  after(async () => {
    await responder.stop();
  });

  it('kafkajs: ApiVersions and Metadata decode, and it reads our metadata', {
    timeout: 15_000,
  }, async (t) => {
    responder.captured.length = 0;
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    const kafka = new Kafka({
      clientId: 'golden-kafkajs',
      brokers: [`127.0.0.1:${responder.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect(), 10_000, 'kafkajs connect');
      const md = await withTimeout(
        admin.fetchTopicMetadata({ topics: ['golden'] }),
        10_000,
        'kafkajs metadata',
      );
      assert.equal(md.topics[0]?.name, 'golden');
      assert.equal(md.topics[0]?.partitions[0]?.leader, 1);
    } finally {
      await admin.disconnect();
    }
    assert.deepEqual(responder.errors, []);
    checkFrames(responder.captured, [18, 3], t);
  });

  it('@platformatic/kafka: ApiVersions and Metadata decode, and it reads our metadata', {
    timeout: 15_000,
  }, async (t) => {
    responder.captured.length = 0;
    const { Admin } = await import('@platformatic/kafka');
    const admin = new Admin({
      clientId: 'golden-platformatic',
      bootstrapBrokers: [`127.0.0.1:${responder.port}`],
      retries: 0,
    });
    try {
      const md = await withTimeout(admin.metadata({ topics: ['golden'] }), 10_000, 'platformatic metadata');
      assert.equal(md.id, 'sluice-golden');
      assert.ok(md.topics.has('golden'));
      assert.equal(md.brokers.get(1)?.port, responder.port);
    } finally {
      await admin.close();
    }
    assert.deepEqual(responder.errors, []);
    checkFrames(responder.captured, [18, 3], t);
  });

  it('kafkajs producer: Produce frames decode, re-encode identically and carry whole record batches', {
    timeout: 15_000,
  }, async (t) => {
    responder.captured.length = 0;
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    const kafka = new Kafka({
      clientId: 'golden-kafkajs',
      brokers: [`127.0.0.1:${responder.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      await withTimeout(producer.connect(), 10_000, 'kafkajs producer connect');
      const res = await withTimeout(
        producer.send({
          topic: 'golden',
          messages: [{ key: 'k', value: 'v', headers: { h: '1' } }, { value: 'w' }],
        }),
        10_000,
        'kafkajs send',
      );
      assert.equal(res[0]?.errorCode, 0);
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual(responder.errors, []);
    checkFrames(responder.captured, [18, 3, 0], t);
    checkProduceRecords(responder.captured);
  });

  it('@platformatic/kafka producer: Produce frames decode and re-encode identically', {
    timeout: 15_000,
  }, async (t) => {
    responder.captured.length = 0;
    const { Producer, stringSerializers } = await import('@platformatic/kafka');
    const producer = new Producer({
      clientId: 'golden-platformatic',
      bootstrapBrokers: [`127.0.0.1:${responder.port}`],
      serializers: stringSerializers,
      retries: 0,
    });
    try {
      const res = await withTimeout(
        producer.send({ messages: [{ topic: 'golden', key: 'k', value: 'v', partition: 0 }] }),
        10_000,
        'platformatic send',
      );
      assert.equal(res.offsets?.[0]?.offset, BigInt(res.offsets?.[0]?.offset ?? 0));
    } finally {
      await producer.close();
    }
    assert.deepEqual(responder.errors, []);
    checkFrames(responder.captured, [18, 3, 0], t);
    checkProduceRecords(responder.captured);
  });

  const hasKcat = spawnSync('kcat', ['-V']).status === 0;
  it('kcat -P and kcat -C -e (librdkafka): Produce, ListOffsets and Fetch frames decode; our Fetch reads as end of partition', {
    timeout: 15_000,
    skip: hasKcat ? false : 'kcat not on PATH',
  }, async (t) => {
    responder.captured.length = 0;
    const broker = `127.0.0.1:${responder.port}`;
    const p = await runKcat(
      ['-P', '-b', broker, '-t', 'golden', '-p', '0', '-K', ':', '-z', 'none'],
      'k1:v1\nk2:v2\n',
      6_000,
    );
    assert.equal(p.code, 0, p.err);
    const c = await runKcat(
      ['-C', '-b', broker, '-t', 'golden', '-p', '0', '-o', 'beginning', '-e', '-q'],
      null,
      6_000,
    );
    assert.equal(c.code, 0, c.err);
    assert.equal(c.out, '');
    assert.deepEqual(responder.errors, []);
    checkFrames(responder.captured, [18, 3, 0, 1], t);
    checkProduceRecords(responder.captured);
  });

  it('kcat (librdkafka): kcat -L lists our broker and topic', {
    timeout: 15_000,
    skip: hasKcat ? false : 'kcat not on PATH',
  }, async (t) => {
    responder.captured.length = 0;
    const child = spawn(
      'kcat',
      ['-L', '-J', '-b', `127.0.0.1:${responder.port}`, '-t', 'golden', '-m', '8'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    const code = await withTimeout(
      new Promise<number | null>((res) => child.on('close', res)),
      12_000,
      'kcat -L',
    ).finally(() => child.kill('SIGKILL'));
    assert.equal(code, 0, err);
    const md = JSON.parse(out) as {
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: unknown[] }[];
    };
    assert.deepEqual(
      md.brokers.map((b) => b.id),
      [1],
    );
    assert.equal(md.topics[0]?.topic, 'golden');
    assert.equal(md.topics[0]?.partitions.length, 1);
    assert.deepEqual(responder.errors, []);
    checkFrames(responder.captured, [18, 3], t);
  });

  it('@confluentinc/kafka-javascript (librdkafka 2.x): admin fetchTopicMetadata', {
    timeout: 15_000,
  }, async (t) => {
    responder.captured.length = 0;
    const { KafkaJS } =
      require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');
    const kafka = new KafkaJS.Kafka({
      kafkaJS: {
        brokers: [`127.0.0.1:${responder.port}`],
        clientId: 'golden-confluent',
        logLevel: KafkaJS.logLevel.NOTHING,
      },
    });
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect(), 10_000, 'confluent connect');
      const md = await withTimeout(
        admin.fetchTopicMetadata({ topics: ['golden'] }),
        10_000,
        'confluent metadata',
      );
      assert.equal(md[0]?.name, 'golden');
      assert.equal(md[0]?.partitions[0]?.leader, 1);
    } finally {
      await admin.disconnect();
    }
    assert.deepEqual(responder.errors, []);
    checkFrames(responder.captured, [18, 3], t);
  });
});
