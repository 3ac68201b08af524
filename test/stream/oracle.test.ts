/**
 * Correctness oracle: random event streams through Sluice's tumbling, hopping and session
 * aggregations, compared with the same aggregation computed by DuckDB SQL.
 *
 * The model of lateness (what both sides must agree on):
 *   - records are piped in batches of a random size b (1 to 8; b = 1 in a third of the cases)
 *     into one partition, watermark boundedOutOfOrderness(B), updated after each batch;
 *   - wm_i, the watermark when record i arrives, is max(ts of all EARLIER batches) − B − 1
 *     (−∞ in the first batch): records of one batch share the watermark before it;
 *   - tumbling/hopping: record i counts in window w iff w.end − 1 + L > wm_i (per window);
 *   - session: record i is accepted iff ts_i + gap − 1 + L > wm_i; sessions are the gap
 *     sessionization (a new session when ts − previous ts > gap) of the accepted records.
 * Sluice's emitted results are folded to the latest non-retracted value per (key, start, end)
 * after end of input; that set must equal DuckDB's, case by case. Cases are generated with
 * fast-check (seeded, printed on failure) and checked in one batch of SQL per window type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import {
  type AggregateFunction,
  boundedOutOfOrderness,
  StreamApp,
  session,
  sliding,
  TestDriver,
  tumbling,
  type WindowAssigner,
  type Windowed,
} from '../../src/stream/index.js';

interface Ev {
  k: string;
  ts: number;
  v: number;
}

interface Case {
  id: number;
  batch: number;
  bound: number;
  lateness: number;
  size: number;
  slide: number;
  gap: number;
  events: Ev[];
}

const SEED = Number(process.env.ORACLE_SEED ?? Date.now() % 1_000_000);
const CASES = Number(process.env.ORACLE_CASES ?? 300);

const eventsArb = fc
  .array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c', 'd'),
      step: fc.integer({ min: 0, max: 12 }),
      delay: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 8 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 80 }) },
      ),
      v: fc.integer({ min: 1, max: 9 }),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .map((raw) => {
    let clock = 100;
    return raw.map((r) => {
      clock += r.step;
      return { k: r.k, ts: Math.max(0, clock - r.delay), v: r.v };
    });
  });

const caseArb = fc.record({
  bound: fc.integer({ min: 0, max: 10 }),
  lateness: fc.constantFrom(0, 0, 5, 20),
  size: fc.integer({ min: 5, max: 40 }),
  slideDiv: fc.constantFrom(1, 2, 3, 4, 0),
  gap: fc.integer({ min: 1, max: 15 }),
  batch: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 8 })),
  events: eventsArb,
});

function cases(): Case[] {
  return fc.sample(caseArb, { numRuns: CASES, seed: SEED }).map((c, id) => {
    // slideDiv 0: a slide that does not divide the size (pane = gcd).
    const slide =
      c.slideDiv === 0
        ? Math.max(1, Math.floor(c.size / 3) + 1)
        : Math.max(1, Math.floor(c.size / c.slideDiv));
    return {
      id,
      batch: c.batch,
      bound: c.bound,
      lateness: c.lateness,
      size: c.size,
      slide,
      gap: c.gap,
      events: c.events,
    };
  });
}

interface SumCount {
  count: number;
  sum: number;
}
const sumCount: AggregateFunction<Ev, SumCount, SumCount> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (a, e) => ({ count: a.count + 1, sum: a.sum + e.v }),
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
  getResult: (a) => a,
};

/** Runs one case through Sluice; returns "key|start|end" → "count|sum". */
function runSluice(c: Case, assigner: WindowAssigner): Map<string, string> {
  const app = new StreamApp(`oracle-${c.id}`);
  const out = app
    .stream<Ev>('events', { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(c.bound) })
    .keyBy((e) => e.k)
    .window(assigner, { allowedLateness: c.lateness })
    .aggregate(sumCount)
    .to('out');
  const driver = new TestDriver(app, { startTime: 1_000_000 });
  const input = driver.input<Ev>('events');
  input.pipeAll(
    c.events.map((e) => ({ value: e })),
    c.batch,
  );
  driver.end();
  const latest = new Map<string, string>();
  for (const w of driver.output(out).values() as Array<Windowed<string, SumCount>>) {
    const id = `${w.key}|${w.window.start}|${w.window.end}`;
    if (w.kind === 'retract') latest.delete(id);
    else latest.set(id, `${w.value.count}|${w.value.sum}`);
  }
  return latest;
}

let instance: DuckDBInstance;
let conn: DuckDBConnection;

before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
});
after(() => {
  conn.closeSync();
  instance.closeSync();
});

