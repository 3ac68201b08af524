/**
 * `sluice run`: clear errors for a missing file, a file without a StreamApp, mismatched
 * co-partitioned inputs and an unreachable bootstrap; a running app (a real process against a
 * Sluice broker over TCP) logs readiness and shuts down cleanly on SIGTERM with exit 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { EXIT_FAILURE, EXIT_USAGE, runCli } from '../../src/cli/index.js';
import { createKafkaTransport } from '../../src/transport/index.js';
import { startTestBroker, type TestBroker } from '../transport/broker-fixture.js';

const FIX = 'test/stream/fixtures';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('sluice run', () => {
  let tb: TestBroker;
  let bootstrap: string;
  before(async () => {
    tb = await startTestBroker();
    bootstrap = `127.0.0.1:${tb.broker.address.port}`;
    const t = createKafkaTransport({ bootstrap });
    await t.admin.ensureTopics([
      { topic: 'users', partitions: 3 },
      { topic: 'orders', partitions: 4 },
      { topic: 'events', partitions: 2 },
    ]);
    await t.close();
  });
  after(async () => {
    await tb.close();
  });

  it('refuses a missing file', async () => {
    const r = await cli('run', `${FIX}/no-such-app.ts`, '--bootstrap', bootstrap);
    assert.equal(r.code, EXIT_FAILURE);
    assert.match(r.err, /no-such-app\.ts does not exist/);
  });

  it('refuses a file without a StreamApp default export', async () => {
    const r = await cli('run', `${FIX}/not-an-app.ts`, '--bootstrap', bootstrap);
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /no StreamApp default export/);
  });

  it('refuses co-partitioned inputs with different partition counts, naming both', async () => {
    const r = await cli('run', `${FIX}/join-app.ts`, '--bootstrap', bootstrap, '--threads', '1');
    assert.equal(r.code, EXIT_USAGE, r.err);
    assert.match(r.err, /INVALID_CONFIG/);
    assert.match(r.err, /'users' \(3 partitions\)/);
    assert.match(r.err, /'orders' \(4 partitions\)/);
  });

  it('fails with exit 1 on an unreachable bootstrap', async () => {
    const r = await cli(
      'run',
      `${FIX}/count-app.ts`,
      '--bootstrap',
      '127.0.0.1:1',
      '--request-timeout-ms',
      '1500',
    );
    assert.equal(r.code, EXIT_FAILURE, r.err);
    assert.match(r.err, /127\.0\.0\.1:1|NETWORK|TIMEOUT/);
  });

  it('runs an app, logs readiness and exits 0 on SIGTERM after leaving the group', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'run',
        `${FIX}/count-app.ts`,
        '--bootstrap',
        bootstrap,
        '--threads',
        '1',
        '--instance-id',
        'sigterm',
        '--metrics-interval-ms',
        '200',
      ],
      { env: { ...process.env, SLUICE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    await new Promise<void>((ready, fail) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/"msg":"running"/.test(stderr) && /\{"metrics":/.test(stderr)) ready();
      });
      child.on('exit', () => fail(new Error(`exited before running: ${stderr}`)));
    });
    const metrics = JSON.parse(stderr.split('\n').find((l) => l.startsWith('{"metrics":')) as string) as {
      metrics: { applicationId: string; guarantee: string; threads: unknown[] };
    };
    assert.equal(metrics.metrics.applicationId, 'count-app');
    assert.equal(metrics.metrics.guarantee, 'exactly_once');
    assert.equal(metrics.metrics.threads.length, 1);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /"msg":"stopped"/);
  });
});
