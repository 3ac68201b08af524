/**
 * The stream chaos tests' workload: the input, the oracle and the comparison.
 *
 * Input (deterministic from a seed, generated lazily so 500 000 records are never all in
 * memory; iterate it twice to produce and to compute the oracle): JSON values
 * `{"k":"k17","v":431,"ts":…}` keyed by `k` (UTF-8), placed on partition
 * `partitionFor(key, partitions)` (Kafka's murmur2, so a key lives on one partition as a Java
 * producer would put it). Event time is `T0 + i × stepMs − jitter` for the i-th record overall,
 * jitter uniform in [0, MAX_DISORDER_MS), so within a partition timestamps are out of order by
 * less than MAX_DISORDER_MS < WATERMARK_BOUND_MS: with the app's
 * boundedOutOfOrderness(WATERMARK_BOUND_MS) no record is ever late, and every data record
 * counts. After the data, one flush record per key (v 0) at an event time past every data
 * window plus the watermark bound: every partition (and every repartition partition, whatever
 * the key's bytes there) sees event time jump, so every data window closes. The flush records'
 * own windows never close; they are not in the oracle.
 *
 * Output (the app, windowed-app.ts): one JSON value per (key, tumbling window) when the window
 * closes: `{"key","start","end","count","sum"}`.
 *
 * The oracle is the same aggregation computed directly over the generated data records.
 * `diffWindowTotals` compares output with oracle as multisets keyed by (key, start, end):
 * missing (no output with the right value), duplicated (the right value more than once),
 * wrong (a value that differs from the oracle's), unexpected (a window the oracle lacks).
 */
import { partitionFor } from '../../../src/transport/index.js';
import { prng } from '../../protocol/support/fuzz.js';

export const INPUT_TOPIC = 'chaos-events';
export const OUTPUT_TOPIC = 'chaos-window-totals';
/**
 * Event time of the first record: fixed (a seed replays the same input) and in the past (far
 * from the app's maxFutureMs). Record timestamps are these event times, so topics holding them
 * need time retention off (ClusterProbe.createTopic does that; the runtime's repartition topics
 * must do the same, as Kafka Streams' do).
 */
export const T0 = 1_600_000_000_000;
export const WINDOW_MS = 20_000;
export const MAX_DISORDER_MS = 2_000;
export const WATERMARK_BOUND_MS = 5_000;

export interface InputEvent {
  readonly k: string;
  readonly v: number;
  readonly ts: number;
}

export interface WindowTotal {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly sum: number;
}

export interface WorkloadSpec {
  readonly records: number;
  readonly keys: number;
  readonly partitions: number;
  readonly seed: number;
  /** Event-time step between consecutive records (default 2 ms: 500 000 records span 1000 s). */
  readonly stepMs?: number;
  /** The app's window size (default WINDOW_MS). */
  readonly windowMs?: number;
  /** Disorder of the timestamps (default MAX_DISORDER_MS); must stay below the app's bound. */
  readonly disorderMs?: number;
  /** The app's watermark bound (default WATERMARK_BOUND_MS), for the flush records' time. */
  readonly boundMs?: number;
}

export interface InputRecord {
  readonly partition: number;
  readonly key: Buffer;
  readonly value: Buffer;
  readonly timestamp: number;
  readonly event: InputEvent;
  /** A flush record (advances event time only; its window never closes). */
  readonly flush: boolean;
}

export const keyName = (i: number): string => `k${i}`;

/** The input in produce order: `records` data records, then one flush record per key. */
export function* generateInput(spec: WorkloadSpec): Generator<InputRecord> {
  const rnd = prng(spec.seed);
  const step = spec.stepMs ?? 2;
  const size = spec.windowMs ?? WINDOW_MS;
  const disorder = spec.disorderMs ?? MAX_DISORDER_MS;
  const keyBytes = Array.from({ length: spec.keys }, (_, i) => Buffer.from(keyName(i)));
  const partitionOf = keyBytes.map((k) => partitionFor(k, spec.partitions));
  const make = (ki: number, v: number, ts: number, flush: boolean): InputRecord => {
    const event = { k: keyName(ki), v, ts };
    return {
      partition: partitionOf[ki] as number,
      key: keyBytes[ki] as Buffer,
      value: Buffer.from(JSON.stringify(event)),
      timestamp: ts,
      event,
      flush,
    };
  };
  let maxTs = T0;
  for (let i = 0; i < spec.records; i++) {
    const ki = Math.floor(rnd() * spec.keys);
    const v = 1 + Math.floor(rnd() * 1000);
    const ts = T0 + Math.floor(i * step) - Math.floor(rnd() * disorder);
    if (ts > maxTs) maxTs = ts;
    yield make(ki, v, ts, false);
  }
  const flushTs = windowStart(maxTs, size) + 3 * size + (spec.boundMs ?? WATERMARK_BOUND_MS);
  for (let ki = 0; ki < spec.keys; ki++) yield make(ki, 0, flushTs, true);
}