async function load(all: Case[]): Promise<void> {
  await conn.run('DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS params;');
  await conn.run(
    'CREATE TABLE events (case_id INTEGER, seq INTEGER, k VARCHAR, ts BIGINT, v BIGINT, wm DOUBLE)',
  );
  await conn.run(
    'CREATE TABLE params (case_id INTEGER, lateness BIGINT, size BIGINT, slide BIGINT, gap BIGINT)',
  );
  const rows: string[] = [];
  for (const c of all) {
    let max = Number.NEGATIVE_INFINITY;
    for (let b = 0; b < c.events.length; b += c.batch) {
      const batch = c.events.slice(b, b + c.batch);
      const wm = max === Number.NEGATIVE_INFINITY ? -1e15 : max - c.bound - 1;
      batch.forEach((e, i) => {
        rows.push(`(${c.id}, ${b + i}, '${e.k}', ${e.ts}, ${e.v}, ${wm})`);
      });
      for (const e of batch) if (e.ts > max) max = e.ts;
    }
  }
  for (let i = 0; i < rows.length; i += 2000) {
    await conn.run(`INSERT INTO events VALUES ${rows.slice(i, i + 2000).join(',')}`);
  }
  await conn.run(
    `INSERT INTO params VALUES ${all.map((c) => `(${c.id}, ${c.lateness}, ${c.size}, ${c.slide}, ${c.gap})`).join(',')}`,
  );
}

async function query(sql: string): Promise<Map<number, Map<string, string>>> {
  const reader = await conn.runAndReadAll(sql);
  const out = new Map<number, Map<string, string>>();
  for (const [caseId, k, start, end, count, sum] of reader.getRows()) {
    const id = Number(caseId);
    let m = out.get(id);
    if (m === undefined) out.set(id, (m = new Map()));
    m.set(`${k}|${Number(start)}|${Number(end)}`, `${Number(count)}|${Number(sum)}`);
  }
  return out;
}

/** Hopping windows (tumbling when slide = size): each record in every window it belongs to. */
const HOPPING_SQL = (useSlide: boolean) => `
  WITH p AS (SELECT case_id, lateness, size, ${useSlide ? 'slide' : 'size'} AS slide FROM params),
  assigned AS (
    SELECT e.case_id, e.k, e.v, e.wm, e.ts, p.lateness, p.size,
           (e.ts - e.ts % p.slide) - j * p.slide AS ws
    FROM events e JOIN p USING (case_id), range(0, 64) AS t(j)
    WHERE j * p.slide < p.size
  )
  SELECT case_id, k, ws, ws + size, count(*), sum(v)
  FROM assigned
  WHERE ws + size > ts AND ws + size - 1 + lateness > wm
  GROUP BY case_id, k, ws, size`;

const SESSION_SQL = `
  WITH accepted AS (
    SELECT e.case_id, e.seq, e.k, e.ts, e.v, p.gap
    FROM events e JOIN params p USING (case_id)
    WHERE e.ts + p.gap - 1 + p.lateness > e.wm
  ),
  marked AS (
    SELECT *, CASE WHEN ts - lag(ts) OVER w > gap THEN 1 ELSE 0 END AS brk
    FROM accepted WINDOW w AS (PARTITION BY case_id, k ORDER BY ts, seq)
  ),
  numbered AS (
    -- Both windows order by (ts, seq): with ties on ts alone the two could order rows differently.
    SELECT *, sum(brk) OVER (PARTITION BY case_id, k ORDER BY ts, seq ROWS UNBOUNDED PRECEDING) AS sid FROM marked
  )
  SELECT case_id, k, min(ts), max(ts) + any_value(gap), count(*), sum(v)
  FROM numbered GROUP BY case_id, k, sid`;

function compare(
  kind: string,
  all: Case[],
  expected: Map<number, Map<string, string>>,
  run: (c: Case) => Map<string, string>,
) {
  let windows = 0;
  for (const c of all) {
    const got = run(c);
    const want = expected.get(c.id) ?? new Map();
    windows += want.size;
    const sorted = (m: Map<string, string>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    assert.deepEqual(
      sorted(got),
      sorted(want),
      `${kind} case ${c.id} (seed ${SEED}) differs: ${JSON.stringify({ ...c, events: c.events })}`,
    );
  }
  return windows;
}

describe('window aggregations agree with DuckDB (oracle)', () => {
  const all = cases();

  it(`tumbling: ${CASES} random cases`, async () => {
    await load(all);
    // Tumbling uses slide = size; window ends must be past each record for the window to hold it.
    const expected = await query(HOPPING_SQL(false).replace('WHERE j * p.slide < p.size', 'WHERE j = 0'));
    const n = compare('tumbling', all, expected, (c) => runSluice(c, tumbling(c.size)));
    assert.ok(n > CASES, `expected many windows, got ${n}`);
  });

  it(`hopping (incl. slides that do not divide the size): ${CASES} random cases`, async () => {
    await load(all);
    const expected = await query(HOPPING_SQL(true));
    const n = compare('hopping', all, expected, (c) => runSluice(c, sliding(c.size, c.slide)));
    assert.ok(n > CASES, `expected many windows, got ${n}`);
  });

  it(`session (merging, retractions): ${CASES} random cases`, async () => {
    await load(all);
    const expected = await query(SESSION_SQL);
    const n = compare('session', all, expected, (c) => runSluice(c, session(c.gap)));
    assert.ok(n > CASES / 2, `expected many sessions, got ${n}`);
  });

  it('the generated streams really contain late records (the oracle is exercised)', async () => {
    await load(all);
    const reader = await conn.runAndReadAll(
      'SELECT count(*) FROM events e JOIN params p USING (case_id) WHERE e.ts + p.gap - 1 + p.lateness <= e.wm',
    );
    assert.ok(Number(reader.getRows()[0][0]) > 10, 'too few late records to test lateness');
  });
});
