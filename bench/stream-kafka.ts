/**
 * Stream applications on Kafka, end to end: records/s and latency from produce to committed
 * output, for a stateless app (bench/stream-apps/stateless.ts: map + filter) and a windowed app
 * (test/chaos/support/windowed-app.ts: keyBy → 1 s tumbling windows, count + sum), with
 * exactly_once and at_least_once, on the embedded transport (`sluice run --embedded`: broker
 * and app in one process; the bench's clients use its TCP port) and over TCP (the kafka
 * transport: `sluice run --bootstrap` against a `sluice broker` process). Prints ONE JSON object.
 *
 * Per configuration, a fresh app (one `sluice run` process, BENCH_STREAM_THREADS stream
 * threads, default 1) on fresh 12-partition topics, then two phases:
 *   - throughput: BENCH_STREAM_RECORDS records (default 50 000; 1 000 keys; the chaos
 *     workload's generator: synthetic event times, then one flush record per key so every
 *     window closes) produced as fast as librdkafka goes; records/s = input records / (last
 *     expected output received − first record sent). The output is read read_committed.
 *   - latency: BENCH_STREAM_LAT_RATE records/s (default 2 000) for BENCH_STREAM_LAT_S seconds
 *     (default 6; the first second discarded), event time = send time. The producer stamps the
 *     send time in the value; the output reader (read_committed) takes receive − stamp for the
 *     stateless app, and receive − window end (the moment the window could close) for the
 *     windowed app. p50/p99 in ms.
 * Baseline in the same run: the broker's raw produce → consume (librdkafka producer and a
 * read_committed librdkafka consumer through the `sluice broker` process, the same records,
 * the same two phases, no app).
 * BENCH_STREAM_REPS (default 1) repeats each configuration; figures are medians.
 * BENCH_STREAM_ONLY=<substring> runs only the configurations whose label contains it
 * (labels: `<stateless|windowed> <exactly_once|at_least_once> <embedded|kafka>`).
 *   node --import tsx bench/stream-kafka.ts
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionFor } from '../src/transport/index.js';
import { AppInstance } from '../test/chaos/support/app-process.js';
import {
  ClusterProbe,
  OutputReader,
  type ProducedRecord,
  produceRecords,
} from '../test/chaos/support/kafka-io.js';
import { generateInput, keyName, oracle, type WorkloadSpec } from '../test/chaos/support/window-workload.js';
import { freePort, spawnSluiceBroker } from '../test/helpers/broker-process.js';
import { type BenchEvent, keep } from './stream-apps/stateless.js';
import { median, quantile, round } from './support/stats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const RECORDS = Number(process.env.BENCH_STREAM_RECORDS ?? 50_000);
const LAT_RATE = Number(process.env.BENCH_STREAM_LAT_RATE ?? 2000);
const LAT_S = Number(process.env.BENCH_STREAM_LAT_S ?? 6);
const THREADS = Number(process.env.BENCH_STREAM_THREADS ?? 1);
const REPS = Number(process.env.BENCH_STREAM_REPS ?? 1);
const ONLY = process.env.BENCH_STREAM_ONLY;
const PARTITIONS = 12;
const KEYS = 1000;
const LAT_WINDOW_MS = 1000;
const APPS = {
  stateless: join(ROOT, 'bench/stream-apps/stateless.ts'),
  windowed: join(ROOT, 'test/chaos/support/windowed-app.ts'),
} as const;
type AppKind = keyof typeof APPS;
type Guarantee = 'exactly_once' | 'at_least_once';
type Where = 'embedded' | 'kafka';

const work = mkdtempSync(join(tmpdir(), 'sluice-bench-stream-'));
const now = () => performance.timeOrigin + performance.now();

interface PhaseResult {
  recordsPerSec: number;
  seconds: number;
}
interface LatencyResult {
  sent: number;
  samples: number;
  p50ms: number;
  p99ms: number;
}

/** The throughput phase's input and how many output records it must produce. */
function throughputInput(app: AppKind | 'raw', seed: number) {
  // In order per partition (disorder 0) with the latency phase's 1 s windows and bound 0.
  const spec: WorkloadSpec = {
    records: RECORDS,
    keys: KEYS,
    partitions: PARTITIONS,
    seed,
    windowMs: LAT_WINDOW_MS,
    disorderMs: 0,
    boundMs: 0,
  };
  const total = RECORDS + KEYS;
  let expected = total;
  if (app === 'windowed') expected = oracle(spec).length;
  if (app === 'stateless') {
    expected = 0;
    for (const r of generateInput(spec)) if (keep(r.event)) expected++;
  }
  return { records: () => generateInput(spec), total, expected };
}

