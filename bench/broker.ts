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
 *     Each latency window also reports CPU per process (cpuCores), the consumer's event-loop
 *     delay and GC pauses. Switches (docs/protocol-and-broker.md has what they showed):
 *     `withCConsumer`: the same at the full rate with kcat (librdkafka's C client) consuming.
 *     BENCH_LAT_SPLIT=1 producer in its own process (bench/support/latency-producer.ts);
 *     BENCH_LAT_CONSUME=flow librdkafka's consume-loop thread with 'data' events instead of
 *     consume(n) calls; BENCH_LAT_LINGER_MS producer linger.ms (default 0);
 *     BENCH_BROKER_TRACE=1|<file> runs the broker with SLUICE_BROKER_TRACE (request-trace.ts)
 *     and adds `whereTheTimeGoes`: each record's latency split at the broker's timestamps, the
 *     broker's GC pauses and loop lateness; BENCH_LAT_DUMP=<file> writes every sample and
 *     consume call; BENCH_BROKER_FLAGS passes Node/V8 flags to the broker.
 * Beside each: the log's own append rate in the same run (PartitionLog.append of pre-encoded
 * batches of the same records, 1 MiB each, same flush.ms, no network, no broker).
 * BENCH_PROFILE=<dir> runs the broker with --cpu-prof and adds its top self-time functions.
 *   node --import tsx bench/broker.ts      (BENCH_N100=1000000 BENCH_N1K=250000 BENCH_ONLY=latency)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PartitionLog } from '../src/log/index.js';
import { encodeRecordBatch } from '../src/protocol/index.js';
import {
  connected,
  disconnect,
  KafkaConsumer,
  latencyProducer,
  nowMs,
  Producer,
  pacedProduce,
  warmUp,
} from './support/latency-producer.js';
import { quantile, round } from './support/stats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FLUSH_MS = Number(process.env.BENCH_FLUSH_MS ?? -1);
const N100 = Number(process.env.BENCH_N100 ?? 1_000_000);
const N1K = Number(process.env.BENCH_N1K ?? 250_000);
const LAT_S = Number(process.env.BENCH_LAT_S ?? 5);
const LAT_RATE = Number(process.env.BENCH_LAT_RATE ?? 50_000);
/** Most records one consume call of the latency run returns (BENCH_LAT_BATCH). */
const LAT_BATCH = Number(process.env.BENCH_LAT_BATCH ?? 10_000);
const PROFILE = process.env.BENCH_PROFILE;
/** BENCH_BROKER_FLAGS: Node/V8 flags for the broker process (e.g. --max-semi-space-size=64). */
const BROKER_FLAGS = (process.env.BENCH_BROKER_FLAGS ?? '').split(' ').filter((f) => f !== '');
/** BENCH_ONLY=latency skips the throughput workloads (the latency run and its log baseline only). */
const ONLY = process.env.BENCH_ONLY;
/** BENCH_LAT_CONSUME=flow: the consumer uses librdkafka's consume loop thread and 'data' events. */
const FLOW = process.env.BENCH_LAT_CONSUME === 'flow';
/** BENCH_LAT_SPLIT=1 runs the latency run's producer in a process of its own. */
const SPLIT = process.env.BENCH_LAT_SPLIT === '1';
/**
 * BENCH_BROKER_TRACE=1 runs the broker with SLUICE_BROKER_TRACE and splits each latency at the
 * broker's timestamps; BENCH_BROKER_TRACE=<file> also keeps the trace there.
 */
const TRACE_TO = process.env.BENCH_BROKER_TRACE;
const TRACE = TRACE_TO !== undefined && TRACE_TO !== '' && TRACE_TO !== '0';
const MB = 1e6;

const work = mkdtempSync(join(tmpdir(), 'sluice-bench-broker-'));
const TRACE_FILE = TRACE && TRACE_TO !== '1' ? resolve(TRACE_TO as string) : join(work, 'broker-trace.json');

async function startBroker(): Promise<{ child: ChildProcess; bootstrap: string }> {
  const args = [
    ...BROKER_FLAGS,
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
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: TRACE ? { ...process.env, SLUICE_BROKER_TRACE: TRACE_FILE } : process.env,
  });
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

/** CPU seconds (user + system) this process has used since `from`. */
function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

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

