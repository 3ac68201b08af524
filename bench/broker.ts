/**
 * Broker benchmark through the TCP server with a librdkafka client
 * (@confluentinc/kafka-javascript, its native RdKafka API). Prints ONE JSON object.
 *
 * The broker runs as a child process (`sluice broker` on a temp data dir, --flush-ms from
 * BENCH_FLUSH_MS, default -1: page cache, as Kafka's default of no fsync), so client and broker
 * have their own event loops; both share this machine's cores. Workloads:
 *   - produce throughput: 100-byte and 1 KiB values, acks=1 and acks=all (-1), one partition,
 *     linger.ms 5, batches up to 1 MiB / 10 000 records, no compression; measured from the first
 *     produce() to the end of flush() (every record acknowledged).
 *   - consume throughput: the same records read back from offset 0 (KafkaConsumer.consume in
 *     batches of 10 000).
 *   - latency: 50 000 records/s (BENCH_LAT_RATE) for BENCH_LAT_S seconds (default 5, first
 *     second discarded), 100-byte values carrying their send time; produce-to-consume
 *     p50/p99/p999 in ms, client settings as in latency() below; then the same at a tenth of
 *     the rate, and for each window the timer lateness of an idle probe process (how long a
 *     runnable process waits for a core on this shared machine). BENCH_LAT_BATCH caps the
 *     records one consume call returns (default 10 000).
 * Beside each: the log's own append rate in the same run (PartitionLog.append of pre-encoded
 * batches of the same records, 1 MiB each, same flush.ms, no network, no broker).
 * BENCH_PROFILE=<dir> runs the broker with --cpu-prof and adds its top self-time functions.
 *   node --import tsx bench/broker.ts      (BENCH_N100=1000000 BENCH_N1K=250000 BENCH_ONLY=latency)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PartitionLog } from '../src/log/index.js';
import { encodeRecordBatch } from '../src/protocol/index.js';
import { quantile, round } from './support/stats.js';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: the native client's objects, loosely typed here
type Native = any;
const { Producer, KafkaConsumer } = (
  require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript')
).RdKafka as unknown as {
  Producer: new (conf: Record<string, unknown>) => Native;
  KafkaConsumer: new (conf: Record<string, unknown>, topicConf: Record<string, unknown>) => Native;
};

const ROOT = new URL('..', import.meta.url).pathname;
const FLUSH_MS = Number(process.env.BENCH_FLUSH_MS ?? -1);
const N100 = Number(process.env.BENCH_N100 ?? 1_000_000);
const N1K = Number(process.env.BENCH_N1K ?? 250_000);
const LAT_S = Number(process.env.BENCH_LAT_S ?? 5);
const LAT_RATE = Number(process.env.BENCH_LAT_RATE ?? 50_000);
/** Most records one consume call of the latency run returns (BENCH_LAT_BATCH). */
const LAT_BATCH = Number(process.env.BENCH_LAT_BATCH ?? 10_000);
const PROFILE = process.env.BENCH_PROFILE;
/** BENCH_ONLY=latency skips the throughput workloads (the latency run and its log baseline only). */
const ONLY = process.env.BENCH_ONLY;
const MB = 1e6;

const work = mkdtempSync(join(tmpdir(), 'sluice-bench-broker-'));

async function startBroker(): Promise<{ child: ChildProcess; bootstrap: string }> {
  const args = [
    ...(PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`]),
    '--import',
    'tsx',
    join(ROOT, 'src/cli/main.ts'),
    'broker',
    '--port',
    '0',
    '--data-dir',
    join(work, 'broker'),
    '--flush-ms',
    String(FLUSH_MS),
  ];
  if (PROFILE !== undefined) mkdirSync(PROFILE, { recursive: true });
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker exited ${code}`)));
  });
  return { child, bootstrap: `127.0.0.1:${port}` };
}

async function connected(client: Native): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    client.connect({}, (err: unknown) => (err ? reject(err) : resolve())),
  );
}

