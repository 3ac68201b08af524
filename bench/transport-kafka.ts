/**
 * Kafka transport latency: a Sluice broker in its own process (test/compat/support/txn-broker.ts,
 * real log in a temp dir) and the kafka transport (librdkafka over TCP) in this one. A producer
 * sends one record every PACE ms (timestamp = send time); a GroupConsumer (read_committed)
 * polls (500 records, 100 ms wait) and records now - timestamp for each record: the end-to-end
 * latency the stream runtime sees per hop, at-least-once (no transaction).
 *
 * Two configurations, interleaved rep by rep in the same run:
 *   - `transport`: the transport's settings (config.ts): fetch.wait.max.ms 100, Nagle off,
 *     fetch.error.backoff.ms 50, fetch.queue.backoff.ms 0, linger.ms 5;
 *   - `librdkafka-defaults` (the baseline): the same clients with those four properties put back
 *     to librdkafka's defaults (500, Nagle on, 500, 1000); linger.ms 5 in both.
 * Each rep also runs a transactional variant of both (commit every 20 records, linger 5):
 * latency then includes waiting for the commit, and for a read_committed fetch parked at the
 * broker to see the commit marker (where fetch.wait.max.ms can matter).
 * Prints one JSON object: per configuration the median over reps of p50 / p99 / max, and the
 * ratios to the baseline.
 *   node --import tsx bench/transport-kafka.ts [reps=3] [recordsPerRep=200] [paceMs=10]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafkaTransport, type KafkaTransport } from '../src/transport/index.js';

const REPS = Number(process.argv[2] ?? 3);
const RECORDS = Number(process.argv[3] ?? 200);
const PACE_MS = Number(process.argv[4] ?? 10);
const here = new URL('.', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-transport-'));

const LIBRDKAFKA_DEFAULTS = {
  'fetch.wait.max.ms': 500,
  'socket.nagle.disable': false,
  'fetch.error.backoff.ms': 500,
  'fetch.queue.backoff.ms': 1000,
};

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const median = (xs: number[]) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function startBroker(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, '../test/compat/support/txn-broker.ts'), dir, '0'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
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

interface Rep {
  p50: number;
  p99: number;
  max: number;
}

/** One rep: RECORDS records paced PACE_MS apart through a fresh topic and group. */
async function rep(t: KafkaTransport, name: string, transactional: boolean): Promise<Rep> {
  const topic = `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  await t.admin.ensureTopics([{ topic, partitions: 1 }]);
  const latencies: number[] = [];
  let assigned = false;
  const consumer = t.groupConsumer({
    groupId: `g-${topic}`,
    topics: [topic],
    autoOffsetReset: 'earliest',
    listener: {
      onAssigned: () => {
        assigned = true;
      },
      onRevoked: () => undefined,
      onLost: () => undefined,
    },
  });
  const producer = t.producer(transactional ? { transactionalId: `tx-${topic}` } : {});
  await Promise.all([consumer.start(), producer.connect()]);
  while (!assigned) await consumer.poll(100, 100);
  let stop = false;
  const polling = (async () => {
    while (!stop || latencies.length < RECORDS) {
      const got = await consumer.poll(500, 100);
      const now = Date.now();
      for (const r of got) latencies.push(now - r.timestamp);
      if (stop && got.length === 0 && latencies.length >= RECORDS) break;
    }
  })();
  for (let i = 0; i < RECORDS; i++) {
    if (transactional && i % 20 === 0) producer.beginTransaction();
    void producer.send(topic, 0, [{ key: null, value: Buffer.from(String(i)), timestamp: Date.now() }]);
    if (transactional && i % 20 === 19) await producer.commitTransaction();
    await sleep(PACE_MS);
  }
  if (!transactional) await producer.flush();
  stop = true;
  await polling;
  await producer.close();
  await consumer.close();
  await t.admin.deleteTopics([topic]);
  const sorted = latencies.sort((a, b) => a - b);
  return { p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted.at(-1) ?? 0 };
}

const { child, port } = await startBroker();
const bootstrap = `127.0.0.1:${port}`;
const transports = {
  transport: createKafkaTransport({ bootstrap, clientId: 'bench' }),
  'librdkafka-defaults': createKafkaTransport({
    bootstrap,
    clientId: 'bench-defaults',
    config: LIBRDKAFKA_DEFAULTS,
  }),
};
const results: Record<string, Rep[]> = {
  transport: [],
  'librdkafka-defaults': [],
  'transport-transactional': [],
  'librdkafka-defaults-transactional': [],
};
const t0 = Date.now();
try {
  for (let r = 0; r < REPS; r++) {
    results['librdkafka-defaults']?.push(await rep(transports['librdkafka-defaults'], 'defaults', false));
    results.transport?.push(await rep(transports.transport, 'transport', false));
    results['transport-transactional']?.push(await rep(transports.transport, 'transport-tx', true));
    results['librdkafka-defaults-transactional']?.push(
      await rep(transports['librdkafka-defaults'], 'defaults-tx', true),
    );
  }
} finally {
  await transports.transport.close();
  await transports['librdkafka-defaults'].close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
const summary = Object.fromEntries(
  Object.entries(results).map(([k, reps]) => [
    k,
    {
      p50Ms: median(reps.map((x) => x.p50)),
      p99Ms: median(reps.map((x) => x.p99)),
      maxMs: median(reps.map((x) => x.max)),
      reps: reps.map((x) => [x.p50, x.p99, x.max]),
    },
  ]),
);
const base = summary['librdkafka-defaults'] as { p50Ms: number; p99Ms: number };
const mine = summary.transport as { p50Ms: number; p99Ms: number };
process.stdout.write(
  `${JSON.stringify({
    name: 'transport-kafka-latency',
    events: REPS * RECORDS * 4,
    seconds: round((Date.now() - t0) / 1000),
    paceMs: PACE_MS,
    latency: summary,
    baseline: 'librdkafka-defaults',
    ratioP50: round(mine.p50Ms / Math.max(1, base.p50Ms)),
    ratioP99: round(mine.p99Ms / Math.max(1, base.p99Ms)),
  })}\n`,
);
