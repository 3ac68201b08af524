/**
 * The file connector: FileSink's layout and encoding read back by DuckDB (an independent CSV
 * and hive-partition reader), rolling, abort, the CSV codec as a property, the bounded CSV
 * reader's errors, and kill -9 of a writing process: every visible file is complete, every
 * row published before the kill is there exactly once, and the next sink of the same task
 * removes the in-progress files (another task's are left alone).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { isSluiceError } from '../../../src/common/index.js';
import {
  csvLine,
  escapePartitionValue,
  FileSink,
  parseCsv,
  readCsvRows,
} from '../../../src/connectors/index.js';
import { StreamRecord } from '../../../src/stream/index.js';

const rec = (v: Record<string, unknown>) => new StreamRecord(null, v, 0);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function duck<T>(sql: string): Promise<T[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as T[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('FileSink', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-file-sink-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes Hive-partitioned CSV that DuckDB reads back exactly (quotes, commas, newlines, escaped partition values)', async () => {
    const out = join(dir, 'csv');
    const sink = new FileSink('out', { path: out, columns: ['id', 'text', 'n'], partitionBy: ['a', 'b'] });
    const texts = [
      'plain',
      'with, comma',
      'with "quotes"',
      'multi\nline',
      'ünïcødé ✓',
      '',
      'trailing space ',
    ];
    const parts = ['x:y', 'a/b', 'k=v', '50%', 'plain'];
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 700; i++) {
      rows.push({
        id: i,
        text: texts[i % texts.length],
        n: i % 3 === 0 ? null : i * 1.5,
        a: parts[i % parts.length],
        b: i % 2,
      });
    }
    sink.write(rows.slice(0, 300).map(rec));
    sink.prepareCommit();
    sink.write(rows.slice(300).map(rec));
    sink.prepareCommit();
    assert.equal(sink.rowsPublished, 700);
    const files = listFiles(out);
    assert.ok(
      files.every((f) => /part-0-[0-9a-f]{8}-\d{6}\.csv$/.test(f)),
      files.join('\n'),
    );
    assert.ok(files.some((f) => f.includes('a=x%3Ay')) && files.some((f) => f.includes('a=a%2Fb')));
    const got = await duck<Record<string, unknown>>(`SELECT id, text, n, a, b FROM read_csv('${out}/**/*.csv',
      header = false, hive_partitioning = true, quote = '"', escape = '"',
      columns = {'id': 'BIGINT', 'text': 'VARCHAR', 'n': 'DOUBLE'}, hive_types = {'a': 'VARCHAR', 'b': 'BIGINT'})
      ORDER BY id`);
    assert.equal(got.length, 700);
    for (const g of got) {
      const w = rows[Number(g.id)];
      // DuckDB reads the empty field as NULL: the empty string and null look alike in CSV.
      assert.equal(g.text ?? '', w.text);
      assert.equal(g.n, w.n);
      assert.equal(g.a, w.a);
      assert.equal(Number(g.b), w.b);
    }
  });

  it('JSON lines; a file is published when it reaches maxFileBytes; abort drops unpublished rows', async () => {
    const out = join(dir, 'json');
    const sink = new FileSink('out', {
      path: out,
      format: 'json',
      columns: ['id', 'text'],
      partitionBy: ['day'],
      maxFileBytes: 100_000,
      taskId: 'task/1',
    });
    const big = 'y'.repeat(200);
    sink.write(Array.from({ length: 2000 }, (_, i) => rec({ id: i, text: big, day: null })));
    // 2 000 rows of ~220 bytes: several rolled files already published before any commit.
    const rolled = sink.filesPublished;
    assert.ok(rolled >= 3, `rolled ${rolled}`);
    sink.prepareCommit();
    sink.write([rec({ id: 9999, text: 'lost', day: null })]);
    assert.ok(listFiles(out).some((f) => f.endsWith('.inprogress')));
    sink.abort();
    const files = listFiles(out);
    assert.ok(!files.some((f) => f.endsWith('.inprogress')), 'abort removes in-progress files');
    assert.ok(files.every((f) => f.includes('day=__HIVE_DEFAULT_PARTITION__') && /part-task_1-/.test(f)));
    const ids = files
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as { id: number; text: string });
    assert.deepEqual(
      ids.map((r) => r.id).sort((a, b) => a - b),
      Array.from({ length: 2000 }, (_, i) => i),
    );
    assert.ok(ids.every((r) => r.text === big));
  });

  it('escapes partition values as Hive does', () => {
    assert.equal(escapePartitionValue('22:13'), '22%3A13');
    assert.equal(escapePartitionValue('a/b=c%'), 'a%2Fb%3Dc%25');
    assert.equal(escapePartitionValue(''), '__HIVE_DEFAULT_PARTITION__');
    assert.equal(escapePartitionValue(12), '12');
  });

  it('kill -9 while writing: visible files are whole, published rows all there once; reopen cleans in-progress files', async () => {
    const out = join(dir, 'crash');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/connectors/file/support/crash-writer.ts', out, 't7'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      const deadline = Date.now() + 45_000;
      while ((stdout.match(/committed/g) ?? []).length < 8 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await once(child, 'close');
    } finally {
      clearTimeout(killer);
    }
    const marks = [...stdout.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
    assert.ok(marks.length >= 8, `writer made progress: ${stdout.slice(-200)} ${stderr.slice(-500)}`);
    const published = marks[marks.length - 1];

    const visible = listFiles(out).filter((f) => !f.endsWith('.inprogress'));
    const seen = new Set<number>();
    for (const f of visible) {
      assert.match(f, /\/p=p%3A[0-3]\/part-t7-[0-9a-f]{8}-\d{6}\.csv$/);
      const text = readFileSync(f, 'utf8');
      assert.ok(text.endsWith('\n'), `${f} ends with a whole line`);
      for (const [id, t] of parseCsv(text)) {
        const n = Number(id);
        assert.equal(t, `row ${n}, "quoted" ${'x'.repeat(n % 300)}`, `row ${n} is whole`);
        assert.ok(!seen.has(n), `row ${n} once`);
        seen.add(n);
      }
    }
    for (let i = 0; i < published; i++) assert.ok(seen.has(i), `published row ${i} survived kill -9`);

    // Another task's in-progress file must survive the cleanup of t7's.
    const foreign = join(out, 'p=p%3A0', '.part-other-00000000-000000.csv.inprogress');
    writeFileSync(foreign, 'x\n');
    const again = new FileSink('out', {
      path: out,
      taskId: 't7',
      columns: ['id', 'text'],
      partitionBy: ['p'],
    });
    const left = listFiles(out).filter((f) => f.endsWith('.inprogress'));
    assert.deepEqual(left, [foreign]);
    again.close();
  });
});

describe('CSV codec and bounded CSV input', () => {
  it('parseCsv(csvLine(rows)) returns the rows (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 4 }), { minLength: 1 }),
        (rows) => {
          const width = rows[0].length;
          const table = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? 'z'));
          const cols = table[0].map((_, i) => `c${i}`);
          const text = table
            .map((r) => csvLine(Object.fromEntries(r.map((v, i) => [`c${i}`, v])), cols))
            .join('');
          assert.deepEqual(parseCsv(text), table);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('readCsvRows types the columns and names a bad line', () => {
    const d = mkdtempSync(join(tmpdir(), 'sluice-csv-'));
    try {
      const p = join(d, 'side.csv');
      writeFileSync(p, '1,one\n2,"t,wo"\n3,\n');
      const cols = [
        { name: 'key', type: 'number' },
        { name: 'value', type: 'string' },
      ] as const;
      assert.deepEqual(readCsvRows(p, cols), [
        { key: 1, value: 'one' },
        { key: 2, value: 't,wo' },
        { key: 3, value: null },
      ]);
      writeFileSync(p, '1,one\nx,two\n');
      assert.throws(
        () => readCsvRows(p, cols),
        (e) => isSluiceError(e) && e.code === 'CORRUPT_RECORD' && /:2: key 'x'/.test(e.message),
      );
      writeFileSync(p, '1,one,extra\n');
      assert.throws(
        () => readCsvRows(p, cols),
        (e) => isSluiceError(e) && /:1: 3 fields, expected 2/.test(e.message),
      );
      writeFileSync(p, '1,"open\n');
      assert.throws(
        () => readCsvRows(p, cols),
        (e) => isSluiceError(e) && e.code === 'CORRUPT_RECORD',
      );
      assert.throws(
        () => readCsvRows(join(d, 'missing.csv'), cols),
        (e) => isSluiceError(e) && e.code === 'NOT_FOUND',
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