/** A latency run's measured records: offset, send time and receive time (ms since the epoch). */
interface Samples {
  topic: string;
  offsets: number[];
  sent: number[];
  received: number[];
  /** The measured window (after the warm-up second), ms since the epoch. */
  window: [number, number];
  /** Each consume call: [called, callback ran, records returned] (ms since the epoch). */
  calls: [number, number, number][];
}

/** Percentiles of a duration histogram from perf_hooks (ns) in ms. */
function histogramMs(h: IntervalHistogram): Record<string, number> {
  return {
    p50ms: round(h.percentile(50) / 1e6, 2),
    p99ms: round(h.percentile(99) / 1e6, 2),
    p999ms: round(h.percentile(99.9) / 1e6, 2),
    maxMs: round(h.max / 1e6, 2),
  };
}

/** Count, total and longest of GC pauses [start, duration] that began inside the window. */
function gcSummary(pauses: readonly [number, number][], [from, to]: [number, number]) {
  const inWindow = pauses.filter(([at]) => at >= from && at < to).map(([, d]) => d);
  return {
    count: inWindow.length,
    totalMs: round(
      inWindow.reduce((a, b) => a + b, 0),
      1,
    ),
    maxMs: round(Math.max(0, ...inWindow), 2),
  };
}

/**
 * Produce-to-consume latency at a fixed rate, with the client set up as a latency-sensitive
 * application would (see README "Performance" and docs/protocol-and-broker.md):
 *   - producer: bench/support/latency-producer.ts (linger.ms 0, acks 1).
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
 * The producer runs in this process, or with BENCH_LAT_SPLIT=1 in a process of its own (as a
 * latency-sensitive deployment would run them). Beside the percentiles: CPU per process, this
 * process's event-loop delay and GC pauses, and an idle probe's timer lateness, all over the
 * measured window.
 */