async function produce(bootstrap: string, topic: string, n: number, size: number, acks: number) {
  const p = new Producer({
    'bootstrap.servers': bootstrap,
    acks,
    'linger.ms': 5,
    'batch.num.messages': 10_000,
    'batch.size': 1024 * 1024,
    'queue.buffering.max.messages': 1_000_000,
    'queue.buffering.max.kbytes': 1024 * 1024,
    'compression.type': 'none',
    'enable.idempotence': false,
  });
  await connected(p);
  p.setPollInterval(10);
  const value = Buffer.alloc(size, 0x61);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    try {
      p.produce(topic, 0, value, null, Date.now());
    } catch {
      // local queue full: let librdkafka deliver, then retry this record
      p.poll();
      await sleep(1);
      i--;
    }
  }
  await new Promise<void>((resolve, reject) =>
    p.flush(120_000, (err: unknown) => (err ? reject(err) : resolve())),
  );
  const s = (performance.now() - t0) / 1000;
  await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  return { recordsPerSec: Math.round(n / s), MBps: round((n * size) / MB / s), seconds: round(s, 2) };
}

async function consume(bootstrap: string, topic: string, n: number, size: number) {
  const c = new KafkaConsumer(
    {
      'bootstrap.servers': bootstrap,
      'group.id': `bench-${topic}-${Date.now()}`,
      'enable.auto.commit': false,
      'fetch.max.bytes': 64 * 1024 * 1024,
      'max.partition.fetch.bytes': 16 * 1024 * 1024,
      'queued.max.messages.kbytes': 256 * 1024,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await connected(c);
  c.assign([{ topic, partition: 0, offset: 0 }]);
  const t0 = performance.now();
  let got = 0;
  while (got < n) {
    got += await new Promise<number>((resolve, reject) =>
      c.consume(10_000, (err: unknown, msgs: unknown[]) => (err ? reject(err) : resolve(msgs.length))),
    );
  }
  const s = (performance.now() - t0) / 1000;
  await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  return { recordsPerSec: Math.round(n / s), MBps: round((n * size) / MB / s), seconds: round(s, 2) };
}

/**
 * A process with nothing to do but a 1 ms interval timer: how late the timer fires is how long
 * a runnable process waits for a core on this machine right now (other load), independent of
 * Sluice. Started for a latency window, stopped with SIGTERM; prints its lateness percentiles.
 */
const PROBE = `
const late = [];
let prev = performance.now();
const t = setInterval(() => { const n = performance.now(); late.push(n - prev - 1); prev = n; }, 1);
process.on('SIGTERM', () => {
  clearInterval(t);
  late.sort((a, b) => a - b);
  const q = (p) => Math.round(100 * Math.max(0, late[Math.min(late.length - 1, Math.floor(p * late.length))] ?? 0)) / 100;
  process.stdout.write(JSON.stringify({ p50ms: q(0.5), p99ms: q(0.99), p999ms: q(0.999), maxMs: q(1) }));
  process.exit(0);
});`;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function processCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function startProbe(): () => Promise<Record<string, number>> {
  const child = spawn(process.execPath, ['-e', PROBE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  return async () => {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    return JSON.parse(out) as Record<string, number>;
  };
}

/**
 * Produce-to-consume latency at a fixed rate, with the client set up as a latency-sensitive
 * application would (see README "Performance" and docs/protocol-and-broker.md):
 *   - producer: linger.ms 0 (send at once; librdkafka still batches what queues up while a
 *     request is in flight), acks 1.
 *   - consumer: fetch.min.bytes 1 (the broker answers as soon as there is data: a long poll
 *     is woken by the append), fetch.wait.max.ms 100 (only bounds an idle poll),
 *     fetch.queue.backoff.ms 10 (librdkafka 2.x postpones fetching for this long when its local
 *     queue is above queued.min.messages, i.e. after the application fell behind; the default
 *     1000 turns a short stall into a second of latency).
 *   - consumption: block for the first record (consume(1) with a 100 ms timeout), then take
 *     only what is already queued (consume(10 000) with timeout 0). consume(n) with a timeout
 *     keeps collecting until n records or a gap as long as the timeout, so at 50 000
 *     records/s a 1 ms timeout never sees a gap and holds records until 10 000 (200 ms) have
 *     gathered; that was most of the p99 measured before.
 * socket.nagle.disable is librdkafka's default (true) since 2.x; the broker sets TCP_NODELAY.
 */
async function latency(bootstrap: string, topic: string, rate: number, brokerPid: number) {
  const c = new KafkaConsumer(
    {
      'bootstrap.servers': bootstrap,
      'group.id': `bench-lat-${Date.now()}`,
      'enable.auto.commit': false,
      'fetch.wait.max.ms': Number(process.env.BENCH_FETCH_WAIT_MS ?? 100),
      'fetch.min.bytes': 1,
      'fetch.queue.backoff.ms': 10,
    },
    { 'auto.offset.reset': 'latest' },
  );
  await connected(c);
  c.assign([{ topic, partition: 0, offset: 0 }]);
  const samples: number[] = [];
  let received = 0;
  let warmupEnd = Number.POSITIVE_INFINITY;
  let consuming = true;
  const take = (n: number, timeoutMs: number) =>
    new Promise<{ value: Buffer }[]>((resolve) => {
      c.setDefaultConsumeTimeout(timeoutMs);
      c.consume(n, (err: unknown, m: { value: Buffer }[]) => resolve(err ? [] : m));
    });
  const loop = (async () => {
    let idle = true;
    while (consuming) {
      const msgs: { value: Buffer }[] = idle ? await take(1, 100) : await take(LAT_BATCH, 0);
      idle = msgs.length === 0;
      const now = performance.now();
      for (const m of msgs) {
        received++;
        const sent = m.value.readDoubleLE(0);
        if (sent >= warmupEnd) samples.push(now - sent);
      }
    }
  })();
  const p = new Producer({
    'bootstrap.servers': bootstrap,
    acks: 1,
    'linger.ms': 0,
    'batch.num.messages': 10_000,
    'compression.type': 'none',
  });
  await connected(p);
  p.setPollInterval(10);
  const value = Buffer.alloc(100, 0x62);
  // the topic exists and the consumer is fetching before the clock starts (no backlog)
  while (received === 0) {
    const v = Buffer.from(value);
    v.writeDoubleLE(performance.now(), 0);
    p.produce(topic, 0, v, null, Date.now());
    await sleep(100);
  }
  received = 0;
  const t0 = performance.now();
  warmupEnd = t0 + 1000;
  const end = t0 + LAT_S * 1000;
  let stopProbe: (() => Promise<Record<string, number>>) | undefined;
  let cpu0 = { client: process.cpuUsage(), broker: 0, at: 0 };
  let sent = 0;
  while (performance.now() < end) {
    if (stopProbe === undefined && performance.now() >= warmupEnd) {
      stopProbe = startProbe();
      cpu0 = { client: process.cpuUsage(), broker: processCpuSeconds(brokerPid), at: performance.now() };
    }
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due) {
      const v = Buffer.from(value);
      v.writeDoubleLE(performance.now(), 0);
      try {
        p.produce(topic, 0, v, null, Date.now());
        sent++;
      } catch {
        break;
      }
    }
    // Paced by a 1 ms timer, not a setImmediate spin: a spinning load generator would take a
    // whole core from the broker and the consumer on this 2-core machine. Each record carries
    // the time it was handed to the producer, so the pacing itself adds nothing to the figures.
    await sleep(1);
  }
  const windowS = (performance.now() - cpu0.at) / 1000;
  const clientCpu = process.cpuUsage(cpu0.client);
  const cpuCores = {
    client: round((clientCpu.user + clientCpu.system) / 1e6 / windowS, 2),
    broker: round((processCpuSeconds(brokerPid) - cpu0.broker) / windowS, 2),
  };
  const probe = stopProbe === undefined ? undefined : await stopProbe();
  const deadline = performance.now() + 10_000;
  while (received < sent && performance.now() < deadline) await sleep(20);
  consuming = false;
  await loop;
  await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  await new Promise<void>((resolve) => c.disconnect(() => resolve()));
  const sorted = samples.sort((a, b) => a - b);
  return {
    rate,
    sent,
    received,
    achievedRate: Math.round(sent / LAT_S),
    p50ms: round(quantile(sorted, 0.5), 2),
    p99ms: round(quantile(sorted, 0.99), 2),
    p999ms: round(quantile(sorted, 0.999), 2),
    /** Cores used during the measured window (the client process includes librdkafka's threads). */
    cpuCores,
    /** Lateness of an idle process's 1 ms timer during the measured window: machine contention. */
    idleProcessTimerLateness: probe,
  };
}

/** PartitionLog.append of 1 MiB batches of `n` records of `size` bytes, same flush.ms: no network. */
async function logAppend(n: number, size: number) {
  const dir = join(work, `log-${size}`);
  const log = await PartitionLog.open(dir, {
    topic: 'bench',
    partition: 0,
    config: { 'flush.ms': FLUSH_MS, 'segment.bytes': 1024 * 1024 * 1024 },
  } as never);
  const perBatch = Math.max(1, Math.min(10_000, Math.floor((1000 * 1000) / (size + 12))));
  const value = Buffer.alloc(size, 0x61);
  const now = Date.now();
  const batch = encodeRecordBatch({
    records: Array.from({ length: perBatch }, () => ({ key: null, value, timestamp: now })),
  });
  const t0 = performance.now();
  let pending: Promise<unknown>[] = [];
  for (let done = 0; done < n; done += perBatch) {
    pending.push(log.append(Buffer.from(batch)));
    if (pending.length >= 64) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await log.flush();
  const s = (performance.now() - t0) / 1000;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return { recordsPerSec: Math.round(n / s), MBps: round((n * size) / MB / s) };
}

function profileSummary(dir: string): { fn: string; selfPct: number }[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return [];
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: {
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      hitCount?: number;
    }[];
  };
  const self = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const url = node.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/');
    const key = `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + hits);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([fn, hits]) => ({ fn, selfPct: round((100 * hits) / Math.max(1, total)) }));
}

const result: Record<string, unknown> = {
  bench: 'broker',
  client: '@confluentinc/kafka-javascript (librdkafka) RdKafka API',
  brokerFlushMs: FLUSH_MS,
  note: 'client and broker processes share this machine; ratio = broker / log append in the same run',
};
const broker = await startBroker();
try {
  const produceRuns: Record<string, unknown> = {};
  const consumeRuns: Record<string, unknown> = {};
  for (const [label, size, n] of ONLY === 'latency'
    ? []
    : ([
        ['100B', 100, N100],
        ['1KiB', 1024, N1K],
      ] as const)) {
    const log = await logAppend(n, size);
    for (const acks of [1, -1]) {
      const topic = `bench-${label}-acks${acks === -1 ? 'all' : acks}`;
      const pr = await produce(broker.bootstrap, topic, n, size, acks);
      produceRuns[`${label} acks=${acks === -1 ? 'all' : acks}`] = {
        ...pr,
        logAppend: log,
        ratioToLog: round(pr.recordsPerSec / log.recordsPerSec, 3),
      };
      if (acks === 1) {
        const cr = await consume(broker.bootstrap, topic, n, size);
        consumeRuns[label] = {
          ...cr,
          logAppend: log,
          ratioToLog: round(cr.recordsPerSec / log.recordsPerSec, 3),
        };
      }
    }
  }
  result.produce = produceRuns;
  result.consume = consumeRuns;
  const pid = broker.child.pid ?? -1;
  const lat = await latency(broker.bootstrap, 'bench-latency', LAT_RATE, pid);
  // The same at a tenth of the rate: client and broker then need little CPU, so what remains
  // of the tail there is mostly waiting for a core (compare idleProcessTimerLateness).
  const low = await latency(broker.bootstrap, 'bench-latency-low', Math.round(LAT_RATE / 10), pid);
  result.latency = { ...lat, atTenthOfTheRate: low, logAppend100B: await logAppend(250_000, 100) };
  result.targets = { '100B records/s': 500_000, '1KiB MB/s': 250, 'p99 ms': 5 };
} finally {
  broker.child.kill('SIGTERM');
  await once(broker.child, 'exit');
}
if (PROFILE !== undefined) result.brokerProfileTopSelf = profileSummary(PROFILE);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
