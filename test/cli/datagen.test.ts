/**
 * `sluice datagen nexmark` against a real Sluice broker started by the test, read back with an
 * independent client (kafkajs):
 *  - the count, keys (entity id), record timestamps (event time) and murmur2 placement;
 *  - determinism: two runs with the same seed and base time into two topics hold the same
 *    bytes in the same partitions (per-partition sequences compared), another seed differs;
 *  - the decoded events equal the in-process generator's (same seed and settings);
 *  - the real binary on SIGINT: it stops, flushes, prints the summary marked interrupted, exits
 *    0, and the topic holds exactly the number of events the summary reports.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaMessage } from 'kafkajs';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/index.js';
import {
  decodeEvent,
  encodeEvent,
  eventKey,
  type NexmarkEvent,
  NexmarkGenerator,
} from '../../src/connectors/index.js';
import { partitionFor } from '../../src/transport/index.js';
import { cli, startBroker, type TestBroker } from './client-support.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

interface Got {
  partition: number;
  offset: number;
  key: Buffer;
  value: Buffer;
  timestamp: number;
}

/** Reads `n` records of a topic with a kafkajs consumer (fresh group, from the beginning). */
async function consumeAll(bootstrap: string, topic: string, n: number): Promise<Got[]> {
  const kafka = new Kafka({ clientId: 'datagen-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}` });
  const got: Got[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages as KafkaMessage[]) {
          got.push({
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key as Buffer,
            value: m.value as Buffer,
            timestamp: Number(m.timestamp),
          });
        }
      },
    });
    const deadline = Date.now() + 60_000;
    while (got.length < n && Date.now() < deadline) await sleep(50);
    // Anything beyond n would arrive shortly after; give it a moment to show up.
    await sleep(300);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** Per partition, the records in offset order as "key|value|timestamp" strings. */
function byPartition(records: Got[]): Map<number, string[]> {
  const m = new Map<number, Got[]>();
  for (const r of records) {
    const list = m.get(r.partition) ?? [];
    list.push(r);
    m.set(r.partition, list);
  }
  const out = new Map<number, string[]>();
  for (const [p, list] of m) {
    list.sort((a, b) => a.offset - b.offset);
    out.set(
      p,
      list.map((r) => `${r.key.toString('hex')}|${r.value.toString('hex')}|${r.timestamp}`),
    );
  }
  return out;
}

const canonical = (e: NexmarkEvent) => JSON.stringify(e);

describe('sluice datagen nexmark into a real broker', { timeout: 120_000 }, () => {
  let b: TestBroker;
  const N = 20_000;
  const BASE = Math.floor(Date.now() / 1000) * 1000;
  const flags = (topic: string, seed: number) => [
    'datagen',
    'nexmark',
    '--bootstrap',
    b.bootstrap,
    '--topic',
    topic,
    '--events',
    String(N),
    '--seed',
    String(seed),
    '--base-time',
    String(BASE),
    '--event-rate',
    '1000',
    '--partitions',
    '4',
    '--no-progress',
  ];

  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b?.stop();
  });

  it('produces N events; same seed → same bytes per partition; decoded = the in-process generator', async () => {
    const r1 = await cli(...flags('nx-a', 5));
    assert.equal(r1.code, EXIT_OK, r1.err);
    assert.match(
      r1.err,
      new RegExp(`produced ${N} Nexmark events \\(\\d+ persons, \\d+ auctions, \\d+ bids;`),
    );
    const r2 = await cli(...flags('nx-b', 5));
    assert.equal(r2.code, EXIT_OK, r2.err);
    const r3 = await cli(...flags('nx-c', 6));
    assert.equal(r3.code, EXIT_OK, r3.err);

    const [a, bb, c] = await Promise.all([
      consumeAll(b.bootstrap, 'nx-a', N),
      consumeAll(b.bootstrap, 'nx-b', N),
      consumeAll(b.bootstrap, 'nx-c', N),
    ]);
    assert.equal(a.length, N, 'count in nx-a');
    assert.equal(bb.length, N, 'count in nx-b');
    assert.equal(c.length, N, 'count in nx-c');

    // Determinism: same seed, same bytes, same partitions, same order within each partition.
    const pa = byPartition(a);
    assert.equal(pa.size, 4, 'keys spread over the 4 partitions');
    assert.deepEqual(pa, byPartition(bb));
    assert.notDeepEqual(pa, byPartition(c), 'another seed gives other data');

    // Content: the decoded events are the in-process generator's, keyed and timestamped.
    const gen = new NexmarkGenerator({ seed: 5, baseTime: BASE, firstEventRate: 1000 });
    const want: NexmarkEvent[] = new Array(N);
    gen.nextBatch(want, N);
    const decoded = a.map((r) => decodeEvent(r.value));
    assert.deepEqual(decoded.map(canonical).sort(), want.map(canonical).sort());
    for (let i = 0; i < a.length; i++) {
      const e = decoded[i];
      assert.equal(a[i].key.toString(), String(eventKey(e)));
      assert.equal(a[i].timestamp, e.dateTime, 'record timestamp = event time');
      assert.equal(a[i].partition, partitionFor(a[i].key, 4), "Kafka's murmur2 placement");
    }
    // Per partition, the events keep the generator's order (a single producer, in order).
    const order = new Map(want.map((e, i) => [encodeEvent(e).value.toString(), i]));
    for (const list of byPartition(a).values()) {
      const idx = list.map((s) => order.get(Buffer.from(s.split('|')[1], 'hex').toString()) as number);
      assert.deepEqual(
        idx,
        [...idx].sort((x, y) => x - y),
      );
    }
  });

  it('refuses an existing topic with another partition count, and a bad flag', async () => {
    const r = await cli(...flags('nx-a', 5).map((f) => (f === '4' ? '2' : f)));
    assert.notEqual(r.code, EXIT_OK);
    assert.match(r.err, /exists with 4 partition\(s\), not --partitions 2/);
    const bad = await cli('datagen', 'nexmark', '--topic', 't', '--rate', '-1');
    assert.equal(bad.code, EXIT_USAGE);
  });

  it('the real binary: SIGINT stops, flushes and reports; the topic holds what it reports', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'datagen',
        'nexmark',
        '--bootstrap',
        b.bootstrap,
        '--topic',
        'nx-int',
        '--rate',
        '2000',
        '--partitions',
        '2',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_LOG_LEVEL: 'silent' } },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      // Wait for a progress line (generation is under way), then interrupt.
      const deadline = Date.now() + 45_000;
      while (!/datagen nexmark: [\d,]+ events/.test(stderr) && Date.now() < deadline) await sleep(50);
      assert.match(stderr, /datagen nexmark: [\d,]+ events/, 'a progress line on stderr');
      child.kill('SIGINT');
      const [code] = await once(child, 'close');
      assert.equal(code, 0, stderr);
    } finally {
      clearTimeout(killer);
    }
    const m = /produced (\d+) Nexmark events .* \(interrupted by SIGINT\)/.exec(stderr);
    assert.ok(m, stderr);
    const n = Number(m[1]);
    assert.ok(n > 0);
    const got = await consumeAll(b.bootstrap, 'nx-int', n);
    assert.equal(got.length, n, 'every event reported is in the topic, and no more');
  });
});
