/**
 * Correctness of the Nexmark queries: each query runs through Sluice's TestDriver over a
 * bounded generation and its output must equal, as a multiset, the same query in DuckDB SQL
 * over the same events (test/bench/nexmark/reference.ts). Two generations: in order (30 000
 * events) and out of order (groups of 64, 20 000 events), at 400 and 1 000 events/s of event
 * time so the runs span many windows. q4, q6, q18 and q19 produce updating results (upserts): the last
 * value per key is compared. q12 runs on the driver's injected processing clock.
 *
 * q10's rows (with their dt/hm partition fields) are compared here; the files its FileSink writes
 * are checked in file-queries.test.ts. q13's side input is a CSV file written by the test (keys
 * 0 … 9 999 except multiples of 7, so the inner join drops bids; values with commas and quotes):
 * Sluice reads it with the file connector and pipes it into the table input before the events;
 * DuckDB reads the same file with its own CSV reader.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  csvLine,
  type NexmarkEvent,
  NexmarkGenerator,
  nexmarkWatermark,
  QUERIES,
  QUERY_IO,
  readCsvRows,
} from '../../../src/connectors/index.js';
import { StreamApp, TestDriver } from '../../../src/stream/index.js';
import { loadEvents, loadSideInput, REFERENCE_SQL } from './reference.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-nexmark-test-'));
const sideInputPath = join(dir, 'side_input.csv');
let sideInput: Record<string, unknown>[] = [];

function canonical(rows: readonly Record<string, unknown>[], columns: readonly string[]): string[] {
  return rows
    .map((r) =>
      JSON.stringify(
        columns.map((c) => {
          const v = r[c];
          return typeof v === 'bigint' ? Number(v) : v === undefined ? '<missing>' : v;
        }),
      ),
    )
    .sort();
}

/** Last emitted row per key (an updating result's final table). */
function lastPer(rows: readonly Record<string, unknown>[], key: string): Record<string, unknown>[] {
  const m = new Map<unknown, Record<string, unknown>>();
  for (const r of rows) m.set(r[key], r);
  return [...m.values()];
}

interface Dataset {
  name: string;
  gen: NexmarkGenerator;
  events: NexmarkEvent[];
  db?: DuckDBInstance;
  conn?: DuckDBConnection;
}

const datasets: Dataset[] = [
  { name: 'in order', gen: new NexmarkGenerator({ seed: 7, firstEventRate: 400 }), events: [] },
  {
    name: 'out of order',
    gen: new NexmarkGenerator({ seed: 11, firstEventRate: 1000, outOfOrderGroupSize: 64 }),
    events: [],
  },
];
const SIZES = [30_000, 20_000];

before(async () => {
  let text = '';
  for (let k = 0; k < 10_000; k++) {
    if (k % 7 !== 0)
      text += csvLine({ key: k, value: k % 5 === 0 ? `v"${k}", x` : `v${k}` }, ['key', 'value']);
  }
  writeFileSync(sideInputPath, text);
  sideInput = readCsvRows(sideInputPath, QUERY_IO.q13.sideInput?.columns ?? []);
  for (let i = 0; i < datasets.length; i++) {
    const d = datasets[i];
    d.events = new Array(SIZES[i]);
    d.gen.nextBatch(d.events, SIZES[i]);
    // One database per dataset: their tables have the same names.
    d.db = await DuckDBInstance.create(':memory:');
    d.conn = await d.db.connect();
    await loadEvents(d.conn, d.events);
    await loadSideInput(d.conn, sideInputPath);
  }
});

after(() => {
  for (const d of datasets) {
    d.conn?.closeSync();
    d.db?.closeSync();
  }
  rmSync(dir, { recursive: true, force: true });
});

function runQuery(q: string, d: Dataset): Record<string, unknown>[] {
  const app = new StreamApp(`nexmark-${q}`);
  const out = QUERIES[q](app, { watermark: nexmarkWatermark(d.gen) });
  const driver = new TestDriver(app);
  // A bounded side input (q13) is loaded whole before the stream.
  const side = QUERY_IO[q]?.sideInput;
  if (side !== undefined)
    driver.input(side.input).pipeAll(sideInput.map((value) => ({ value, timestamp: 0 })));
  const input = driver.input<NexmarkEvent>('nexmark');
  for (let i = 0; i < d.events.length; i += 250) {
    input.pipeAll(d.events.slice(i, i + 250).map((e) => ({ value: e, timestamp: e.dateTime })));
  }
  driver.end();
  assert.deepEqual(driver.deadLetters(), []);
  assert.equal(driver.lateRecords().length, 0, 'no record may be late');
  // Rows carry their record key (q18's upsert key) beside the value's fields.
  const rows = driver
    .output(out)
    .records()
    .map((r) => ({ ...(r.value as Record<string, unknown>), key: r.key }));
  driver.close();
  return rows;
}

async function reference(d: Dataset, q: string) {
  const reader = await (d.conn as DuckDBConnection).runAndReadAll(REFERENCE_SQL[q]);
  return { columns: reader.columnNames(), rows: reader.getRowObjectsJS() as Record<string, unknown>[] };
}

for (const d of datasets) {
  describe(`nexmark queries vs DuckDB (${d.name})`, () => {
    for (const q of Object.keys(QUERIES).filter((x) => x !== 'q12')) {
      test(q, async () => {
        let rows = runQuery(q, d);
        if (q === 'q4') rows = lastPer(rows, 'category');
        if (q === 'q6') rows = lastPer(rows, 'seller');
        if (q === 'q18') rows = lastPer(rows, 'key');
        if (q === 'q19') {
          rows = lastPer(rows, 'auction').flatMap((r) =>
            (r.top as Record<string, unknown>[]).map((b, i) => ({ ...b, rn: i + 1 })),
          );
        }
        const ref = await reference(d, q);
        assert.ok(ref.rows.length > 0, `${q}: the reference result must not be empty on this data`);
        const got = canonical(rows, ref.columns);
        const want = canonical(ref.rows, ref.columns);
        assert.equal(got.length, want.length, `${q}: row count`);
        assert.deepEqual(got, want);
      });
    }
  });
}

test('q12: processing-time windows on the injected clock', async () => {
  const d = datasets[0];
  const app = new StreamApp('nexmark-q12');
  const out = QUERIES.q12(app, { watermark: nexmarkWatermark(d.gen) });
  const start = 1_700_000_003_000;
  const driver = new TestDriver(app, { startTime: start });
  const input = driver.input<NexmarkEvent>('nexmark');
  const ptimes: number[] = new Array(d.events.length);
  for (let i = 0; i < d.events.length; i += 100) {
    const batch = d.events.slice(i, i + 100);
    for (let j = 0; j < batch.length; j++) ptimes[i + j] = driver.now;
    input.pipeAll(batch.map((e) => ({ value: e })));
    driver.advanceProcessingTime(37 + (i % 7));
  }
  driver.end();
  const rows = driver.output(out).values() as Record<string, unknown>[];
  driver.close();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await loadEvents(conn, d.events, ptimes);
  const reader = await conn.runAndReadAll(REFERENCE_SQL.q12);
  const ref = reader.getRowObjectsJS() as Record<string, unknown>[];
  conn.closeSync();
  db.closeSync();
  assert.ok(ref.length > 0);
  assert.deepEqual(canonical(rows, reader.columnNames()), canonical(ref, reader.columnNames()));
});
