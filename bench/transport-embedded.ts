/**
 * Embedded transport benchmark: a broker in this process (real log in a temp dir, data topics
 * flush.ms from BENCH_FLUSH_MS, default -1: page cache) and the embedded transport over it.
 * Prints ONE JSON object. Each workload runs BENCH_REPS times (default 3); medians are quoted,
 * each beside a baseline measured in the same run on the same broker:
 *   - produce: N records of 100 bytes (idempotent producer, sends of 1000 records, flush),
 *     vs the broker's Cluster.produce of the same records pre-encoded as 1000-record batches,
 *     and vs encodeRecordBatch + Cluster.produce per 1000 records (what any client must do;
 *     the transport adds request objects, sequencing, batching up to 1 MiB).
 *   - read: the N records read back with a PartitionReader (read_committed, polls of 10 000)
 *     vs Cluster.fetch + decodeRecordBatch of the same bytes (no transport).
 *   - transaction: back-to-back transactions of 1 record (begin, send, commit) for
 *     BENCH_TXN_S seconds: commits/s and commit latency p50/p99, vs one awaited idempotent send
 *     of 1 record in the same loop.
 *   node --import tsx bench/transport-embedded.ts      (BENCH_N=200000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '../src/broker/index.js';
import { decodeRecordBatch, encodeRecordBatch, readBatchHeader } from '../src/protocol/index.js';
import { createEmbeddedTransport, type OutgoingRecord } from '../src/transport/index.js';

const N = Number(process.env.BENCH_N ?? 200_000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const TXN_S = Number(process.env.BENCH_TXN_S ?? 2);
const FLUSH_MS = Number(process.env.BENCH_FLUSH_MS ?? -1);
const BATCH = 1000;
const VALUE = Buffer.alloc(100, 'x');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const pct = (sorted: number[], p: number) =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-transport-'));
const broker = await Broker.start(
  resolveBrokerConfig({
    file: { topicDefaults: { 'flush.ms': FLUSH_MS } },
    flags: { port: 0, dataDir: join(dir, 'data'), groupInitialRebalanceDelayMs: 0 },
  }),
);
const t = createEmbeddedTransport(broker);

function chunk(rep: number, i: number): OutgoingRecord[] {
  return Array.from({ length: BATCH }, (_, j) => ({ key: Buffer.from(`k${rep}-${i + j}`), value: VALUE }));
}

async function produceRep(rep: number) {
  const topic = `produce-${rep}`;
  const base = `baseline-${rep}`;
  await t.admin.ensureTopics([
    { topic, partitions: 1 },
    { topic: base, partitions: 1 },
  ]);
  const chunks: OutgoingRecord[][] = [];
  for (let i = 0; i < N; i += BATCH) chunks.push(chunk(rep, i));
  // Baseline: pre-encoded batches straight into the Cluster.
  const batches: Buffer[] = [];
  for (let i = 0; i < N; i += BATCH) batches.push(encodeRecordBatch({ records: chunk(rep, i) }));
  let t0 = performance.now();
  for (const b of batches) {
    const r = await broker.cluster.produce(base, 0, b);
    if (r.errorCode !== 0) throw new Error(`baseline produce failed: ${r.errorCode}`);
  }
  const baselineS = (performance.now() - t0) / 1000;
  // Baseline 2: the same, encoding each batch in the loop (what any client must do).
  const base2 = `baseline-encode-${rep}`;
  await t.admin.ensureTopics([{ topic: base2, partitions: 1 }]);
  t0 = performance.now();
  for (const c of chunks) {
    const r = await broker.cluster.produce(base2, 0, encodeRecordBatch({ records: c }));
    if (r.errorCode !== 0) throw new Error(`baseline produce failed: ${r.errorCode}`);
  }
  const encodeBaselineS = (performance.now() - t0) / 1000;
  // The transport: records in, acknowledged batches out.
  const producer = t.producer({ lingerMs: 5 });
  await producer.connect();
  t0 = performance.now();
  for (const c of chunks) void producer.send(topic, 0, c);
  await producer.flush();
  const transportS = (performance.now() - t0) / 1000;
  await producer.close();
  return { topic, transportS, baselineS, encodeBaselineS };
}

async function readRep(topic: string) {
  // Baseline: fetch + decode the same bytes from the Cluster.
  let t0 = performance.now();
  let offset = 0;
  let count = 0;
  while (count < N) {
    const [r] = await broker.cluster.fetch(
      [{ topic, partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }],
      {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 50 << 20,
        isolationLevel: 1,
      },
    );
    const buf = (r as { records: Buffer }).records;
    for (let pos = 0; pos < buf.length; ) {
      const h = readBatchHeader(buf, pos);
      if (pos + h.size > buf.length) break;
      count += decodeRecordBatch(buf, pos).records.length;
      offset = h.lastOffset + 1;
      pos += h.size;
    }
  }
  const baselineS = (performance.now() - t0) / 1000;
  const reader = t.partitionReader({ isolationLevel: 'read_committed' });
  await reader.assign([{ topic, partition: 0, offset: 0 }]);
  t0 = performance.now();
  let got = 0;
  while (got < N) got += (await reader.poll(10_000, 1000)).length;
  const transportS = (performance.now() - t0) / 1000;
  await reader.close();
  return { transportS, baselineS };
}

async function txnRep(rep: number) {
  const topic = `txn-${rep}`;
  await t.admin.ensureTopics([{ topic, partitions: 1 }]);
  const record = [{ key: null, value: VALUE }];
  const txp = t.producer({ transactionalId: `bench-${rep}`, lingerMs: 0 });
  await txp.connect();
  const commits: number[] = [];
  let end = performance.now() + TXN_S * 1000;
  while (performance.now() < end) {
    txp.beginTransaction();
    void txp.send(topic, 0, record);
    const c0 = performance.now();
    await txp.commitTransaction();
    commits.push(performance.now() - c0);
  }
  await txp.close();
  const idem = t.producer({ lingerMs: 0 });
  await idem.connect();
  const sends: number[] = [];
  end = performance.now() + TXN_S * 1000;
  while (performance.now() < end) {
    const s0 = performance.now();
    await idem.send(topic, 0, record);
    sends.push(performance.now() - s0);
  }
  await idem.close();
  commits.sort((a, b) => a - b);
  sends.sort((a, b) => a - b);
  return {
    commitsPerS: commits.length / TXN_S,
    commitP50: pct(commits, 50),
    commitP99: pct(commits, 99),
    sendsPerS: sends.length / TXN_S,
    sendP50: pct(sends, 50),
    sendP99: pct(sends, 99),
  };
}

try {
  const produce: { transportS: number; baselineS: number; encodeBaselineS: number }[] = [];
  const read: { transportS: number; baselineS: number }[] = [];
  const txn: Awaited<ReturnType<typeof txnRep>>[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const p = await produceRep(rep);
    produce.push(p);
    read.push(await readRep(p.topic));
    txn.push(await txnRep(rep));
  }
  const rate = (s: number) => Math.round(N / s);
  const m = (xs: number[]) => round(median(xs));
  console.log(
    JSON.stringify({
      name: 'transport-embedded',
      events: N,
      reps: REPS,
      flushMs: FLUSH_MS,
      produce: {
        seconds: m(produce.map((x) => x.transportS)),
        rate: rate(median(produce.map((x) => x.transportS))),
        baseline: {
          what: 'Cluster.produce of pre-encoded 1000-record batches',
          rate: rate(median(produce.map((x) => x.baselineS))),
        },
        ratio: m(produce.map((x) => x.baselineS / x.transportS)),
        encodeBaseline: {
          what: 'encodeRecordBatch + Cluster.produce per 1000 records',
          rate: rate(median(produce.map((x) => x.encodeBaselineS))),
        },
        encodeRatio: m(produce.map((x) => x.encodeBaselineS / x.transportS)),
        reps: produce.map((x) => rate(x.transportS)),
        baselineReps: produce.map((x) => rate(x.baselineS)),
        encodeBaselineReps: produce.map((x) => rate(x.encodeBaselineS)),
      },
      read: {
        seconds: m(read.map((x) => x.transportS)),
        rate: rate(median(read.map((x) => x.transportS))),
        baseline: {
          what: 'Cluster.fetch + decodeRecordBatch',
          rate: rate(median(read.map((x) => x.baselineS))),
        },
        ratio: m(read.map((x) => x.baselineS / x.transportS)),
        reps: read.map((x) => rate(x.transportS)),
        baselineReps: read.map((x) => rate(x.baselineS)),
      },
      transaction1Record: {
        commitsPerS: m(txn.map((x) => x.commitsPerS)),
        commitLatencyMs: { p50: m(txn.map((x) => x.commitP50)), p99: m(txn.map((x) => x.commitP99)) },
        baseline: {
          what: 'one awaited idempotent send of 1 record',
          sendsPerS: m(txn.map((x) => x.sendsPerS)),
          latencyMs: { p50: m(txn.map((x) => x.sendP50)), p99: m(txn.map((x) => x.sendP99)) },
        },
      },
    }),
  );
} finally {
  await t.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}