async function latency(bootstrap: string, topic: string, rate: number, brokerPid: number) {
  const gcPauses: [number, number][] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push([performance.timeOrigin + e.startTime, e.duration]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
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
  const samples: Samples = { topic, offsets: [], sent: [], received: [], window: [0, 0], calls: [] };
  let received = 0;
  let warmupEnd = Number.POSITIVE_INFINITY;
  let consuming = true;
  const take = (n: number, timeoutMs: number) =>
    new Promise<{ value: Buffer; offset: number }[]>((resolve) => {
      c.setDefaultConsumeTimeout(timeoutMs);
      c.consume(n, (err: unknown, m: { value: Buffer; offset: number }[]) => resolve(err ? [] : m));
    });
  const record = (msgs: readonly { value: Buffer; offset: number }[], now: number) => {
    for (const m of msgs) {
      received++;
      const sent = m.value.readDoubleLE(0);
      if (sent >= warmupEnd) {
        samples.offsets.push(m.offset);
        samples.sent.push(sent);
        samples.received.push(now);
      }
    }
  };
  const loop = FLOW
    ? (async () => {
        // librdkafka's consume loop on its own thread hands each record to this loop as it
        // arrives ('data' events): no thread-pool round trip per consume call.
        c.setDefaultConsumeTimeout(100);
        c.setDefaultConsumeLoopTimeoutDelay(0);
        c.on('data', (m: { value: Buffer; offset: number }) => record([m], nowMs()));
        c.consume();
        while (consuming) await sleep(20);
      })()
    : (async () => {
        let idle = true;
        while (consuming) {
          const called = nowMs();
          const msgs: { value: Buffer; offset: number }[] = idle
            ? await take(1, 100)
            : await take(LAT_BATCH, 0);
          idle = msgs.length === 0;
          const now = nowMs();
          if (called >= warmupEnd) samples.calls.push([called, now, msgs.length]);
          record(msgs, now);
        }
      })();
  // The measured window: from the end of the warm-up second to the end of the paced run.
  let stopProbe: (() => Promise<Record<string, number>>) | undefined;
  let cpu0 = { client: process.cpuUsage(), broker: 0, producer: 0, at: 0 };
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let producerPid: number | undefined;
  const startWindow = () => {
    stopProbe = startProbe();
    loopDelay.enable();
    cpu0 = {
      client: process.cpuUsage(),
      broker: processCpuSeconds(brokerPid),
      producer: producerPid === undefined ? 0 : processCpuSeconds(producerPid),
      at: performance.now(),
    };
  };

  let sent: number;
  let endWindow: () => { cpuCores: Record<string, number> };
  const cores = (cpuSeconds: number) => round(cpuSeconds / ((performance.now() - cpu0.at) / 1000), 2);
  if (SPLIT) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'bench/support/latency-producer.ts'),
        bootstrap,
        topic,
        String(rate),
        String(LAT_S),
      ],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    producerPid = child.pid;
    const exited = once(child, 'exit');
    const result = new Promise<number>((resolve, reject) => {
      child.once('message', (m: { sent: number }) => resolve(m.sent));
      child.once('exit', (code) => reject(new Error(`latency producer exited ${code}`)));
    });
    while (received === 0) await sleep(20);
    received = 0;
    child.send('go');
    warmupEnd = nowMs() + 1000;
    await sleep(1000);
    startWindow();
    sent = await result;
    endWindow = () => ({
      cpuCores: {
        consumer: cores(cpuSecondsSince(cpu0.client)),
        producer: cores(processCpuSeconds(child.pid ?? -1) - cpu0.producer),
        broker: cores(processCpuSeconds(brokerPid) - cpu0.broker),
      },
    });
    const measured = endWindow();
    samples.window = [warmupEnd, nowMs()];
    await exited;
    endWindow = () => measured;
  } else {
    const p = await latencyProducer(bootstrap);
    await warmUp(p, topic, () => received > 0);
    received = 0;
    warmupEnd = nowMs() + 1000;
    sent = await pacedProduce(p, topic, rate, LAT_S, () => {
      if (stopProbe === undefined && nowMs() >= warmupEnd) startWindow();
    });
    const measured = {
      cpuCores: {
        client: cores(cpuSecondsSince(cpu0.client)),
        broker: cores(processCpuSeconds(brokerPid) - cpu0.broker),
      },
    };
    samples.window = [warmupEnd, nowMs()];
    endWindow = () => measured;
    await disconnect(p);
  }
  const { cpuCores } = endWindow();
  loopDelay.disable();
  const probe = stopProbe === undefined ? undefined : await stopProbe();
  const deadline = performance.now() + 10_000;
  while (received < sent && performance.now() < deadline) await sleep(20);
  consuming = false;
  await loop;
  await disconnect(c);
  gcObserver.disconnect();
  const latencies = samples.received.map((r, i) => r - (samples.sent[i] as number)).sort((a, b) => a - b);
  const result = {
    rate,
    producerProcess: SPLIT ? 'own' : 'same as the consumer',
    consume: FLOW ? "consume loop thread, 'data' events" : 'consume(1, 100 ms) then consume(n, 0)',
    sent,
    received,
    achievedRate: Math.round(sent / LAT_S),
    p50ms: round(quantile(latencies, 0.5), 2),
    p99ms: round(quantile(latencies, 0.99), 2),
    p999ms: round(quantile(latencies, 0.999), 2),
    /** Cores used during the measured window (client processes include librdkafka's threads). */
    cpuCores,
    /** The consumer process's event-loop delay (monitorEventLoopDelay, 1 ms resolution). */
    consumerLoopDelay: histogramMs(loopDelay),
    /** GC pauses of the consumer process. */
    consumerGc: gcSummary(gcPauses, samples.window),
    /** Lateness of an idle process's 1 ms timer during the measured window: machine contention. */
    idleProcessTimerLateness: probe,
  };
  return { result, samples };
}

/** The broker's request trace (src/broker/request-trace.ts), times made ms since the epoch. */
interface Trace {
  timeOrigin: number;
  produce: [string, number, number, number, number, number][];
  fetch: [string, number, number, number, number, number][];
  gc: [number, number, number][];
  loopLate: [number, number][];
  dropped: number;
}

/** Rows of one topic in first-offset order, re-deliveries of offsets already covered dropped. */
function rowsOf(rows: Trace['produce'], topic: string, origin: number) {
  const out: { first: number[]; last: number[]; rcv: number[]; start: number[]; written: number[] } = {
    first: [],
    last: [],
    rcv: [],
    start: [],
    written: [],
  };
  let covered = -1;
  for (const [t, first, last, rcv, start, written] of rows) {
    if (t !== topic || last <= covered) continue;
    out.first.push(Math.max(first, covered + 1));
    out.last.push(last);
    out.rcv.push(origin + rcv);
    out.start.push(origin + start);
    out.written.push(origin + written);
    covered = last;
  }
  return out;
}

