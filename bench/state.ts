/**
 * State store benchmark: puts/s and gets/s of the in-memory and LMDB engines (100 000 keys,
 * 100-byte values, flush every 10 000 ops) and window-store puts/s, each beside a baseline
 * measured in the same run: a plain JS Map for in-memory, raw lmdb-js (putSync / get, and the
 * fairer transactionSync batch of 10 000 puts, no wrapper, same environment options) for LMDB.
 *
 * The machine is shared, so each figure is PAIRED with its baseline: after a warm-up run of
 * both, rounds alternate store / baseline; each side reports its median rate and the ratio
 * is the median of the per-round ratios. Also: the changelogging wrapper's cost and flush (commit) latency.
 *
 *   node --import tsx bench/state.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { open } from 'lmdb';
import {
  bytesSerde,
  createInMemoryEngine,
  createLmdbEngine,
  type KeyValueStore,
  type StoreEngine,
  stringSerde,
  type WindowStore,
  withChangelog,
} from '../src/stream/state/index.js';

const N = 100_000;
const VALUE_BYTES = 100;
const FLUSH_EVERY = 10_000;
const MEMORY_ROUNDS = 7;
const LMDB_ROUNDS = 7;
const WINDOW_KEYS = 10_000;
const WINDOWS_PER_KEY = 10;
const WINDOW_PUTS = WINDOW_KEYS * WINDOWS_PER_KEY;

const keys: string[] = [];
for (let i = 0; i < N; i++) keys.push(`key-${(i * 7919) % N}-${i}`);
const values: Buffer[] = [];
for (let i = 0; i < N; i++) values.push(Buffer.alloc(VALUE_BYTES, i & 0xff));
const readOrder = [...keys].reverse();

const flushMs: number[] = [];
let sink = 0;
let events = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(3));
}

interface Pair {
  store: number;
  baseline: number;
  ratio: number;
}

/** Alternating rounds of the store and its baseline, after one warm-up run of each. */
function paired(store: () => void, baseline: () => void, ops: number, rounds: number): Pair {
  store();
  baseline();
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    store();
    a.push(ops / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    baseline();
    b.push(ops / ((performance.now() - t0) / 1000));
  }
  events += 2 * ops * (rounds + 1);
  // The ratio is the median of per-round ratios: a round's two runs share the machine's load
  // of that moment, so drift in background load cancels out.
  const ratios = a.map((x, i) => x / b[i]);
  return {
    store: Math.round(median(a)),
    baseline: Math.round(median(b)),
    ratio: Number(median(ratios).toFixed(2)),
  };
}

/** Time spent in put() alone (flushes excluded), to separate the store's cost from LMDB's. */
const putPhaseNsPerOp: number[] = [];

function kvPuts(s: KeyValueStore<string, Uint8Array>, timeFlush = false): () => void {
  return () => {
    let putMs = 0;
    for (let i = 0; i < N; i += FLUSH_EVERY) {
      const t0 = performance.now();
      for (let j = i; j < i + FLUSH_EVERY; j++) s.put(keys[j], values[j]);
      const t1 = performance.now();
      putMs += t1 - t0;
      s.flush();
      if (timeFlush) flushMs.push(performance.now() - t1);
    }
    if (timeFlush) putPhaseNsPerOp.push((putMs * 1e6) / N);
  };
}

function kvGets(s: KeyValueStore<string, Uint8Array>): () => void {
  return () => {
    for (let i = 0; i < N; i++) sink += (s.get(readOrder[i]) as Uint8Array).length;
  };
}

function windowPuts(s: WindowStore<string, Uint8Array>): () => void {
  return () => {
    let i = 0;
    for (let w = 0; w < WINDOWS_PER_KEY; w++) {
      for (let k = 0; k < WINDOW_KEYS; k++) s.put(keys[k], w * 60_000, values[i++]);
      s.flush();
    }
  };
}

function stores(engine: StoreEngine, label: string) {
  const opts = { keySerde: stringSerde, valueSerde: bytesSerde };
  return {
    kv: engine.keyValueStore({ name: `${label}-kv`, ...opts }),
    logged: withChangelog(engine.keyValueStore({ name: `${label}-kv-logged`, ...opts })),
    win: engine.windowStore({ name: `${label}-win`, ...opts, retentionMs: 24 * 3600_000 }),
  };
}

