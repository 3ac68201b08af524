/**
 * q10 and q13 through the benchmark runner (runNexmark), with their real I/O:
 *  - q10's FileSink output: DuckDB reads the published files itself (read_csv over
 *    `**\/*.csv` with hive_partitioning, so dt/hm come from the directory names) and the rows
 *    must equal q10 in DuckDB SQL over the same generated events; no in-progress file remains;
 *    with 100 events/s of event time the 20 000 events span several minute partitions;
 *  - q13 with the generated 10 000-row side input file: the runner's output count equals
 *    DuckDB's join of the bids with that file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  type NexmarkEvent,
  NexmarkGenerator,
  runNexmark,
  writeSideInput,
} from '../../../src/connectors/index.js';
import { loadEvents, loadSideInput, REFERENCE_SQL } from './reference.js';

const N = 20_000;
const CONFIG = { seed: 3, firstEventRate: 100 };

function listAll(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const rowKey = (r: Record<string, unknown>, cols: string[]) =>
  JSON.stringify(cols.map((c) => (typeof r[c] === 'bigint' ? Number(r[c]) : r[c])));

describe('Nexmark q10 / q13 through the runner, with their files', () => {
  let dir: string;
  let db: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-nexmark-files-'));
    const events: NexmarkEvent[] = new Array(N);
    new NexmarkGenerator(CONFIG).nextBatch(events, N);
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    await loadEvents(conn, events);
  });
  after(() => {
    conn?.closeSync();
    db?.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  test('q10: the published files, read by DuckDB with hive partitioning, equal the SQL', async () => {
    const out = join(dir, 'q10');
    const r = await runNexmark('q10', { events: N, config: CONFIG, outputDir: out });
    const files = listAll(out);
    assert.ok(files.length >= 3, `several partitions: ${files.length} files`);
    assert.ok(
      files.every((f) => /\/dt=\d{4}-\d\d-\d\d\/hm=\d\d%3A\d\d\/part-[^/]+\.csv$/.test(f)),
      files.join('\n'),
    );
    assert.equal(r.outputFiles, files.length);
    const got =
      await conn.runAndReadAll(`SELECT auction, bidder, price, dateTime, extra, dt, hm FROM read_csv(
      '${out}/**/*.csv', header = false, hive_partitioning = true,
      columns = {'auction': 'BIGINT', 'bidder': 'BIGINT', 'price': 'BIGINT', 'dateTime': 'BIGINT', 'extra': 'VARCHAR'},
      hive_types = {'dt': 'VARCHAR', 'hm': 'VARCHAR'})`);
    const want = await conn.runAndReadAll(REFERENCE_SQL.q10);
    const cols = want.columnNames();
    const g = (got.getRowObjectsJS() as Record<string, unknown>[]).map((x) => rowKey(x, cols)).sort();
    const w = (want.getRowObjectsJS() as Record<string, unknown>[]).map((x) => rowKey(x, cols)).sort();
    assert.ok(w.length > 0);
    assert.equal(r.outputs, w.length, 'rows published = bids');
    assert.equal(g.length, w.length, 'row count in the files');
    assert.deepEqual(g, w);
    assert.ok(new Set(w.map((x) => JSON.parse(x)[6])).size >= 3, 'several hm partitions');
  });

  test('q13: the runner joins the bids with the side input file as DuckDB does', async () => {
    const path = join(dir, 'side_input.csv');
    writeSideInput(path);
    const r = await runNexmark('q13', { events: N, config: CONFIG, sideInputPath: path });
    await loadSideInput(conn, path);
    const want = await conn.runAndReadAll(`SELECT count(*) AS n FROM (${REFERENCE_SQL.q13})`);
    const n = Number((want.getRowObjectsJS()[0] as { n: bigint }).n);
    assert.ok(n > 0);
    assert.equal(r.outputs, n);
  });
});