export function windowStart(ts: number, size = WINDOW_MS): number {
  return ts - (((ts % size) + size) % size);
}

/** Every partition must receive a flush record, or its windows would never close. */
export function partitionsWithKeys(spec: WorkloadSpec): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < spec.keys; i++) out.add(partitionFor(Buffer.from(keyName(i)), spec.partitions));
  return out;
}

/** The aggregation computed directly: count and sum per (key, tumbling window) of the data records. */
export function oracle(spec: WorkloadSpec): WindowTotal[] {
  const size = spec.windowMs ?? WINDOW_MS;
  const acc = new Map<string, { key: string; start: number; count: number; sum: number }>();
  for (const r of generateInput(spec)) {
    if (r.flush) continue;
    const start = windowStart(r.event.ts, size);
    const id = `${r.event.k}|${start}`;
    let a = acc.get(id);
    if (a === undefined) {
      a = { key: r.event.k, start, count: 0, sum: 0 };
      acc.set(id, a);
    }
    a.count++;
    a.sum += r.event.v;
  }
  return [...acc.values()].map((a) => ({
    key: a.key,
    start: a.start,
    end: a.start + size,
    count: a.count,
    sum: a.sum,
  }));
}

const idOf = (w: WindowTotal): string => `${w.key}|${w.start}|${w.end}`;
const show = (w: WindowTotal): string => JSON.stringify(w);

export interface WindowDiff {
  readonly expected: number;
  readonly received: number;
  /** Oracle windows without any output carrying the oracle's value. */
  readonly missing: WindowTotal[];
  /** Oracle windows whose correct value arrived more than once: extra copies, per window. */
  readonly duplicated: { entry: WindowTotal; extra: number }[];
  readonly duplicates: number;
  /** Outputs for an oracle window with another value. */
  readonly wrong: { got: WindowTotal; want: WindowTotal }[];
  /** Outputs for a window the oracle does not have. */
  readonly unexpected: WindowTotal[];
  /** A few lines naming the counts and the first examples of each kind. */
  summary(): string;
}

export function diffWindowTotals(want: readonly WindowTotal[], got: readonly WindowTotal[]): WindowDiff {
  const byId = new Map<string, WindowTotal>();
  for (const w of want) byId.set(idOf(w), w);
  const right = new Map<string, number>();
  const wrong: { got: WindowTotal; want: WindowTotal }[] = [];
  const unexpected: WindowTotal[] = [];
  for (const g of got) {
    const id = idOf(g);
    const w = byId.get(id);
    if (w === undefined) unexpected.push(g);
    else if (g.count === w.count && g.sum === w.sum) right.set(id, (right.get(id) ?? 0) + 1);
    else wrong.push({ got: g, want: w });
  }
  const missing: WindowTotal[] = [];
  const duplicated: { entry: WindowTotal; extra: number }[] = [];
  let duplicates = 0;
  for (const w of want) {
    const n = right.get(idOf(w)) ?? 0;
    if (n === 0) missing.push(w);
    else if (n > 1) {
      duplicated.push({ entry: w, extra: n - 1 });
      duplicates += n - 1;
    }
  }
  const byStart = new Map<number, number>();
  for (const m of missing) byStart.set(m.start, (byStart.get(m.start) ?? 0) + 1);
  const perWindow = [...byStart]
    .sort((a, b) => a[0] - b[0])
    .slice(0, 20)
    .map(([start, n]) => `${start}: ${n}`)
    .join(', ');
  const examples = <T>(label: string, xs: readonly T[], fmt: (x: T) => string): string =>
    xs.length === 0 ? '' : `\n  first ${label}: ${xs.slice(0, 5).map(fmt).join('\n    ')}`;
  return {
    expected: want.length,
    received: got.length,
    missing,
    duplicated,
    duplicates,
    wrong,
    unexpected,
    summary: () =>
      `oracle ${want.length} windows, output ${got.length} records: ${missing.length} missing, ` +
      `${duplicates} duplicates (over ${duplicated.length} windows), ${wrong.length} wrong, ` +
      `${unexpected.length} unexpected` +
      (missing.length === 0 ? '' : `\n  missing per window start (first 20 windows): ${perWindow}`) +
      examples('missing', missing, show) +
      examples('duplicated', duplicated, (d) => `${show(d.entry)} ×${d.extra + 1}`) +
      examples('wrong', wrong, (w) => `got ${show(w.got)} want ${show(w.want)}`) +
      examples('unexpected', unexpected, show),
  };
}
