/**
 * `sluice run`: clear errors for a missing file, a file without a StreamApp, mismatched
 * co-partitioned inputs and an unreachable bootstrap; a running app (a real process against a
 * Sluice broker over TCP) logs readiness and shuts down cleanly on SIGTERM with exit 0, also
 * when the SIGTERM arrives while the application file is still loading.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';
import { EXIT_FAILURE, EXIT_USAGE, runCli } from '../../src/cli/index.js';
import { createEmbeddedTransport, createKafkaTransport } from '../../src/transport/index.js';
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

  it('--standby-replicas: an integer >= 0 (usage error otherwise), listed in the help', async () => {
    for (const bad of ['-1', '1.5', 'x']) {
      const r = await cli('run', `${FIX}/count-app.ts`, '--bootstrap', bootstrap, '--standby-replicas', bad);
      assert.equal(r.code, EXIT_USAGE, `--standby-replicas ${bad}`);
      assert.match(r.err, /standby-replicas/);
    }
    const help = await cli('run', '--help');
    assert.match(help.out, /--standby-replicas <n>/);
  });

  it('--repartition-purge-interval-ms: an integer >= 0 (usage error otherwise), listed in the help', async () => {
    for (const bad of ['-1', '1.5', 'x']) {
      const r = await cli(
        'run',
        `${FIX}/count-app.ts`,
        '--bootstrap',
        bootstrap,
        '--repartition-purge-interval-ms',
        bad,
      );
      assert.equal(r.code, EXIT_USAGE, `--repartition-purge-interval-ms ${bad}`);
      assert.match(r.err, /repartition-purge-interval-ms/);
    }
    const help = await cli('run', '--help');
    assert.match(help.out, /--repartition-purge-interval-ms <n>/);
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

  it('SIGTERM while the application is still loading: no start, exit 0', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'run', `${FIX}/slow-load-app.ts`, '--bootstrap', bootstrap],
      { env: { ...process.env, SLUICE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    await new Promise<void>((loading) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('"fixture":"loading"')) loading();
      });
      child.on('exit', () => loading());
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stopped before start/);
    assert.doesNotMatch(stderr, /"msg":"running"/);
  });

  /** Spawns `sluice run` and resolves once it logged readiness and printed a metrics line. */
  async function spawnRun(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', ...args], {
      env: { ...process.env, SLUICE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    await new Promise<void>((ready, fail) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/"msg":"running"/.test(stderr) && /\{"metrics":/.test(stderr)) ready();
      });
      child.on('exit', () => fail(new Error(`exited before running: ${stderr}`)));
    });
    return { child, exited, stderr: () => stderr };
  }

  it('--threads 2 on the kafka transport: a child process per stream thread, output produced, repartition purged, SIGTERM exits 0', async () => {
    const t = createKafkaTransport({ bootstrap });
    const p = t.producer({});
    await p.connect();
    for (const partition of [0, 1]) {
      const evs = [
        ...Array.from({ length: 50 }, (_, i) => ({ k: `k${i % 5}`, ts: 1000 + i })),
        { k: 'end', ts: 9000 },
      ];
      await p.send(
        'events',
        partition,
        evs.map((e) => ({ key: null, value: Buffer.from(JSON.stringify(e)), timestamp: e.ts })),
      );
    }
    await p.close();
    const run = await spawnRun([
      `${FIX}/count-app.ts`,
      '--bootstrap',
      bootstrap,
      '--application-id',
      'workers',
      '--threads',
      '2',
      '--metrics-interval-ms',
      '200',
      '--repartition-purge-interval-ms',
      '200',
    ]);
    // Windows [1000, 2000) of k0..k4: 20 records each over both partitions.
    const r = t.partitionReader({ isolationLevel: 'read_committed' });
    const counts = (await t.admin.describeTopics(['counts'])).get('counts') ?? 1;
    await r.assign(
      Array.from({ length: counts }, (_, partition) => ({ topic: 'counts', partition, offset: 0 })),
    );
    const got = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    while (got.size < 5 && Date.now() < deadline) {
      for (const rec of await r.poll(1000, 200)) {
        const w = JSON.parse(String(rec.value)) as { key: string; value: number };
        got.set(w.key, w.value);
      }
    }
    await r.close();
    // The flag reaches the children: their threads purge the repartition topic they consumed.
    const repartition = Array.from(
      {
        length:
          (await t.admin.describeTopics(['workers-count-repartition'])).get('workers-count-repartition') ?? 0,
      },
      (_, partition) => ({ topic: 'workers-count-repartition', partition }),
    );
    assert.ok(repartition.length > 0, 'the repartition topic exists');
    let starts: number[] = [];
    while (Date.now() < deadline) {
      starts = (await t.admin.listOffsets(repartition, 'earliest')).map((o) => o.offset);
      if (starts.some((o) => o > 0)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await t.close();
    assert.ok(
      starts.some((o) => o > 0),
      `log start offsets of the repartition topic moved: ${starts}`,
    );
    assert.deepEqual(
      [...got].sort(),
      [0, 1, 2, 3, 4].map((i) => [`k${i}`, 20]),
    );
    assert.match(run.stderr(), /"workerThreads":true/);
    const lines = run
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{"metrics":'));
    const last = JSON.parse(lines[lines.length - 1] as string) as {
      metrics: { threads: Array<{ thread: number }> };
    };
    assert.deepEqual(last.metrics.threads.map((x) => x.thread).sort(), [0, 1]);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.stderr());
  });

  it('--embedded starts the broker in the process, runs the app and stops both on SIGTERM (exit 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-run-embedded-'));
    try {
      // The input must exist: a first run refuses (exit 1) and stops its broker.
      const first = await cli('run', `${FIX}/count-app.ts`, '--embedded', '--data-dir', dir, '--port', '0');
      assert.equal(first.code, EXIT_FAILURE);
      assert.match(first.err, /input topic 'events' does not exist/);
      // Create the input in the same data directory, then run for real.
      const b = await Broker.start(resolveBrokerConfig({ flags: { port: 0, dataDir: dir } }));
      const et = createEmbeddedTransport(b);
      await et.admin.ensureTopics([{ topic: 'events', partitions: 2 }]);
      await et.close();
      await b.close();
      const ok = await spawnRun([
        `${FIX}/count-app.ts`,
        '--embedded',
        '--data-dir',
        dir,
        '--port',
        '0',
        '--threads',
        '2',
        '--metrics-interval-ms',
        '200',
      ]);
      const lines = ok
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{"metrics":'));
      const m = JSON.parse(lines[0] as string) as { metrics: { threads: unknown[] } };
      assert.equal(m.metrics.threads.length, 2, 'two stream threads on the event loop');
      ok.child.kill('SIGTERM');
      assert.equal(await ok.exited, 0, ok.stderr());
      assert.match(ok.stderr(), /"msg":"stopped"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