/** Latency-phase records: event time = send time, the send time stamped in the value. */
function* stampedInput(count: number, seed: number): Generator<ProducedRecord> {
  const keyBytes = Array.from({ length: KEYS }, (_, i) => Buffer.from(keyName(i)));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    const ki = x % KEYS;
    const s = now();
    const e: BenchEvent = { k: keyName(ki), v: 1 + (x % 997), ts: Math.floor(s), s };
    const key = keyBytes[ki] as Buffer;
    yield {
      partition: partitionFor(key, PARTITIONS),
      key,
      value: Buffer.from(JSON.stringify(e)),
      timestamp: e.ts,
    };
  }
}

/**
 * Runs both phases against whatever turns `input` into `output` (an app, or nothing for the
 * raw baseline where input = output). `latencyOf` maps an output value to its latency sample
 * (or undefined to skip it) given its receive time.
 */
async function phases(
  bootstrap: string,
  input: string,
  output: string,
  kind: AppKind | 'raw',
  seed: number,
): Promise<{ throughput: PhaseResult; latency: LatencyResult }> {
  const tp = throughputInput(kind, seed);
  let received = 0;
  let lastAt = 0;
  let phase: 'throughput' | 'latency' = 'throughput';
  let warmupEnd = Number.POSITIVE_INFINITY;
  const samples: number[] = [];
  const reader = new OutputReader(bootstrap, output, PARTITIONS);
  await reader.start((records) => {
    for (const r of records) {
      if (phase === 'throughput') {
        received++;
        lastAt = r.receivedAt;
        continue;
      }
      const v = JSON.parse(r.value.toString()) as { s?: number; end?: number; start?: number };
      if (kind === 'windowed') {
        if (v.start !== undefined && v.start >= warmupEnd) samples.push(r.receivedAt - (v.end as number));
      } else if (v.s !== undefined && v.s >= warmupEnd) samples.push(r.receivedAt - v.s);
    }
  });
  try {
    const t0 = now();
    await produceRecords(bootstrap, input, tp.records());
    let seen = -1;
    let stalledSince = Date.now();
    while (received < tp.expected) {
      if (received !== seen) {
        seen = received;
        stalledSince = Date.now();
      }
      if (Date.now() - stalledSince > 60_000) {
        throw new Error(`${kind}: ${received}/${tp.expected} outputs, none for 60 s`);
      }
      await sleep(20);
    }
    const seconds = (lastAt - t0) / 1000;
    const throughput = { recordsPerSec: Math.round(tp.total / seconds), seconds: round(seconds, 2) };
    if (received > tp.expected) throw new Error(`${kind}: ${received} outputs, expected ${tp.expected}`);

    phase = 'latency';
    warmupEnd = now() + 1000;
    const count = LAT_RATE * LAT_S;
    await produceRecords(bootstrap, input, stampedInput(count, seed), { ratePerSec: LAT_RATE, lingerMs: 0 });
    await sleep(kind === 'windowed' ? LAT_WINDOW_MS + 2000 : 2000);
    samples.sort((a, b) => a - b);
    return {
      throughput,
      latency: {
        sent: count,
        samples: samples.length,
        p50ms: round(quantile(samples, 0.5), 2),
        p99ms: round(quantile(samples, 0.99), 2),
      },
    };
  } finally {
    await reader.stop();
  }
}

let configNo = 0;

