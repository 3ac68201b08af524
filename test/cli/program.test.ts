import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EXIT_OK, EXIT_USAGE, runCli } from '../../src/cli/index.js';
import { SLUICE_VERSION } from '../../src/common/index.js';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('sluice CLI', () => {
  it('--help lists usage and exits 0', async () => {
    const r = await cli('--help');
    assert.equal(r.code, EXIT_OK);
    assert.match(r.out, /Usage: sluice/);
  });

  it('--version prints the package version', async () => {
    const r = await cli('--version');
    assert.equal(r.code, EXIT_OK);
    assert.equal(r.out.trim(), SLUICE_VERSION);
    assert.match(SLUICE_VERSION, /^\d+\.\d+\.\d+/);
  });

  it('an unknown command exits 2 and names it', async () => {
    const r = await cli('nosuch');
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /unknown command 'nosuch'/);
  });

  it('an unknown flag exits 2 and names it', async () => {
    const r = await cli('--frobnicate');
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /unknown option '--frobnicate'/);
  });

  it('the built binary behaves the same as a real process', {
    skip: !existsSync('dist/src/cli/main.js'),
  }, () => {
    const r = spawnSync(process.execPath, ['bin/sluice.js', 'nosuch'], { encoding: 'utf8' });
    assert.equal(r.status, EXIT_USAGE);
    assert.match(r.stderr, /unknown command 'nosuch'/);
    const h = spawnSync(process.execPath, ['bin/sluice.js', '--help'], { encoding: 'utf8' });
    assert.equal(h.status, 0);
    assert.match(h.stdout, /Usage: sluice/);
  });
});
