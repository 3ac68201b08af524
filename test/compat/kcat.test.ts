/**
 * Compatibility with kcat (Debian's, librdkafka's C client) against a `sluice broker` process.
 * kcat reads records as lines, so keys and values are printable; headers are set per run
 * (-H), and timestamps are librdkafka's CreateTime: the check is that every consumed
 * timestamp lies in the producing run's time window and never decreases.
 * Checks: 100 000 records with each codec (none, gzip, snappy, lz4, zstd); a three-member
 * balanced-consumer group (-G) splits, rebalances on leave and join, and its committed
 * offsets survive a broker crash; an idempotent producer's retried batch is stored once;
 * ListOffsets by timestamp (-Q).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSameRecords, type CompatBroker, makeRecords, startCompatBroker } from './support/harness.js';
import { groupScenario, idempotentScenario, type Member, observer } from './support/scenarios.js';

const N = 100_000;

async function kcat(args: string[], input: string | null = null, ms = 120_000): Promise<string> {
  const child = spawn('kcat', args, { stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d) => {
    err += d;
  });
  if (input !== null) child.stdin?.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  assert.equal(code, 0, `kcat ${args.join(' ')}: exit ${code}: ${err}`);
  return Buffer.concat(out).toString('utf8');
}

describe('compat: kcat', { timeout: 300_000 }, () => {
  let env: CompatBroker;
  before(async () => {
    env = await startCompatBroker();
  });
  after(async () => {
    await env?.close();
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`${codec}: 100 000 records back byte-identical (keys, headers; timestamps in the produce window)`, async () => {
      const topic = `kcat-${codec}`;
      const records = makeRecords(N, topic);
      const input = `${records.map((r) => `${r.key}\t${r.value}`).join('\n')}\n`;
      const t0 = Date.now();
      await kcat(
        [
          '-P',
          '-b',
          env.bootstrap,
          '-t',
          topic,
          '-p',
          '0',
          '-K',
          '\t',
          '-z',
          codec,
          '-H',
          `seed=${topic}`,
          '-H',
          'h=x',
        ],
        input,
      );
      const t1 = Date.now();
      const out = await kcat([
        '-C',
        '-b',
        env.bootstrap,
        '-t',
        topic,
        '-p',
        '0',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%k\t%s\t%h\t%T\n',
      ]);
      const lines = out.split('\n');
      lines.pop();
      let last = 0;
      const got = lines.map((l) => {
        const [k, v, h, ts] = l.split('\t');
        const t = Number(ts);
        assert.ok(
          t >= t0 - 1 && t <= t1 + 1 && t >= last,
          `timestamp ${t} outside [${t0}, ${t1}] or decreasing`,
        );
        last = t;
        return `${k}\t${v}\t${h}`;
      });
      assertSameRecords(
        got,
        records.map((r) => `${r.key}\t${r.value}\tseed=${topic},h=x`),
        `kcat ${codec}`,
      );
    });
  }

  it('a balanced-consumer group of three splits, rebalances on leave and join; offsets survive a crash', async () => {
    await groupScenario(
      env,
      {
        async produce(bootstrap, topic, values) {
          await kcat(
            ['-P', '-b', bootstrap, '-t', topic, '-K', ':'],
            `${values.map((v) => `${v}:${v}`).join('\n')}\n`,
          );
        },
        async member(bootstrap, group, topic): Promise<Member> {
          const child: ChildProcess = spawn(
            'kcat',
            [
              '-b',
              bootstrap,
              '-G',
              group,
              topic,
              '-q',
              '-u', // unbuffered: lines arrive as records do
              '-f',
              '%s\n',
              '-X',
              'auto.offset.reset=earliest',
              '-X',
              'auto.commit.interval.ms=200',
              '-X',
              'session.timeout.ms=10000',
              '-X',
              'heartbeat.interval.ms=500',
            ],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          const received: string[] = [];
          let buf = '';
          child.stdout?.on('data', (d) => {
            buf += d;
            const parts = buf.split('\n');
            buf = parts.pop() ?? '';
            received.push(...parts);
          });
          child.stderr?.resume();
          return {
            received,
            async close() {
              if (child.exitCode !== null || child.signalCode !== null) return;
              const exited = once(child, 'exit');
              child.kill('SIGTERM'); // kcat closes the consumer: final commit, LeaveGroup
              const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
              await exited;
              clearTimeout(t);
            },
          };
        },
      },
      'kcat',
    );
  });

  it('an idempotent producer’s retried batch is stored once', async () => {
    await idempotentScenario(
      env,
      'kcat',
      async (bootstrap, topic, values) => {
        await kcat(
          // -E: a dropped connection is a non-fatal error librdkafka recovers from by retrying
          ['-P', '-E', '-b', bootstrap, '-t', topic, '-X', 'enable.idempotence=true'],
          `${values.join('\n')}\n`,
        );
      },
      async (bootstrap, topic) => {
        const out = await kcat([
          '-C',
          '-b',
          bootstrap,
          '-t',
          topic,
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%s\n',
        ]);
        return out.split('\n').filter((l) => l !== '');
      },
    );
  });

  it('ListOffsets by timestamp (-Q) finds the first record at or after it', async () => {
    const topic = 'kcat-time';
    const admin = await observer(env.bootstrap);
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    // three runs a few ms apart: distinct timestamps between runs
    for (const run of ['a', 'b', 'c']) {
      await kcat(['-P', '-b', env.bootstrap, '-t', topic, '-p', '0'], `${run}1\n${run}2\n${run}3\n`);
      await sleep(20);
    }
    const out = await kcat([
      '-C',
      '-b',
      env.bootstrap,
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%o %T\n',
    ]);
    const rows = out
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(Number) as [number, number]);
    assert.equal(rows.length, 9);
    for (const probe of [rows[0], rows[3], rows[7]]) {
      const ts = (probe as [number, number])[1];
      const want = rows.find(([, t]) => t >= ts)?.[0];
      const q = await kcat(['-Q', '-b', env.bootstrap, '-t', `${topic}:0:${ts}`]);
      assert.match(q, new RegExp(`\\[0\\]\\s+offset ${want}\\b`), q);
    }
    const beyond = await kcat([
      '-Q',
      '-b',
      env.bootstrap,
      '-t',
      `${topic}:0:${(rows[8] as [number, number])[1] + 60_000}`,
    ]);
    assert.match(beyond, /offset (-1|9)\b/, beyond);
  });
});
