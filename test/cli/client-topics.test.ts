/**
 * `sluice topics …` against a real Sluice broker started by the test (127.0.0.1, port 0, temp
 * data dir), through runCli in-process: create, list, describe (partitions, offsets, configs),
 * alter (partitions and configs), delete; unknown topics exit 1 naming them; bad flag values
 * exit 2; an unreachable broker exits 1 with a clear message within --timeout; SASL options
 * against a broker with SASL on.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../src/cli/index.js';
import { cli, startBroker, type TestBroker } from './client-support.js';

interface DescribeJson {
  topic: string;
  partitions: { partition: number; leader: number; earliest: string; latest: string }[];
  config: Record<string, string | null>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('sluice topics against a real broker', { timeout: 90_000 }, () => {
  let b: TestBroker;
  let B: string[];
  before(async () => {
    b = await startBroker();
    B = ['--bootstrap', b.bootstrap];
  });
  after(async () => {
    await b.stop();
  });

  it('create, list, describe, alter, delete', async () => {
    let r = await cli(
      'topics',
      'create',
      'orders',
      '--partitions',
      '3',
      '--config',
      'retention.ms=3600000',
      ...B,
    );
    assert.equal(r.code, EXIT_OK, r.err);
    assert.match(r.out, /created topic orders with 3 partition/);
    r = await cli('topics', 'create', 'payments', ...B);
    assert.equal(r.code, EXIT_OK, r.err);

    r = await cli('topics', 'list', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    const listed = r.out.trim().split('\n');
    assert.ok(listed.includes('orders') && listed.includes('payments'), r.out);
    assert.ok(!listed.some((t) => t.startsWith('__')), 'internal topics hidden without --internal');

    // Offsets in describe come from the cluster: produce 4 records first.
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-topics-'));
    try {
      writeFileSync(join(dir, 'in.txt'), 'a\nb\nc\nd\n');
      r = await cli('produce', 'orders', '--file', join(dir, 'in.txt'), '--partition', '1', ...B);
      assert.equal(r.code, EXIT_OK, r.err);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    r = await cli('topics', 'describe', 'orders', '--json', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    const d = JSON.parse(r.out) as DescribeJson;
    assert.equal(d.topic, 'orders');
    assert.deepEqual(
      d.partitions.map((p) => [p.partition, p.earliest, p.latest]),
      [
        [0, '0', '0'],
        [1, '0', '4'],
        [2, '0', '0'],
      ],
    );
    assert.equal(d.config['retention.ms'], '3600000');

    r = await cli('topics', 'describe', 'orders', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.match(r.out, /topic orders: 3 partition\(s\)/);
    assert.match(r.out, /retention\.ms=3600000 {2}\[topic\]/);

    r = await cli('topics', 'alter', 'orders', '--partitions', '5', '--config', 'retention.ms=60000', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli('topics', 'describe', 'orders', '--json', ...B);
    const altered = JSON.parse(r.out) as DescribeJson;
    assert.equal(altered.partitions.length, 5);
    assert.equal(altered.config['retention.ms'], '60000');

    r = await cli('topics', 'alter', 'orders', '--delete-config', 'retention.ms', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli('topics', 'describe', 'orders', '--json', ...B);
    assert.notEqual((JSON.parse(r.out) as DescribeJson).config['retention.ms'], '60000');

    r = await cli('topics', 'alter', 'orders', '--partitions', '2', ...B);
    assert.equal(r.code, EXIT_USAGE);
    assert.match(r.err, /can only grow/);

    r = await cli('topics', 'delete', 'payments', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli('topics', 'list', ...B);
    assert.ok(!r.out.split('\n').includes('payments'), r.out);
  });

  it('creating an existing topic and using an unknown one exit 1 naming the topic', async () => {
    let r = await cli('topics', 'create', 'dup', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli('topics', 'create', 'dup', ...B);
    assert.equal(r.code, EXIT_FAILURE);
    assert.match(r.err, /topic 'dup' already exists/);
    for (const argv of [
      ['topics', 'describe', 'nosuch'],
      ['topics', 'delete', 'nosuch'],
      ['topics', 'alter', 'nosuch', '--partitions', '4'],
      ['consume', 'nosuch', '--from-beginning', '--timeout-ms', '500'],
    ]) {
      r = await cli(...argv, ...B);
      assert.equal(r.code, EXIT_FAILURE, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, /topic 'nosuch' does not exist/, argv.join(' '));
    }
    r = await cli('topics', 'list', ...B);
    assert.ok(!r.out.split('\n').includes('nosuch'), 'describing an unknown topic must not create it');
  });

  it('bad flag values exit 2 with a message naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 'x', '--partitions', '0'], /--partitions/],
      [['topics', 'create', 'x', '--config', 'novalue'], /key=value/],
      [['topics', 'list', '--bootstrap', 'nohostport'], /host:port/],
      [['topics', 'list', '--timeout', 'soon'], /milliseconds/],
      [['topics', 'list', '--sasl-mechanism', 'gssapi'], /gssapi/],
      [['topics', 'list', '--sasl-mechanism', 'plain'], /--sasl-username/],
      [['topics', 'alter', 'x'], /nothing to alter/],
      [['topics', 'create', 'bad/name', ...B], /not a valid topic name|bad\/name/],
      [['produce', 't', '--acks', '2'], /--acks/],
      [['produce', 't', '--compression', 'brotli'], /--compression/],
      [['consume', 't', '--offset', '-1'], /--offset/],
      [['consume', 't', '--from-timestamp', 'yesterday'], /ISO/],
      [['consume', 't', '--from-beginning', '--offset', '3'], /at most one/],
      [['consume', 't', '--group', 'g', '--partition', '0'], /--group/],
      [['consume', 't', '--format', 'xml'], /--format/],
      [['topics', 'frobnicate'], /unknown command|frobnicate/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      assert.equal(r.code, EXIT_USAGE, `${argv.join(' ')} → ${r.code}: ${r.err}`);
      assert.match(r.err, message, argv.join(' '));
    }
  });

  it('SLUICE_BOOTSTRAP picks the cluster when --bootstrap is absent; help has examples', async () => {
    process.env.SLUICE_BOOTSTRAP = b.bootstrap;
    try {
      const r = await cli('topics', 'create', 'from-env');
      assert.equal(r.code, EXIT_OK, r.err);
      const l = await cli('topics', 'list');
      assert.ok(l.out.split('\n').includes('from-env'), l.out);
    } finally {
      delete process.env.SLUICE_BOOTSTRAP;
    }
    for (const argv of [['topics'], ['produce'], ['consume'], ['groups']]) {
      const h = await cli(...argv, '--help');
      assert.equal(h.code, EXIT_OK);
      assert.match(h.out, /Examples:\n.*sluice /, argv.join(' '));
    }
    const h = await cli('consume', '--help');
    assert.match(h.out, /--bootstrap <host:port,…>.*\n.*default: "localhost:9092", env:\s+SLUICE_BOOTSTRAP/);
  });

  it('an unreachable broker exits 1 with a clear message within the timeout', async () => {
    const port = await freePort();
    for (const argv of [
      ['topics', 'list'],
      ['produce', 'orders', '--file', '/dev/null'],
      ['consume', 'orders', '--from-beginning'],
      ['groups', 'list'],
    ]) {
      const t0 = Date.now();
      const r = await cli(...argv, '--bootstrap', `127.0.0.1:${port}`, '--timeout', '1500');
      const elapsed = Date.now() - t0;
      assert.equal(r.code, EXIT_FAILURE, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, new RegExp(`cannot reach Kafka at 127\\.0\\.0\\.1:${port}`), argv.join(' '));
      // Bounded, not hanging: the 1.5 s timeout plus generous slack for a loaded machine.
      assert.ok(elapsed < 15_000, `${argv.join(' ')} took ${elapsed} ms`);
    }
  });
});

describe('sluice topics and produce with SASL, auto-creation off', { timeout: 60_000 }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker(
      { autoCreateTopics: false },
      {
        sasl: {
          enabled: true,
          mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
          users: [{ name: 'alice', password: 'wonderland' }],
        },
      },
    );
  });
  after(async () => {
    await b.stop();
  });

  it('PLAIN and SCRAM credentials work; unknown topics and partitions exit 1; a wrong password exits 1', async () => {
    const B = ['--bootstrap', b.bootstrap];
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
      const topic = `sasl-${mechanism}`;
      const auth = [
        '--sasl-mechanism',
        mechanism,
        '--sasl-username',
        'alice',
        '--sasl-password',
        'wonderland',
      ];
      let r = await cli('topics', 'create', topic, ...B, ...auth);
      assert.equal(r.code, EXIT_OK, `${mechanism}: ${r.err}`);
      // describe also sends DescribeConfigs over Sluice's own SASL client.
      r = await cli('topics', 'describe', topic, '--json', ...B, ...auth);
      assert.equal(r.code, EXIT_OK, `${mechanism}: ${r.err}`);
      assert.equal((JSON.parse(r.out) as DescribeJson).topic, topic);
    }
    const auth = [
      '--sasl-mechanism',
      'scram-sha-512',
      '--sasl-username',
      'alice',
      '--sasl-password',
      'wonderland',
    ];
    let r = await cli('produce', 'absent', '--file', '/etc/hostname', '--timeout', '2000', ...B, ...auth);
    assert.equal(r.code, EXIT_FAILURE, r.err);
    assert.match(r.err, /topic 'absent' does not exist/);
    r = await cli('produce', 'sasl-plain', '--file', '/etc/hostname', '--partition', '7', ...B, ...auth);
    assert.equal(r.code, EXIT_FAILURE, r.err);
    assert.match(r.err, /topic 'sasl-plain' has no partition 7/);
    r = await cli(
      'topics',
      'list',
      ...B,
      '--timeout',
      '3000',
      '--sasl-mechanism',
      'scram-sha-256',
      '--sasl-username',
      'alice',
      '--sasl-password',
      'wrong',
    );
    assert.equal(r.code, EXIT_FAILURE, r.err);
    assert.match(r.err, /authentication with 127\.0\.0\.1:\d+ failed/);
    r = await cli('topics', 'list', ...B, '--timeout', '3000');
    assert.equal(r.code, EXIT_FAILURE, r.err);
    assert.match(r.err, /accepts connections .*require SASL/);
  });
});
