/**
 * bench/cdc.ts: Postgres CDC throughput and latency, printed as ONE JSON object.
 *
 *   node --import tsx bench/cdc.ts [--snapshot-rows N] [--changes N] [--latency-txns N] [--chunk-rows N] [--sink broker|file]
 *                                  [--sink-config key=value,key=value]
 *
 * Starts a throwaway Postgres (test/helpers/postgres.ts), then measures, in one run:
 *  - baseline: Postgres's own insert rate for the same rows (INSERT … SELECT generate_series,
 *    and the streaming phase's transactions as the client committed them);
 *  - snapshot rows/s: initial snapshot of a 6-column table into the sink (`rate`: from
 *    start() to streaming, set-up included; `phase_rate`: the snapshot phase alone);
 *  - streaming changes/s: changes committed in 1000-row transactions while the connector is
 *    stopped; then the time from its restart until the sink acknowledged the last change;
 *  - commit-to-sink latency p50/p99: single-row transactions at a steady rate; latency is
 *    the sink's acknowledgement time minus the event's source.ts_ms (Postgres commit time).
 * The sink (default `broker`) is Sluice's broker in its own process (`sluice broker`, fsync
 * before every acknowledgement), written by KafkaChangeSink (librdkafka, idempotent, acks=all)
 * with the offsets in `_sluice_cdc_offsets`: the path `sluice cdc postgres --bootstrap` takes.
 * `--sink file` uses the fsync'd file sink instead (no broker).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  type ChangeRecord,
  type ChangeSink,
  FileChangeSink,
  FileOffsetStore,
  KafkaChangeSink,
  KafkaOffsetStore,
  type OffsetStore,
  PostgresCdcSource,
  type SourceOffset,
} from '../src/connectors/index.js';
import { type ManagedBrokerProcess, startBrokerProcess } from '../test/helpers/broker-process.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { quantile } from './support/stats.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const SNAPSHOT_ROWS = arg('snapshot-rows', 300_000);
const CHANGES = arg('changes', 300_000);
const LATENCY_TXNS = arg('latency-txns', 1000);
const CHUNK_ROWS = arg('chunk-rows', 10_000);
const SINK = process.argv.includes('--sink') ? process.argv[process.argv.indexOf('--sink') + 1] : 'broker';
if (SINK !== 'broker' && SINK !== 'file') throw new Error(`--sink broker|file, not ${SINK}`);
// Extra librdkafka properties for KafkaChangeSink (experiments: batch.size, linger.ms, …).
const SINK_CONFIG: Record<string, string> = Object.fromEntries(
  (process.argv.includes('--sink-config') ? process.argv[process.argv.indexOf('--sink-config') + 1] : '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

class MeasuringSink implements ChangeSink {
  count = 0;
  latencies: number[] = [];
  /** Per latency row (by id): Postgres's commit time (source.ts_ms) and the sink's ack time. */
  times = new Map<string, { ts: number; ack: number }>();
  measure = false;
  onCount: (() => void) | undefined;
  constructor(private readonly inner: ChangeSink) {}
  async send(records: readonly ChangeRecord[]): Promise<void> {
    await this.inner.send(records);
    const now = Date.now();
    this.count += records.length;
    if (this.measure) {
      for (const r of records) {
        if (r.value === null) continue;
        const v = JSON.parse(r.value.toString()) as { source: { ts_ms: number }; after: { id: unknown } };
        this.latencies.push(now - v.source.ts_ms);
        this.times.set(String(v.after.id), { ts: v.source.ts_ms, ack: now });
      }
    }
    this.onCount?.();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Times the connector's offset saves (each one an acks=all produce to the offsets topic). */
class MeasuringOffsets implements OffsetStore {
  measure = false;
  saveMs: number[] = [];
  constructor(private readonly inner: OffsetStore) {}
  load(slot: string) {
    return this.inner.load(slot);
  }
  async save(o: SourceOffset): Promise<void> {
    const t = performance.now();
    await this.inner.save(o);
    if (this.measure) this.saveMs.push(performance.now() - t);
  }
  clear(slot: string) {
    return this.inner.clear(slot);
  }
  close() {
    return this.inner.close();
  }
}

const percentile = (xs: readonly number[], p: number): number =>
  quantile(
    [...xs].sort((a, b) => a - b),
    p / 100,
  );

/** CPU seconds (user + system, all threads) of a process, from /proc; with `children`, also its reaped children's. */
function procCpu(pid: number | undefined, children = false, thread?: number): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}${thread === undefined ? '' : `/task/${thread}`}/stat`, 'utf8');
    // after "pid (comm) ": state is field 3; utime, stime, cutime, cstime are fields 14-17
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of Postgres: the postmaster, its live backends and the ones that exited. */
function postgresCpu(dataDir: string): number {
  let pm: number;
  try {
    pm = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return 0;
  }
  let kids: number[] = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(pm)])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
  } catch {}
  return procCpu(pm, true) + kids.reduce((a, k) => a + procCpu(k), 0);
}

/**
 * CPU seconds used so far by this process (connector, incl. librdkafka's threads), by its
 * main thread alone (the JavaScript: the connector's per-core ceiling), the broker and Postgres.
 */
function cpuNow(): { connector: number; connectorMain: number; broker: number; postgres: number } {
  const u = process.cpuUsage();
  return {
    connector: (u.user + u.system) / 1e6,
    connectorMain: procCpu(process.pid, false, process.pid),
    broker: procCpu(broker?.pid()),
    postgres: postgresCpu(pgs.dataDir),
  };
}

function cpuSince(c0: ReturnType<typeof cpuNow>, rows: number) {
  const c1 = cpuNow();
  const r = (x: number) => Number(x.toFixed(2));
  return {
    connector_s: r(c1.connector - c0.connector),
    broker_s: r(c1.broker - c0.broker),
    postgres_s: r(c1.postgres - c0.postgres),
    // CPU-microseconds per row, all three processes: independent of how loaded the machine is
    total_us_per_row: r(
      ((c1.connector - c0.connector + c1.broker - c0.broker + c1.postgres - c0.postgres) * 1e6) / rows,
    ),
    connector_us_per_row: r(((c1.connector - c0.connector) * 1e6) / rows),
    // the main thread alone (ticks of 10 ms: ±0.03 µs/row at 300 000 rows)
    connector_main_us_per_row: r(((c1.connectorMain - c0.connectorMain) * 1e6) / rows),
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the sink');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pgs = await startPostgres({ config: { shared_buffers: "'256MB'", max_wal_size: "'2GB'" } });
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-cdc-'));
const client = new pg.Client({ connectionString: pgs.url });
let source: PostgresCdcSource | undefined;
let broker: ManagedBrokerProcess | undefined;
let sink: MeasuringSink | undefined;
let offsets: MeasuringOffsets | undefined;
try {
  await client.connect();
  await client.query(
    'CREATE TABLE snap (id bigint PRIMARY KEY, name text, amount numeric(12,2), ts timestamptz, flag bool, n int)',
  );
  await client.query(
    'CREATE TABLE stream (id bigint PRIMARY KEY, name text, amount numeric(12,2), ts timestamptz, flag bool, n int)',
  );
  const fill = (table: string, from: number, to: number) =>
    client.query(
      `INSERT INTO ${table} SELECT g, 'name ' || g, (g % 100000) / 100.0, now(), g % 2 = 0, g % 1000 FROM generate_series($1::bigint, $2::bigint) g`,
      [from, to],
    );

  // Baseline 1: Postgres inserting the snapshot table itself.
  let t0 = performance.now();
  await fill('snap', 1, SNAPSHOT_ROWS);
  const pgBulkInsertRate = SNAPSHOT_ROWS / ((performance.now() - t0) / 1000);
  await client.query('VACUUM ANALYZE snap');

  if (SINK === 'broker') {
    broker = await startBrokerProcess();
    sink = new MeasuringSink(new KafkaChangeSink({ bootstrap: broker.bootstrap, config: SINK_CONFIG }));
    offsets = new MeasuringOffsets(new KafkaOffsetStore({ bootstrap: broker.bootstrap }));
  } else {
    sink = new MeasuringSink(await FileChangeSink.open(join(dir, 'records.jsonl')));
    offsets = new MeasuringOffsets(new FileOffsetStore(join(dir, 'offsets')));
  }
  const options = {
    url: pgs.url,
    tables: ['public.snap', 'public.stream'],
    topicPrefix: 'bench',
    sink,
    offsets,
    heartbeatIntervalMs: 0,
    snapshotChunkRows: CHUNK_ROWS,
  };
  source = new PostgresCdcSource(options);

  // Snapshot.
  let cpu0 = cpuNow();
  const elu0 = performance.eventLoopUtilization();
  t0 = performance.now();
  await source.start();
  const snapshotElu = performance.eventLoopUtilization(elu0).utilization;
  const snapshotSeconds = (performance.now() - t0) / 1000;
  const snapshotRows = sink.count;
  const snapshotCpu = cpuSince(cpu0, snapshotRows);
  const snapshotPhaseMs = source.stats.snapshotMs;

  // Streaming: changes committed in 1000-row transactions while the connector is stopped
  // (baseline 2: how fast Postgres committed them), then the connector restarts from its
  // offset and catches up: its streaming rate, not the writer's, is what is measured.
  await source.stop();
  const tx = 1000;
  t0 = performance.now();
  for (let i = 0; i < CHANGES; i += tx) await fill('stream', i + 1, Math.min(CHANGES, i + tx));
  const pgTxnInsertSeconds = (performance.now() - t0) / 1000;
  source = new PostgresCdcSource(options);
  const base = sink.count;
  cpu0 = cpuNow();
  t0 = performance.now();
  await source.start();
  await waitFor(() => (sink as MeasuringSink).count - base >= CHANGES, 300_000);
  const streamingSeconds = (performance.now() - t0) / 1000;
  const streamingCpu = cpuSince(cpu0, CHANGES);

  // Latency: single-row transactions at ~500/s.
  sink.measure = true;
  offsets.measure = true;
  const latBase = sink.count;
  const returned = new Map<string, number>();
  for (let i = 0; i < LATENCY_TXNS; i++) {
    await client.query('INSERT INTO stream VALUES ($1, $2, 1.5, now(), true, 1)', [
      CHANGES + 1 + i,
      `lat ${i}`,
    ]);
    returned.set(String(CHANGES + 1 + i), Date.now());
    await new Promise((r) => setTimeout(r, 2));
  }
  await waitFor(() => (sink as MeasuringSink).count - latBase >= LATENCY_TXNS, 60_000);
  // Where the latency goes: commit time → the writer's INSERT returned (Postgres's commit, WAL
  // flush included, and this process waking up) vs → the sink's acknowledgement.
  const commitMs: number[] = [];
  const afterCommitMs: number[] = [];
  for (const [id, t] of sink.times) {
    const r = returned.get(id);
    if (r === undefined) continue;
    commitMs.push(r - t.ts);
    afterCommitMs.push(t.ack - Math.max(r, t.ts));
  }
  await source.stop();
  source = undefined;

  const out = {
    name: 'cdc',
    sink_config: SINK_CONFIG,
    sink:
      SINK === 'broker'
        ? 'Sluice broker process (fsync before ack), librdkafka idempotent producer acks=all, offsets in _sluice_cdc_offsets'
        : 'file (fsync per batch, fsync’d offsets)',
    events: snapshotRows + CHANGES + LATENCY_TXNS,
    seconds: Number((snapshotSeconds + streamingSeconds).toFixed(3)),
    snapshot: {
      rows: snapshotRows,
      seconds: Number(snapshotSeconds.toFixed(3)),
      rate: Math.round(snapshotRows / snapshotSeconds),
      // the snapshot phase alone, without set-up (checks, publication, slot creation)
      phase_seconds: Number((snapshotPhaseMs / 1000).toFixed(3)),
      phase_rate: Math.round(snapshotRows / (snapshotPhaseMs / 1000)),
      chunk_rows: CHUNK_ROWS,
      // against Postgres inserting the same rows in this run (a load-independent-ish yardstick)
      rate_per_postgres_insert_rate: Number((snapshotRows / snapshotSeconds / pgBulkInsertRate).toFixed(3)),
      cpu: snapshotCpu,
      // share of the time the connector's event loop was busy (1: the main thread is the limit)
      event_loop_utilization: Number(snapshotElu.toFixed(3)),
    },
    streaming: {
      changes: CHANGES,
      seconds: Number(streamingSeconds.toFixed(3)),
      rate: Math.round(CHANGES / streamingSeconds),
      transactionRows: tx,
      cpu: streamingCpu,
    },
    latency: {
      transactions: LATENCY_TXNS,
      p50_ms: percentile(sink.latencies, 50),
      p99_ms: percentile(sink.latencies, 99),
      max_ms: Math.max(...sink.latencies),
      // split of the same rows: Postgres's commit as its client saw it, then the rest
      postgres_commit_p50_ms: percentile(commitMs, 50),
      postgres_commit_p99_ms: percentile(commitMs, 99),
      after_client_commit_p50_ms: percentile(afterCommitMs, 50),
      after_client_commit_p99_ms: percentile(afterCommitMs, 99),
      // the connector saves its offset after a send and before the next one when idle
      offset_saves: offsets.saveMs.length,
      offset_save_p50_ms: Number(percentile(offsets.saveMs, 50).toFixed(1)),
      offset_save_p99_ms: Number(percentile(offsets.saveMs, 99).toFixed(1)),
    },
    baseline: {
      postgres_bulk_insert_rows_per_s: Math.round(pgBulkInsertRate),
      postgres_txn_insert_rows_per_s: Math.round(CHANGES / pgTxnInsertSeconds),
    },
    targets: { snapshot_rate: 100_000, streaming_rate: 30_000, p99_ms: 100 },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await source?.stop().catch(() => {});
  await sink?.close().catch(() => {});
  await offsets?.close().catch(() => {});
  await broker?.stop();
  await client.end().catch(() => {});
  await pgs.stop();
  rmSync(dir, { recursive: true, force: true });
}
