/**
 * CRC-32C throughput of every implementation available here (src/protocol/crc32c.ts:
 * 'native-3way' = Sluice's addon, 'node-rs' = @node-rs/crc32, 'js' = slice-by-16), in GB/s
 * (1e9 bytes/s) over inputs of 64 B to 1 MiB, plus the log's own case: a 64 KiB record batch
 * checked from its attributes field (offset 21, unaligned) to the end, as validateBatch does.
 * The implementations take turns within each repetition (so load from other processes falls on
 * all of them alike); medians of BENCH_REPS repetitions (default 7) of ~BENCH_MS ms (default
 * 150) each, after one discarded warm-up. Both wall-clock and CPU-time (process.cpuUsage) rates
 * are given: on a shared machine the CPU-time one moves less. Ratios are to node-rs (what the
 * log used before the addon) and to js, measured in the same run. Prints ONE JSON object.
 *   node --import tsx bench/crc32c.ts
 */
import {
  CRC32C_IMPLEMENTATIONS,
  type Crc32cFunction,
  crc32cImplementation,
  crc32cImplementations,
} from '../src/protocol/index.js';

const REPS = Number(process.env.BENCH_REPS ?? 7);
const MS = Number(process.env.BENCH_MS ?? 150);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

interface Case {
  name: string;
  buf: Buffer;
  start: number;
}

const cases: Case[] = [];
for (const [name, size] of [
  ['64B', 64],
  ['1KiB', 1024],
  ['16KiB', 16 * 1024],
  ['64KiB', 64 * 1024],
  ['1MiB', 1024 * 1024],
] as const) {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 131 + (i >>> 9)) & 0xff;
  cases.push({ name, buf, start: 0 });
}
{
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) & 0xff;
  cases.push({ name: '64KiB-batch-from-21', buf, start: 21 });
}

const impls = CRC32C_IMPLEMENTATIONS.filter((n) => crc32cImplementations[n] !== undefined);
let sink = 0;

/** Calls per timed block so one block lasts about MS ms for this implementation. */
function calibrate(fn: Crc32cFunction, c: Case): number {
  let calls = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < calls; i++) sink ^= fn(c.buf, c.start);
    const ms = performance.now() - t;
    if (ms >= 20) return Math.max(1, Math.round((calls * MS) / ms));
    calls *= 4;
  }
}

const t0 = performance.now();
let events = 0;
const results: Record<string, Record<string, unknown>> = {};
for (const c of cases) {
  const bytes = c.buf.length - c.start;
  const calls = new Map(impls.map((n) => [n, calibrate(crc32cImplementations[n] as Crc32cFunction, c)]));
  const wall = new Map(impls.map((n) => [n, [] as number[]]));
  const cpu = new Map(impls.map((n) => [n, [] as number[]]));
  for (let r = -1; r < REPS; r++) {
    for (const n of impls) {
      const fn = crc32cImplementations[n] as Crc32cFunction;
      const k = calls.get(n) as number;
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      for (let i = 0; i < k; i++) sink ^= fn(c.buf, c.start);
      const wallSec = (performance.now() - w0) / 1000;
      const d = process.cpuUsage(c0);
      const cpuSec = Math.max((d.user + d.system) / 1e6, 1e-6);
      events += k;
      if (r < 0) continue;
      wall.get(n)?.push((k * bytes) / wallSec / 1e9);
      cpu.get(n)?.push((k * bytes) / cpuSec / 1e9);
    }
  }
  const row: Record<string, unknown> = { bytes };
  for (const n of impls) {
    row[n] = {
      gbPerSec: round(median(wall.get(n) as number[])),
      cpuGbPerSec: round(median(cpu.get(n) as number[])),
    };
  }
  const gb = (n: string) => median(wall.get(n as never) ?? [Number.NaN]);
  const cpuGb = (n: string) => median(cpu.get(n as never) ?? [Number.NaN]);
  if (impls.includes('native-3way') && impls.includes('node-rs')) {
    row.nativeOverNodeRs = round(gb('native-3way') / gb('node-rs'));
    row.nativeOverNodeRsCpu = round(cpuGb('native-3way') / cpuGb('node-rs'));
  }
  row.activeOverJs = round(gb(crc32cImplementation) / gb('js'));
  results[c.name] = row;
}
const seconds = (performance.now() - t0) / 1000;

console.log(
  JSON.stringify({
    name: 'crc32c',
    unit: 'GB/s (1e9 bytes per second), median of repetitions',
    active: crc32cImplementation,
    available: impls,
    events,
    seconds: round(seconds),
    rate: Math.round(events / seconds),
    results,
    baseline: 'node-rs (@node-rs/crc32, single hardware stream) and js (slice-by-16), same run, taking turns',
    sink: sink !== 0.5,
  }),
);
