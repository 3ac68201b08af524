/**
 * `sluice cdc postgres` in-process: usage errors exit 2 with a clear message, a bad
 * Postgres configuration exits with the connector's error, and `--reset-offsets` forgets
 * a slot's stored offset. (The chaos test runs the command as a real process with
 * SIGKILL and SIGTERM.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli } from '../../../src/cli/index.js';
import { FileOffsetStore } from '../../../src/connectors/index.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('sluice cdc postgres', { timeout: 60_000 }, () => {
  let pgs: TestPostgres;
  let dir: string;
  before(async () => {
    pgs = await startPostgres();
    await pgs.query('CREATE TABLE nopk (a int)');
    dir = mkdtempSync(join(tmpdir(), 'sluice-cdc-cli-'));
  });
  after(async () => {
    await pgs?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs exactly one of --bootstrap and --sink-file', async () => {
    const base = ['cdc', 'postgres', '--url', pgs.url, '--tables', 'public.nopk', '--topic-prefix', 'p'];
    const neither = await cli(...base);
    assert.equal(neither.code, EXIT_USAGE);
    assert.match(neither.err, /exactly one of --bootstrap <host:port> or --sink-file <path>/);
    const both = await cli(...base, '--bootstrap', 'x:9092', '--sink-file', join(dir, 'f'));
    assert.equal(both.code, EXIT_USAGE);
  });

  it('avro needs a registry; a missing flag names it', async () => {
    const r = await cli(
      'cdc',
      'postgres',
      '--url',
      pgs.url,
      '--tables',
      't',
      '--topic-prefix',
      'p',
      '--sink-file',
      join(dir, 'f'),
      '--format',
      'avro',
    );
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /--format avro needs --registry/);
    const missing = await cli('cdc', 'postgres', '--url', pgs.url, '--topic-prefix', 'p');
    assert.equal(missing.code, EXIT_USAGE);
    assert.match(missing.err, /--tables/);
  });

  it('a table without a primary key is refused with the way out', async () => {
    const r = await cli(
      'cdc',
      'postgres',
      '--url',
      pgs.url,
      '--tables',
      'public.nopk',
      '--topic-prefix',
      'p',
      '--sink-file',
      join(dir, 'f'),
    );
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /INVALID_CONFIG.*no primary key.*REPLICA IDENTITY FULL/s);
  });

  it('an unreachable Postgres is a runtime failure', async () => {
    const r = await cli(
      'cdc',
      'postgres',
      '--url',
      'postgres://postgres@127.0.0.1:1/postgres',
      '--tables',
      't',
      '--topic-prefix',
      'p',
      '--sink-file',
      join(dir, 'f'),
    );
    assert.equal(r.code, EXIT_FAILURE);
    assert.match(r.err, /NETWORK.*cannot connect/);
  });

  it('--reset-offsets forgets the slot’s stored offset', async () => {
    const store = new FileOffsetStore(`${join(dir, 'g')}.offsets`);
    await store.save({ slot: 'sluice_p', lsn: '0/10', txId: null, ts_ms: 0 });
    const r = await cli(
      'cdc',
      'postgres',
      '--url',
      pgs.url,
      '--tables',
      'public.nopk',
      '--topic-prefix',
      'p',
      '--sink-file',
      join(dir, 'g'),
      '--reset-offsets',
    );
    assert.equal(r.code, EXIT_OK);
    assert.equal(await store.load('sluice_p'), undefined);
  });
});
