/**
 * State store benchmark: puts/s and gets/s of the in-memory and LMDB engines (100 000 keys,
 * 100-byte values, flush every 10 000 ops) and window-store puts/s, each beside a baseline
 * measured in the same run: a plain JS Map for in-memory, raw lmdb-js (putSync / get, no
 * wrapper, same environment options) for LMDB. Each figure is the best of ROUNDS rounds.
 * Also: the changelogging wrapper's cost, and flush (commit) latency percentiles.
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
const ROUNDS = 5;
const LMDB_ROUNDS = 3;
const WINDOW_KEYS = 10_000;
const WINDOWS_PER_KEY = 10;

const keys: string[] = [];
for (let i = 0; i < N; i++) keys.push(`key-${(i * 7919) % N}-${i}`);
const values: Uint8Array[] = [];
for (let i = 0; i < N; i++) {
  const v = new Uint8Array(VALUE_BYTES);
  v.fill(i & 0xff);
  values.push(v);
}
const readOrder = [...keys].reverse();

const flushMs: number[] = [];
let sink = 0;

/** Best of `rounds` timed runs after one untimed warm-up run (JIT, first inserts). */
function rate(fn: () => void, ops: number, rounds = ROUNDS): number {
  fn();
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, ops / s);
  }
  return Math.round(best);
}

function kvPuts(s: KeyValueStore<string, Uint8Array>): () => void {
  return () => {
    for (let i = 0; i < N; i++) {
      s.put(keys[i], values[i]);
      if ((i + 1) % FLUSH_EVERY === 0) {
        const t0 = performance.now();
        s.flush();
        flushMs.push(performance.now() - t0);
      }
    }
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
      for (let k = 0; k < WINDOW_KEYS; k++) {
        s.put(keys[k], w * 60_000, values[i]);
        if (++i % FLUSH_EVERY === 0) s.flush();
      }
    }
  };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(3));
}

function engineFigures(engine: StoreEngine, label: string, rounds: number): Record<string, number> {
  const kv = engine.keyValueStore({ name: `${label}-kv`, keySerde: stringSerde, valueSerde: bytesSerde });
  flushMs.length = 0;
  const puts = rate(kvPuts(kv), N, rounds);
  const flushP50 = percentile(flushMs, 50);
  const flushP99 = percentile(flushMs, 99);
  kv.flush();
  const gets = rate(kvGets(kv), N, rounds);
  const logged = withChangelog(
    engine.keyValueStore({ name: `${label}-kv-logged`, keySerde: stringSerde, valueSerde: bytesSerde }),
  );
  const loggedPuts = rate(kvPuts(logged), N, rounds);
  const win = engine.windowStore({
    name: `${label}-win`,
    keySerde: stringSerde,
    valueSerde: bytesSerde,
    retentionMs: 24 * 3600_000,
  });
  const winPuts = rate(windowPuts(win), WINDOW_KEYS * WINDOWS_PER_KEY, rounds);
  return {
    puts_per_s: puts,
    gets_per_s: gets,
    changelogged_puts_per_s: loggedPuts,
    window_puts_per_s: winPuts,
    flush_10k_ms_p50: flushP50,
    flush_10k_ms_p99: flushP99,
  };
}

function mapBaseline(): Record<string, number> {
  const m = new Map<string, Uint8Array>();
  const puts = rate(() => {
    for (let i = 0; i < N; i++) m.set(keys[i], values[i]);
  }, N);
  const gets = rate(() => {
    for (let i = 0; i < N; i++) sink += (m.get(readOrder[i]) as Uint8Array).length;
  }, N);
  const w = new Map<string, Uint8Array>();
  const winPuts = rate(() => {
    let i = 0;
    for (let win = 0; win < WINDOWS_PER_KEY; win++) {
      for (let k = 0; k < WINDOW_KEYS; k++) w.set(`${keys[k]}|${win * 60_000}`, values[i++]);
    }
  }, WINDOW_KEYS * WINDOWS_PER_KEY);
  return { puts_per_s: puts, gets_per_s: gets, window_puts_per_s: winPuts };
}