/** Index of the row whose [first, last] holds `offset`, or -1. */
function rowOf(rows: { first: number[]; last: number[] }, offset: number): number {
  let lo = 0;
  let hi = rows.first.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((rows.first[mid] as number) <= offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && (rows.last[hi] as number) >= offset ? hi : -1;
}

/**
 * Splits each measured record's latency at the broker's timestamps (BENCH_BROKER_TRACE=1):
 *   producerToBroker  send → the broker's event loop has the Produce frame (librdkafka's
 *                     producer queue and thread, loopback TCP, the broker's loop getting to it)
 *   brokerQueue       frame received → its handler starts (= the append: requests before it on
 *                     the producer's connection)
 *   waitForFetch      append → the consumer's next Fetch arrives, when none was waiting
 *   fetchServe        the later of append and Fetch arrival → the Fetch response is handed to
 *                     the socket (a waiting Fetch is woken by the append in the same tick)
 *   brokerToConsumer  response written → the consume() callback has the record (loopback TCP,
 *                     librdkafka's consumer thread and queue, the consume call, the event loop)
 * For each: p50 and p99 over all records, and its mean over the records at or above the p99 of
 * the total (what the tail is made of).
 */
function whereTheTimeGoes(s: Samples, trace: Trace) {
  const produce = rowsOf(trace.produce, s.topic, trace.timeOrigin);
  const fetch = rowsOf(trace.fetch, s.topic, trace.timeOrigin);
  const names = [
    'producerToBroker',
    'brokerQueue',
    'waitForFetch',
    'fetchServe',
    'brokerToConsumer',
  ] as const;
  const parts: number[][] = names.map(() => []);
  const totals: number[] = [];
  for (let i = 0; i < s.offsets.length; i++) {
    const o = s.offsets[i] as number;
    const pi = rowOf(produce, o);
    const fi = rowOf(fetch, o);
    if (pi < 0 || fi < 0) continue;
    const sent = s.sent[i] as number;
    const got = s.received[i] as number;
    const pRcv = produce.rcv[pi] as number;
    const append = produce.start[pi] as number;
    const fRcv = fetch.rcv[fi] as number;
    const fWritten = fetch.written[fi] as number;
    const seg = [
      pRcv - sent,
      append - pRcv,
      Math.max(0, fRcv - append),
      fWritten - Math.max(append, fRcv),
      got - fWritten,
    ];
    for (let k = 0; k < seg.length; k++) parts[k]?.push(seg[k] as number);
    totals.push(got - sent);
  }
  const sortedTotals = [...totals].sort((a, b) => a - b);
  const p99 = quantile(sortedTotals, 0.99);
  const tail = totals.flatMap((t, i) => (t >= p99 ? [i] : []));
  const segmentsMs: Record<string, Record<string, number>> = {};
  names.forEach((name, k) => {
    const xs = parts[k] as number[];
    const sorted = [...xs].sort((a, b) => a - b);
    segmentsMs[name] = {
      p50: round(quantile(sorted, 0.5), 2),
      p99: round(quantile(sorted, 0.99), 2),
      meanAtOrAboveTotalP99: round(
        tail.reduce((a, i) => a + (xs[i] as number), 0) / Math.max(1, tail.length),
        2,
      ),
    };
  });
  const window = s.window;
  const late = trace.loopLate.map(([at, ms]) => [trace.timeOrigin + at, ms] as const);
  const lateInWindow = late.filter(([at]) => at >= window[0] && at < window[1]).map(([, ms]) => ms);
  return {
    matched: totals.length,
    of: s.offsets.length,
    totalP99ms: round(p99, 2),
    segmentsMs,
    brokerGc: gcSummary(
      trace.gc.map(([at, d]) => [trace.timeOrigin + at, d]),
      window,
    ),
    /** Times the broker's 1 ms timer fired more than 1 ms (and 5 ms) late, and the worst. */
    brokerLoopLate: {
      over1ms: lateInWindow.length,
      over5ms: lateInWindow.filter((ms) => ms > 5).length,
      maxMs: round(Math.max(0, ...lateInWindow), 2),
    },
  };
}

/**
 * The same produce-to-consume latency with librdkafka's C client as the consumer: `kcat`
 * (Debian's, installed by scripts/setup.sh) reads the partition with the latency settings of
 * latency() (fetch.min.bytes 1, fetch.wait.max.ms 100; its older librdkafka has no
 * fetch.queue.backoff.ms) and prints each value unbuffered (-u); the producer (this process,
 * linger.ms 0) writes its send time as text into the value, so the stamp keeps sub-ms
 * resolution. This process stamps each chunk of kcat's output on arrival. It measures the
 * broker without the JS binding's consume path (12–20 µs a record, one JS object each, GC);
 * on a quiet machine both consumers gave p99 4.3–6.8 ms at 50 000 records/s (3 runs each, in
 * the same runs), so the binding is not the whole tail (docs/protocol-and-broker.md).
 */
async function latencyCConsumer(bootstrap: string, topic: string, rate: number) {
  const p = await latencyProducer(bootstrap);
  const stamp = () => Buffer.from(nowMs().toFixed(3).padEnd(100, ' '), 'latin1');
  // the topic exists (auto-created by this record) before kcat starts at its end
  p.produce(topic, 0, stamp(), null, Date.now());
  await new Promise<void>((resolve) => p.flush(10_000, () => resolve()));
  const kcat = spawn(
    'kcat',
    [
      '-C',
      '-b',
      bootstrap,
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      'end',
      '-u',
      '-q',
      '-f',
      '%s\n',
      '-X',
      'fetch.wait.max.ms=100',
      '-X',
      'fetch.min.bytes=1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const failed = new Promise<never>((_, reject) => {
    kcat.once('error', (e) => reject(new Error(`kcat: ${e.message} (scripts/setup.sh installs it)`)));
  });
  failed.catch(() => undefined);
  let received = 0;
  let from = Number.POSITIVE_INFINITY;
  const samples: number[] = [];
  let partial = '';
  kcat.stdout.on('data', (d: Buffer) => {
    const now = nowMs();
    const lines = (partial + d.toString('latin1')).split('\n');
    partial = lines.pop() as string;
    for (const l of lines) {
      received++;
      const sent = Number.parseFloat(l);
      if (sent >= from) samples.push(now - sent);
    }
  });
  const deadline = Date.now() + 30_000;
  while (received === 0) {
    if (Date.now() > deadline) throw new Error('kcat consumed nothing within 30 s');
    p.produce(topic, 0, stamp(), null, Date.now());
    await Promise.race([sleep(100), failed]);
  }
  received = 0;
  from = nowMs() + 1000;
  const sent = await pacedProduce(p, topic, rate, LAT_S, undefined, stamp);
  const end = Date.now() + 10_000;
  while (received < sent && Date.now() < end) await sleep(20);
  kcat.kill('SIGTERM');
  await disconnect(p);
  const sorted = samples.sort((a, b) => a - b);
  return {
    consumer: 'kcat (librdkafka C client)',
    rate,
    sent,
    received,
    p50ms: round(quantile(sorted, 0.5), 2),
    p99ms: round(quantile(sorted, 0.99), 2),
    p999ms: round(quantile(sorted, 0.999), 2),
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
  brokerNodeFlags: BROKER_FLAGS.join(' '),
  note: 'client and broker processes share this machine; ratio = broker / log append in the same run',
};
const broker = await startBroker();
let runs: { samples: Samples }[] = [];
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
  runs = [lat, low];
  result.latency = {
    ...lat.result,
    atTenthOfTheRate: low.result,
    withCConsumer: await latencyCConsumer(broker.bootstrap, 'bench-latency-c', LAT_RATE),
    logAppend100B: await logAppend(250_000, 100),
  };
  result.targets = { '100B records/s': 500_000, '1KiB MB/s': 250, 'p99 ms': 5 };
} finally {
  broker.child.kill('SIGTERM');
  await once(broker.child, 'exit');
}
if (process.env.BENCH_LAT_DUMP !== undefined && runs.length > 0)
  writeFileSync(process.env.BENCH_LAT_DUMP, JSON.stringify(runs.map((r) => r.samples)));
if (TRACE && runs.length > 0) {
  // written by the broker at shutdown
  const trace = JSON.parse(readFileSync(TRACE_FILE, 'utf8')) as Trace;
  const [lat, low] = runs.map((r) => whereTheTimeGoes(r.samples, trace));
  result.whereTheTimeGoes = { atRate: lat, atTenthOfTheRate: low, traceRowsDropped: trace.dropped };
}
if (PROFILE !== undefined) result.brokerProfileTopSelf = profileSummary(PROFILE);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
