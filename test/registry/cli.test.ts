/**
 * The CLI wiring: `sluice registry --data-dir` as a real process (file storage, random port, exits
 * 143 on SIGTERM), and `sluice schemas register|list|check` through runCli against it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/index.js';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('sluice registry / sluice schemas', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-cli-'));
  let child: ReturnType<typeof spawn>;
  let url = '';

  before(async () => {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'registry', '--port', '0', '--data-dir', join(dir, 'data')],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SLUICE_LOG_LEVEL: 'silent' } },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`registry exited ${code}`)));
    });
    url = /listening on (\S+)/.exec(line)?.[1] ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, lists and checks schema files', async () => {
    const v1 = join(dir, 'user.avsc');
    writeFileSync(
      v1,
      JSON.stringify({ type: 'record', name: 'User', fields: [{ name: 'name', type: 'string' }] }),
    );
    const reg = await cli('schemas', 'register', '--url', url, '--subject', 'users-value', '--file', v1);
    assert.equal(reg.code, 0, reg.err);
    const { id } = JSON.parse(reg.out) as { id: number };
    assert.ok(id > 0);

    const list = await cli('schemas', 'list', '--url', url);
    assert.deepEqual(list.out.trim().split('\n'), ['users-value']);
    assert.equal((await cli('schemas', 'list', '--url', url, '--subject', 'users-value')).out.trim(), '1');

    const good = join(dir, 'user-v2.avsc');
    writeFileSync(
      good,
      JSON.stringify({
        type: 'record',
        name: 'User',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'age', type: 'int', default: 0 },
        ],
      }),
    );
    const ok = await cli('schemas', 'check', '--url', url, '--subject', 'users-value', '--file', good);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out.trim(), 'compatible');

    const bad = join(dir, 'user-v3.avsc');
    writeFileSync(
      bad,
      JSON.stringify({
        type: 'record',
        name: 'User',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'age', type: 'int' },
        ],
      }),
    );
    const no = await cli('schemas', 'check', '--url', url, '--subject', 'users-value', '--file', bad);
    assert.equal(no.code, 1);
    assert.match(no.err, /READER_FIELD_MISSING_DEFAULT_VALUE/);

    const refused = await cli('schemas', 'register', '--url', url, '--subject', 'users-value', '--file', bad);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /error_code 409/);
  });

  it('refuses --bootstrap together with --data-dir (two different stores)', async () => {
    const r = await cli('registry', '--bootstrap', '127.0.0.1:9092', '--data-dir', join(dir, 'other'));
    assert.equal(r.code, 2);
    assert.match(r.err, /either --bootstrap .* or --data-dir/);
  });

  it('--bootstrap to a cluster that does not answer fails within --timeout, naming the topic and the cluster', async () => {
    const r = await cli('registry', '--port', '0', '--bootstrap', '127.0.0.1:1', '--timeout', '1500');
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot open the _schemas topic on 127\.0\.0\.1:1/);
  });

  it('stops with exit code 143 on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
  });
});