function rawLmdbBaseline(path: string): Record<string, number> {
  const env = open({ path, noSync: true, maxDbs: 8 });
  const db = env.openDB<Buffer, string>('raw', { encoding: 'binary' });
  const puts = rate(
    () => {
      for (let i = 0; i < N; i++) db.putSync(keys[i], values[i] as Buffer);
    },
    N,
    LMDB_ROUNDS,
  );
  const batched = rate(
    () => {
      for (let i = 0; i < N; i += FLUSH_EVERY) {
        db.transactionSync(() => {
          for (let j = i; j < i + FLUSH_EVERY; j++) db.put(keys[j], values[j] as Buffer);
        });
      }
    },
    N,
    LMDB_ROUNDS,
  );
  const gets = rate(
    () => {
      for (let i = 0; i < N; i++) sink += (db.get(readOrder[i]) as Buffer).length;
    },
    N,
    LMDB_ROUNDS,
  );
  // Window baseline: [key, start] array keys, one transaction per 10 000 puts like the store's
  // flush (putSync per window is ~10x slower still and would only flatter the ratio).
  const wdb = env.openDB<Buffer, [string, number]>('raw-win', { encoding: 'binary' });
  const winPuts = rate(
    () => {
      let i = 0;
      for (let win = 0; win < WINDOWS_PER_KEY; win++) {
        wdb.transactionSync(() => {
          for (let k = 0; k < WINDOW_KEYS; k++) wdb.put([keys[k], win * 60_000], values[i++] as Buffer);
        });
      }
    },
    WINDOW_KEYS * WINDOWS_PER_KEY,
    LMDB_ROUNDS,
  );
  void env.close();
  return {
    puts_per_s: puts,
    puts_batched_10k_per_txn_per_s: batched,
    gets_per_s: gets,
    window_puts_batched_10k_per_txn_per_s: winPuts,
  };
}

const ratio = (a: number, b: number): number => Number((a / b).toFixed(2));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  const t0 = performance.now();
  try {
    const mapBase = mapBaseline();
    const mem = createInMemoryEngine();
    const memory = engineFigures(mem, 'mem', ROUNDS);
    await mem.close();
    const rawBase = rawLmdbBaseline(join(dir, 'raw'));
    const lm = createLmdbEngine({ path: join(dir, 'engine') });
    const lmdb = engineFigures(lm, 'lmdb', LMDB_ROUNDS);
    await lm.close();
    const seconds = (performance.now() - t0) / 1000;
    const events =
      ROUNDS * (2 * 3 * N + 2 * N + 2 * WINDOW_KEYS * WINDOWS_PER_KEY) + ROUNDS * (3 * N + 2 * N);
    console.log(
      JSON.stringify(
        {
          name: 'state',
          keys: N,
          value_bytes: VALUE_BYTES,
          flush_every: FLUSH_EVERY,
          rounds: ROUNDS,
          events,
          seconds: Number(seconds.toFixed(2)),
          rate: lmdb.puts_per_s,
          memory: { ...memory, baseline_map: mapBase },
          lmdb: { ...lmdb, baseline_raw_lmdb: rawBase },
          ratios: {
            memory_puts_vs_map: ratio(memory.puts_per_s, mapBase.puts_per_s),
            memory_gets_vs_map: ratio(memory.gets_per_s, mapBase.gets_per_s),
            memory_window_puts_vs_map: ratio(memory.window_puts_per_s, mapBase.window_puts_per_s),
            lmdb_puts_vs_raw_putSync: ratio(lmdb.puts_per_s, rawBase.puts_per_s),
            lmdb_puts_vs_raw_batched: ratio(lmdb.puts_per_s, rawBase.puts_batched_10k_per_txn_per_s),
            lmdb_gets_vs_raw_get: ratio(lmdb.gets_per_s, rawBase.gets_per_s),
            lmdb_window_puts_vs_raw_batched: ratio(
              lmdb.window_puts_per_s,
              rawBase.window_puts_batched_10k_per_txn_per_s,
            ),
            target_lmdb_vs_raw: 0.8,
          },
          latency: {
            memory_flush_10k_ms: { p50: memory.flush_10k_ms_p50, p99: memory.flush_10k_ms_p99 },
            lmdb_flush_10k_ms: { p50: lmdb.flush_10k_ms_p50, p99: lmdb.flush_10k_ms_p99 },
          },
          checksum: sink % 1000,
        },
        null,
        0,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