function memoryFigures(): Record<string, unknown> {
  const engine = createInMemoryEngine();
  const { kv, logged, win } = stores(engine, 'mem');
  const m = new Map<string, Uint8Array>();
  const mw = new Map<string, Uint8Array>();
  flushMs.length = 0;
  putPhaseNsPerOp.length = 0;
  const puts = paired(
    kvPuts(kv, true),
    () => {
      for (let i = 0; i < N; i++) m.set(keys[i], values[i]);
    },
    N,
    MEMORY_ROUNDS,
  );
  const flush = { p50: percentile(flushMs, 50), p99: percentile(flushMs, 99) };
  const putNs = Math.round(median(putPhaseNsPerOp));
  const gets = paired(
    kvGets(kv),
    () => {
      for (let i = 0; i < N; i++) sink += (m.get(readOrder[i]) as Uint8Array).length;
    },
    N,
    MEMORY_ROUNDS,
  );
  const windowPutsPair = paired(
    windowPuts(win),
    () => {
      let i = 0;
      for (let w = 0; w < WINDOWS_PER_KEY; w++) {
        for (let k = 0; k < WINDOW_KEYS; k++) mw.set(`${keys[k]}|${w * 60_000}`, values[i++]);
      }
    },
    WINDOW_PUTS,
    MEMORY_ROUNDS,
  );
  const changelogged = paired(kvPuts(logged), kvPuts(kv), N, MEMORY_ROUNDS);
  void engine.close();
  return {
    puts_per_s: puts.store,
    gets_per_s: gets.store,
    window_puts_per_s: windowPutsPair.store,
    changelogged_puts_per_s: changelogged.store,
    baseline_map: {
      puts_per_s: puts.baseline,
      gets_per_s: gets.baseline,
      window_puts_per_s: windowPutsPair.baseline,
    },
    ratios: {
      puts_vs_map: puts.ratio,
      gets_vs_map: gets.ratio,
      window_puts_vs_map: windowPutsPair.ratio,
      changelogged_vs_plain_puts: changelogged.ratio,
    },
    flush_10k_ms: flush,
    put_ns_per_op_excluding_flush: putNs,
  };
}

async function lmdbFigures(dir: string): Promise<Record<string, unknown>> {
  const engine = createLmdbEngine({ path: join(dir, 'engine') });
  const { kv, logged, win } = stores(engine, 'lmdb');
  const env = open({ path: join(dir, 'raw'), noSync: true, maxDbs: 8 });
  const db = env.openDB<Buffer, string>('raw', { encoding: 'binary' });
  const wdb = env.openDB<Buffer, [string, number]>('raw-win', { encoding: 'binary' });
  flushMs.length = 0;
  putPhaseNsPerOp.length = 0;
  const putsVsPutSync = paired(
    kvPuts(kv, true),
    () => {
      for (let i = 0; i < N; i++) db.putSync(keys[i], values[i]);
    },
    N,
    LMDB_ROUNDS,
  );
  const flush = { p50: percentile(flushMs, 50), p99: percentile(flushMs, 99) };
  const putNs = Math.round(median(putPhaseNsPerOp));
  const putsVsBatched = paired(
    kvPuts(kv),
    () => {
      for (let i = 0; i < N; i += FLUSH_EVERY) {
        db.transactionSync(() => {
          for (let j = i; j < i + FLUSH_EVERY; j++) db.put(keys[j], values[j]);
        });
      }
    },
    N,
    LMDB_ROUNDS,
  );
  const gets = paired(
    kvGets(kv),
    () => {
      for (let i = 0; i < N; i++) sink += (db.get(readOrder[i]) as Buffer).length;
    },
    N,
    LMDB_ROUNDS,
  );
  // Window baseline: [key, start] array keys, one transaction per 10 000 puts as the store's
  // flush does (putSync per window is several times slower still and would flatter the ratio).
  const windowPutsPair = paired(
    windowPuts(win),
    () => {
      let i = 0;
      for (let w = 0; w < WINDOWS_PER_KEY; w++) {
        wdb.transactionSync(() => {
          for (let k = 0; k < WINDOW_KEYS; k++) wdb.put([keys[k], w * 60_000], values[i++]);
        });
      }
    },
    WINDOW_PUTS,
    LMDB_ROUNDS,
  );
  const changelogged = paired(kvPuts(logged), kvPuts(kv), N, LMDB_ROUNDS);
  await engine.close();
  await env.close();
  return {
    puts_per_s: putsVsBatched.store,
    gets_per_s: gets.store,
    window_puts_per_s: windowPutsPair.store,
    changelogged_puts_per_s: changelogged.store,
    baseline_raw_lmdb: {
      putSync_per_s: putsVsPutSync.baseline,
      puts_batched_10k_per_txn_per_s: putsVsBatched.baseline,
      gets_per_s: gets.baseline,
      window_puts_batched_10k_per_txn_per_s: windowPutsPair.baseline,
    },
    ratios: {
      puts_vs_raw_putSync: putsVsPutSync.ratio,
      puts_vs_raw_batched: putsVsBatched.ratio,
      gets_vs_raw_get: gets.ratio,
      window_puts_vs_raw_batched: windowPutsPair.ratio,
      changelogged_vs_plain_puts: changelogged.ratio,
      target: 0.8,
    },
    flush_10k_ms: flush,
    put_ns_per_op_excluding_flush: putNs,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  const t0 = performance.now();
  try {
    const memory = memoryFigures();
    const lmdb = await lmdbFigures(dir);
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      JSON.stringify({
        name: 'state',
        keys: N,
        value_bytes: VALUE_BYTES,
        flush_every: FLUSH_EVERY,
        rounds: { memory: MEMORY_ROUNDS, lmdb: LMDB_ROUNDS },
        events,
        seconds: Number(seconds.toFixed(2)),
        rate: lmdb.puts_per_s,
        memory,
        lmdb,
        latency: { memory_flush_10k_ms: memory.flush_10k_ms, lmdb_flush_10k_ms: lmdb.flush_10k_ms },
        checksum: sink % 1000,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
