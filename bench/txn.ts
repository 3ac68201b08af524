/**
 * Transactions benchmark: a Sluice broker in its own process (real log in a temp dir; data
 * topics flush.ms=-1, `__transaction_state` fsynced per state change as in production) and a
 * librdkafka client (@confluentinc/kafka-javascript, KafkaJS-style API) over TCP. For
 * transactions of 1, 100 and 1000 records of 100 bytes spread over 1 and 8 partitions it runs
 * transactions back to back for a bounded time and reports commits/s, records/s and latency
 * p50/p99 of commit() and of the whole transaction; beside each, the same records produced
 * without a transaction (idempotent producer, one awaited send per "transaction") in the same
 * run. Prints one JSON object.
 *   node --import tsx bench/txn.ts [secondsPerCase=3]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { KafkaJS } =
  require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');

const SECONDS = Number(process.argv[2] ?? 3);
const MAX_TXNS = 2000;
const VALUE = Buffer.alloc(100, 'x');
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-txn-'));
const here = new URL('.', import.meta.url).pathname;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function startBroker(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, '../test/compat/support/txn-broker.ts'), dir, '0'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d) => {
      buf += d;
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error('broker exited')));
  });
  return { child, port };
}

const { child, port } = await startBroker();
try {
  const kafka = new KafkaJS.Kafka({
    kafkaJS: { brokers: [`127.0.0.1:${port}`], clientId: 'bench', logLevel: KafkaJS.logLevel.NOTHING },
  });
  const admin = kafka.admin();
  await admin.connect();
  const cases: { records: number; partitions: number }[] = [];
  for (const records of [1, 100, 1000]) for (const partitions of [1, 8]) cases.push({ records, partitions });
  await admin.createTopics({
    topics: cases.flatMap((c) => [
      { topic: `txn-${c.records}-${c.partitions}`, numPartitions: c.partitions },
      { topic: `plain-${c.records}-${c.partitions}`, numPartitions: c.partitions },
    ]),
  });
  await admin.disconnect();

  const messages = (n: number, partitions: number) =>
    Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: VALUE, partition: i % partitions }));

  const txProducer = kafka.producer({
    kafkaJS: { transactionalId: 'bench-tx', idempotent: true, maxInFlightRequests: 1 },
    'linger.ms': 0,
  } as never);
  await txProducer.connect();
  const plainProducer = kafka.producer({ kafkaJS: { idempotent: true }, 'linger.ms': 0 } as never);
  await plainProducer.connect();

  const results = [];
  for (const c of cases) {
    const msgs = messages(c.records, c.partitions);
    // Transactions.
    const commitMs: number[] = [];
    const txnMs: number[] = [];
    const topic = `txn-${c.records}-${c.partitions}`;
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000 && txnMs.length < MAX_TXNS) {
      const s = performance.now();
      const t = await txProducer.transaction();
      await t.send({ topic, messages: msgs });
      const cs = performance.now();
      await t.commit();
      const e = performance.now();
      commitMs.push(e - cs);
      txnMs.push(e - s);
    }
    const txnSeconds = (performance.now() - t0) / 1000;
    // The same records without a transaction.
    const sendMs: number[] = [];
    const plainTopic = `plain-${c.records}-${c.partitions}`;
    const p0 = performance.now();
    while (performance.now() - p0 < SECONDS * 1000 && sendMs.length < MAX_TXNS) {
      const s = performance.now();
      await plainProducer.send({ topic: plainTopic, messages: msgs });
      sendMs.push(performance.now() - s);
    }
    const plainSeconds = (performance.now() - p0) / 1000;
    commitMs.sort((a, b) => a - b);
    txnMs.sort((a, b) => a - b);
    sendMs.sort((a, b) => a - b);
    results.push({
      recordsPerTxn: c.records,
      partitions: c.partitions,
      transactions: txnMs.length,
      commitsPerSec: round(txnMs.length / txnSeconds, 1),
      recordsPerSec: Math.round((txnMs.length * c.records) / txnSeconds),
      commitLatencyMs: { p50: round(pct(commitMs, 50)), p99: round(pct(commitMs, 99)) },
      txnLatencyMs: { p50: round(pct(txnMs, 50)), p99: round(pct(txnMs, 99)) },
      baselineNonTransactional: {
        sends: sendMs.length,
        sendsPerSec: round(sendMs.length / plainSeconds, 1),
        recordsPerSec: Math.round((sendMs.length * c.records) / plainSeconds),
        sendLatencyMs: { p50: round(pct(sendMs, 50)), p99: round(pct(sendMs, 99)) },
      },
    });
  }
  await txProducer.disconnect();
  await plainProducer.disconnect();
  process.stdout.write(
    `${JSON.stringify({
      name: 'txn',
      client: 'librdkafka (@confluentinc/kafka-javascript) over TCP, broker in a separate process',
      recordBytes: VALUE.length,
      secondsPerCase: SECONDS,
      cases: results,
    })}\n`,
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