/** One configuration: fresh topics and app process, both phases. */
async function runConfig(
  kind: AppKind,
  guarantee: Guarantee,
  where: Where,
  broker: { bootstrap: string },
  rep: number,
) {
  const n = ++configNo;
  const input = `bench-in-${n}`;
  const output = `bench-out-${n}`;
  const applicationId = `bench-${kind}-${n}`;
  const appArgs = [
    '--application-id',
    applicationId,
    '--instance-id',
    'bench',
    '--guarantee',
    guarantee,
    '--threads',
    String(THREADS),
    '--commit-interval-ms',
    '100',
  ];
  const env = {
    SLUICE_APP_INPUT: input,
    SLUICE_APP_OUTPUT: output,
    SLUICE_APP_PARTITIONS: String(PARTITIONS),
    SLUICE_APP_WINDOW_MS: String(LAT_WINDOW_MS),
    SLUICE_APP_BOUND_MS: '0',
  };
  let bootstrap = broker.bootstrap;
  let app: AppInstance;
  if (where === 'kafka') {
    const probe = new ClusterProbe(bootstrap);
    await probe.createTopic(input, PARTITIONS);
    await probe.createTopic(output, PARTITIONS);
    await probe.close();
    app = new AppInstance(applicationId, {
      app: APPS[kind],
      args: ['--bootstrap', bootstrap, ...appArgs],
      env,
    });
  } else {
    // The input topic must exist before the app starts: create both with a broker on the
    // deployment's data dir, then hand the dir to `sluice run --embedded`.
    const dataDir = join(work, `embedded-${n}`);
    const loader = await spawnSluiceBroker(dataDir);
    const probe = new ClusterProbe(`127.0.0.1:${loader.port}`);
    await probe.createTopic(input, PARTITIONS);
    await probe.createTopic(output, PARTITIONS);
    await probe.close();
    const stopped = once(loader.child, 'exit');
    loader.child.kill('SIGTERM');
    await stopped;
    const port = await freePort();
    bootstrap = `127.0.0.1:${port}`;
    app = new AppInstance(applicationId, {
      app: APPS[kind],
      args: ['--embedded', '--data-dir', dataDir, '--port', String(port), ...appArgs],
      env: { ...env, SLUICE_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' },
    });
  }
  app.start();
  try {
    await app.waitReady(120_000);
    return await phases(bootstrap, input, output, kind, 1000 + rep);
  } catch (err) {
    throw new Error(`${kind} ${guarantee} ${where}: ${(err as Error).message}\n${app.tail(30)}`);
  } finally {
    await app.terminate();
  }
}

const result: Record<string, unknown> = {
  bench: 'stream-kafka',
  records: RECORDS,
  keys: KEYS,
  partitions: PARTITIONS,
  threads: THREADS,
  latencyRatePerSec: LAT_RATE,
  latencySeconds: LAT_S,
  reps: REPS,
  note:
    'clients, broker and app share this machine; records/s = input records / (last output − first send); ' +
    'latency: stateless receive − send stamp, windowed receive − window end; ratio = app / raw broker in the same run',
};
const broker = await spawnSluiceBroker(join(work, 'broker'));
const bootstrap = `127.0.0.1:${broker.port}`;
try {
  const raws: { throughput: PhaseResult; latency: LatencyResult }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const probe = new ClusterProbe(bootstrap);
    await probe.createTopic(`bench-raw-${rep}`, PARTITIONS);
    await probe.close();
    raws.push(await phases(bootstrap, `bench-raw-${rep}`, `bench-raw-${rep}`, 'raw', 1000 + rep));
  }
  const summarize = (runs: { throughput: PhaseResult; latency: LatencyResult }[]) => ({
    recordsPerSec: median(runs.map((r) => r.throughput.recordsPerSec)),
    p50ms: median(runs.map((r) => r.latency.p50ms)),
    p99ms: median(runs.map((r) => r.latency.p99ms)),
    latencySamples: median(runs.map((r) => r.latency.samples)),
  });
  const raw = summarize(raws);
  result.rawBroker = {
    ...raw,
    what: 'librdkafka produce → read_committed consume through the sluice broker process',
  };
  const configs: Record<string, unknown> = {};
  for (const kind of ['stateless', 'windowed'] as const) {
    for (const guarantee of ['exactly_once', 'at_least_once'] as const) {
      for (const where of ['embedded', 'kafka'] as const) {
        const label = `${kind} ${guarantee} ${where}`;
        if (ONLY !== undefined && !label.includes(ONLY)) continue;
        const runs = [];
        for (let rep = 0; rep < REPS; rep++)
          runs.push(await runConfig(kind, guarantee, where, { bootstrap }, rep));
        const s = summarize(runs);
        configs[label] = { ...s, ratioToRaw: round(s.recordsPerSec / raw.recordsPerSec, 3) };
      }
    }
  }
  result.apps = configs;
} finally {
  const exited = once(broker.child, 'exit');
  broker.child.kill('SIGTERM');
  await exited;
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
