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
  t.diagnostic(captured.map((c) => `api ${c.apiKey} v${c.apiVersion}`).join(', '));
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

  const hasKcat = spawnSync('kcat', ['-V']).status === 0;
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
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
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
