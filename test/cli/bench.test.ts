/**
 * `sluice bench nexmark`: runs a query on a small generation and prints one JSON line with
 * the measured rate beside Flink's published figure; an unknown query is a usage error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_OK, EXIT_USAGE, runCli } from '../../src/cli/index.js';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('sluice bench nexmark', () => {
  it('prints one JSON result per query', async () => {
    const r = await cli('bench', 'nexmark', '--query', 'q2', '--query', 'q5', '--events', '20000');
    assert.equal(r.code, EXIT_OK, r.err);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.query),
      ['q2', 'q5'],
    );
    for (const l of lines) {
      assert.equal(l.events, 20000);
      assert.ok(l.seconds > 0 && l.eventsPerSecondPerCore > 0 && l.peakHeapMB > 0);
      assert.equal(typeof l.flinkPerCore, 'number');
      assert.ok(Math.abs(l.ratioToFlink - l.eventsPerSecondPerCore / l.flinkPerCore) < 0.01);
    }
    // q2 keeps the bids on auctions that are multiples of 123: some, not all.
    assert.ok(lines[0].outputs > 0 && lines[0].outputs < 20000);
  });

  it('runs q10 (rows written as files, counted) and q13 (generated side input)', async () => {
    const r = await cli('bench', 'nexmark', '--query', 'q10', '--query', 'q13', '--events', '20000');
    assert.equal(r.code, EXIT_OK, r.err);
    const [q10, q13] = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(q10.query, 'q10');
    assert.equal(q13.query, 'q13');
    // Every bid is logged by q10 and finds its side-input row (keys 0 … 9 999) in q13.
    assert.ok(q10.outputs > 15_000 && q10.outputs < 20_000);
    assert.equal(q13.outputs, q10.outputs);
    assert.ok(q10.outputBytes > q10.outputs * 50 && q10.outputFiles >= 1);
    assert.ok(q13.eventsPerCpuSecond > 0 && q13.flinkPerCore === null);
  });

  it('rejects an unknown query', async () => {
    const r = await cli('bench', 'nexmark', '--query', 'q99');
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /unknown query 'q99'/);
  });
});
