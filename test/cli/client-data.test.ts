/**
 * `sluice produce`, `sluice consume` and `sluice groups` against a real Sluice broker started
 * by the test: 10 000 keyed lines with headers produced from a file and consumed back exactly;
 * consuming from an offset and from a timestamp; `groups describe` on a live consumer group
 * (a @confluentinc/kafka-javascript consumer kept running in the test) before and after more
 * records arrive; and the real binary as a child process (stdin → produce, consume, SIGINT).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import ck from '@confluentinc/kafka-javascript';
import { EXIT_OK } from '../../src/cli/index.js';
import { partitionFor } from '../../src/transport/index.js';
import { cli, startBroker, type TestBroker } from './client-support.js';

interface JsonRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

interface GroupJson {
  state: string;
  protocolType: string;
  members: {
    memberId: string;
    clientId: string;
    host: string;
    assignment: { topic: string; partition: number }[];
  }[];
  partitions: {
    topic: string;
    partition: number;
    committed: number | null;
    logEnd: number;
    lag: number | null;
    member: string | null;
  }[];
}

const parseJsonLines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonRecord);

/** Runs the real CLI entry point as a child process (async: the broker lives in this process). */
function sluice(
  args: string[],
  input?: string,
): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'silent' },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = once(child, 'close').then(([code]) => {
    clearTimeout(killer);
    return { code: code as number | null, out, err };
  });
  return { child, done };
}

describe('sluice produce / consume / groups against a real broker', { timeout: 90_000 }, () => {
  let b: TestBroker;
  let B: string[];
  let dir: string;
  before(async () => {
    b = await startBroker();
    B = ['--bootstrap', b.bootstrap];
    dir = mkdtempSync(join(tmpdir(), 'sluice-cli-data-'));
  });
  after(async () => {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('produces 10 000 keyed lines with headers from a file and consumes them back exactly', async () => {
    const lines = Array.from(
      { length: 10_000 },
      (_, i) => `key-${i % 97}|value ${i} ${'é'.repeat(i % 13)}|x`,
    );
    const file = join(dir, 'lines.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    let r = await cli('topics', 'create', 'lines', '--partitions', '1', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli(
      'produce',
      'lines',
      '--file',
      file,
      '--key-separator',
      '|',
      '--header',
      'source=test',
      '--header',
      'batch=1',
      '--compression',
      'lz4',
      ...B,
    );
    assert.equal(r.code, EXIT_OK, r.err);
    assert.equal(r.out, '', 'produce writes nothing to stdout');
    assert.match(r.err, /produced 10000 records \(\d+ bytes\) to lines in [\d.]+ s \(\d+ records\/s\)/);

    r = await cli(
      'consume',
      'lines',
      '--from-beginning',
      '--max-messages',
      '10000',
      '--format',
      'kv',
      '--key-separator',
      '|',
      ...B,
    );
    assert.equal(r.code, EXIT_OK, r.err);
    assert.equal(r.out, `${lines.join('\n')}\n`);
    assert.match(r.err, /consumed 10000 records/);

    r = await cli('consume', 'lines', '--from-beginning', '--max-messages', '3', '--format', 'json', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    const json = parseJsonLines(r.out);
    assert.deepEqual(
      json.map((m) => [m.offset, m.key, m.value, m.headers]),
      lines.slice(0, 3).map((l, i) => {
        const [key, ...rest] = l.split('|');
        return [i, key, rest.join('|'), { source: 'test', batch: '1' }];
      }),
    );
    r = await cli('consume', 'lines', '--from-beginning', '--max-messages', '1', '--print-headers', ...B);
    assert.equal(r.out, `source=test,batch=1\t${lines[0]?.slice(lines[0].indexOf('|') + 1)}\n`);
  });

  it("keyed records land on Kafka's murmur2 partition (as the Java client and Sluice's stream runtime place them)", async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `user-${i % 41}|v${i}`);
    writeFileSync(join(dir, 'placed.txt'), `${lines.join('\n')}\n`);
    let r = await cli('topics', 'create', 'placed', '--partitions', '6', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli('produce', 'placed', '--file', join(dir, 'placed.txt'), '--key-separator', '|', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli('consume', 'placed', '--from-beginning', '--max-messages', '300', '--format', 'json', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    const got = parseJsonLines(r.out);
    assert.equal(got.length, 300);
    const partitions = new Set<number>();
    for (const m of got) {
      partitions.add(m.partition as number);
      assert.equal(m.partition, partitionFor(Buffer.from(m.key as string), 6), `key ${m.key}`);
    }
    assert.ok(partitions.size > 1, 'keys spread over several partitions');
  });

  it('per-record headers: produce --parse-headers reads what consume --print-headers writes', async () => {
    const lines = Array.from({ length: 200 }, (_, i) =>
      i % 10 === 0 ? `\tk${i}:no headers ${i}` : `seq=${i},parity=${i % 2 ? 'odd' : 'even'}\tk${i}:v=${i},x`,
    );
    writeFileSync(join(dir, 'headers.txt'), `${lines.join('\n')}\n`);
    let r = await cli('topics', 'create', 'hdrs', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli(
      'produce',
      'hdrs',
      '--file',
      join(dir, 'headers.txt'),
      '--parse-headers',
      '--key-separator',
      ':',
      ...B,
    );
    assert.equal(r.code, EXIT_OK, r.err);
    const args = [
      '--from-beginning',
      '--max-messages',
      '200',
      '--print-headers',
      '--format',
      'kv',
      '--key-separator',
      ':',
    ];
    r = await cli('consume', 'hdrs', ...args, ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.equal(r.out, `${lines.join('\n')}\n`);
    r = await cli('consume', 'hdrs', '--offset', '1', '--max-messages', '1', '--format', 'json', ...B);
    assert.deepEqual((parseJsonLines(r.out)[0] as JsonRecord).headers, { seq: '1', parity: 'odd' });

    writeFileSync(join(dir, 'bad-headers.txt'), 'a=1\tk:v\nno-tab-here\n');
    r = await cli(
      'produce',
      'hdrs',
      '--file',
      join(dir, 'bad-headers.txt'),
      '--parse-headers',
      '--key-separator',
      ':',
      ...B,
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /line 2: --parse-headers expects/);
  });

  it('consumes from an offset and from a timestamp', async () => {
    let r = await cli('topics', 'create', 'timed', '--partitions', '2', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    const first = Array.from({ length: 50 }, (_, i) => `k${i}:early-${i}`);
    const second = Array.from({ length: 30 }, (_, i) => `k${i}:late-${i}`);
    writeFileSync(join(dir, 'early.txt'), `${first.join('\n')}\n`);
    writeFileSync(join(dir, 'late.txt'), `${second.join('\n')}\n`);
    r = await cli('produce', 'timed', '--file', join(dir, 'early.txt'), '--key-separator', ':', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    await sleep(50);
    const boundary = new Date().toISOString();
    await sleep(50);
    r = await cli(
      'produce',
      'timed',
      '--file',
      join(dir, 'late.txt'),
      '--key-separator',
      ':',
      '--acks',
      '1',
      ...B,
    );
    assert.equal(r.code, EXIT_OK, r.err);

    r = await cli(
      'consume',
      'timed',
      '--from-timestamp',
      boundary,
      '--timeout-ms',
      '1500',
      '--format',
      'json',
      ...B,
    );
    assert.equal(r.code, EXIT_OK, r.err);
    const late = parseJsonLines(r.out);
    assert.deepEqual(late.map((m) => m.value).sort(), second.map((l) => l.split(':')[1]).sort());
    assert.ok(late.every((m) => m.timestamp >= Date.parse(boundary)));

    // From an offset in one partition: everything from there to the end, in order.
    r = await cli(
      'consume',
      'timed',
      '--partition',
      '0',
      '--from-beginning',
      '--timeout-ms',
      '1000',
      '--format',
      'json',
      ...B,
    );
    const all0 = parseJsonLines(r.out);
    assert.ok(all0.length > 3, 'partition 0 holds records');
    r = await cli(
      'consume',
      'timed',
      '--partition',
      '0',
      '--offset',
      '3',
      '--timeout-ms',
      '1000',
      '--format',
      'json',
      ...B,
    );
    assert.equal(r.code, EXIT_OK, r.err);
    assert.deepEqual(parseJsonLines(r.out), all0.slice(3));

    // The default start is the end: nothing old is printed.
    r = await cli('consume', 'timed', '--timeout-ms', '800', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.equal(r.out, '');
  });

  it('groups describe shows members, assignment and lag of a live group, and lag after more records', async () => {
    let r = await cli('topics', 'create', 'live', '--partitions', '3', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    writeFileSync(
      join(dir, 'live.txt'),
      `${Array.from({ length: 60 }, (_, i) => `k${i}=v${i}`).join('\n')}\n`,
    );
    r = await cli('produce', 'live', '--file', join(dir, 'live.txt'), '--key-separator', '=', ...B);
    assert.equal(r.code, EXIT_OK, r.err);

    const kafka = new ck.KafkaJS.Kafka({});
    const consumer = kafka.consumer({
      'bootstrap.servers': b.bootstrap,
      'group.id': 'live-group',
      'client.id': 'live-client',
      'auto.offset.reset': 'earliest',
      'auto.commit.interval.ms': 100,
      log_level: 0,
    } as never);
    let seen = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: ['live'] });
      void consumer.run({
        eachMessage: async () => {
          seen++;
        },
      });
      const describeUntil = async (ok: (g: GroupJson) => boolean): Promise<GroupJson> => {
        for (let i = 0; ; i++) {
          const d = await cli('groups', 'describe', 'live-group', '--json', ...B);
          if (d.code === EXIT_OK) {
            const g = JSON.parse(d.out) as GroupJson;
            if (ok(g)) return g;
            if (i > 150) assert.fail(`group never reached the expected state: ${d.out}`);
          } else if (i > 150) assert.fail(d.err);
          await sleep(100);
        }
      };
      let g = await describeUntil(
        (x) => x.state === 'Stable' && x.partitions.length === 3 && x.partitions.every((p) => p.lag === 0),
      );
      assert.equal(seen, 60);
      assert.equal(g.protocolType, 'consumer');
      assert.equal(g.members.length, 1);
      const [member] = g.members;
      assert.equal(member?.clientId, 'live-client');
      assert.ok((member?.host ?? '').length > 0);
      assert.deepEqual(
        member?.assignment,
        [0, 1, 2].map((partition) => ({ topic: 'live', partition })),
      );
      assert.equal(
        g.partitions.reduce((n, p) => n + p.logEnd, 0),
        60,
      );
      assert.ok(g.partitions.every((p) => p.member === member?.memberId && p.committed === p.logEnd));

      // Paused, the member stays in the group while new records build up lag.
      consumer.pause([{ topic: 'live' }]);
      await sleep(300);
      writeFileSync(join(dir, 'more.txt'), `${Array.from({ length: 25 }, (_, i) => `m${i}`).join('\n')}\n`);
      r = await cli('produce', 'live', '--file', join(dir, 'more.txt'), '--partition', '2', ...B);
      assert.equal(r.code, EXIT_OK, r.err);
      g = await describeUntil((x) => x.partitions.find((p) => p.partition === 2)?.lag === 25);
      assert.equal(g.members.length, 1);
      assert.deepEqual(
        g.partitions.map((p) => [p.partition, p.lag]),
        [
          [0, 0],
          [1, 0],
          [2, 25],
        ],
      );

      const text = await cli('groups', 'describe', 'live-group', ...B);
      assert.equal(text.code, EXIT_OK, text.err);
      assert.match(text.out, /group live-group: state Stable, protocol consumer\/\S+, 1 member/);
      assert.match(text.out, /client live-client host \S+: live-0, live-1, live-2/);
      const list = await cli('groups', 'list', ...B);
      assert.match(list.out, /^live-group\tStable\tconsumer$/m);
    } finally {
      await consumer.disconnect();
    }
  });

  it('consume --group commits what it printed; a second run continues there', async () => {
    let r = await cli('topics', 'create', 'grp', '--partitions', '1', ...B);
    writeFileSync(join(dir, 'grp.txt'), `${Array.from({ length: 20 }, (_, i) => `g${i}`).join('\n')}\n`);
    r = await cli('produce', 'grp', '--file', join(dir, 'grp.txt'), ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    r = await cli('consume', 'grp', '--group', 'cli-group', '--from-beginning', '--max-messages', '12', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.equal(r.out, `${Array.from({ length: 12 }, (_, i) => `g${i}`).join('\n')}\n`);
    r = await cli('groups', 'describe', 'cli-group', '--json', ...B);
    const g = JSON.parse(r.out) as GroupJson;
    assert.deepEqual(
      g.partitions.map((p) => [p.partition, p.committed, p.logEnd, p.lag]),
      [[0, 12, 20, 8]],
    );
    r = await cli('consume', 'grp', '--group', 'cli-group', '--timeout-ms', '1500', ...B);
    assert.equal(r.code, EXIT_OK, r.err);
    assert.equal(r.out, `${Array.from({ length: 8 }, (_, i) => `g${i + 12}`).join('\n')}\n`);
    r = await cli('groups', 'describe', 'no-such-group', ...B);
    assert.equal(r.code, 1);
    assert.match(r.err, /group 'no-such-group' does not exist/);
  });

  it('the real binary: produce from stdin, consume with --max-messages, exit 0 on SIGINT and on a closed pipe', async () => {
    const input = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    writeFileSync(
      join(dir, 'more-bin.txt'),
      `${Array.from({ length: 200 }, (_, i) => `more ${i}`).join('\n')}\n`,
    );
    const p = sluice(['produce', 'bin', ...B], `${input.join('\n')}\n`);
    const produced = await p.done;
    assert.equal(produced.code, 0, produced.err);
    assert.match(produced.err, /produced 500 records/);
    // --progress draws the bar for a file on stderr even though stderr is a pipe here.
    const bar = await sluice(['produce', 'bin-bar', '--file', join(dir, 'more-bin.txt'), '--progress', ...B])
      .done;
    assert.equal(bar.code, 0, bar.err);
    assert.match(bar.err, /produce \[[█░]+\] 100% \| \d+\/\d+ bytes \| 200 records/);

    const c = sluice(['consume', 'bin', '--from-beginning', '--max-messages', '500', ...B]);
    const consumed = await c.done;
    assert.equal(consumed.code, 0, consumed.err);
    assert.equal(consumed.out, `${input.join('\n')}\n`);

    // Without a limit the consumer runs until interrupted, then exits cleanly.
    const live = sluice(['consume', 'bin', '--from-beginning', ...B]);
    let printed = '';
    live.child.stdout?.on('data', (d) => {
      printed += d;
    });
    while (!printed.includes('line 499')) await sleep(50);
    live.child.kill('SIGINT');
    const stopped = await live.done;
    assert.equal(stopped.code, 0, stopped.err);
    assert.match(stopped.err, /consumed 500 records from bin \(interrupted\)/);

    const quiet = await sluice(['produce', 'bin-bar', '--file', join(dir, 'more-bin.txt'), ...B]).done;
    assert.equal(quiet.code, 0, quiet.err);
    assert.doesNotMatch(quiet.err, /produce \[/, 'no bar when stderr is not a terminal');

    // `sluice consume … | head`: the reader goes away; the consumer stops quietly, no EPIPE crash.
    const piped = sluice(['consume', 'bin', '--from-beginning', ...B]);
    await once(piped.child.stdout as NodeJS.ReadableStream, 'data');
    piped.child.stdout?.destroy();
    writeFileSync(
      join(dir, 'more-bin.txt'),
      `${Array.from({ length: 200 }, (_, i) => `more ${i}`).join('\n')}\n`,
    );
    for (let i = 0; i < 5 && piped.child.exitCode === null; i++) {
      const more = await cli('produce', 'bin', '--file', join(dir, 'more-bin.txt'), ...B);
      assert.equal(more.code, EXIT_OK, more.err);
      await sleep(300);
    }
    const closed = await piped.done;
    assert.equal(closed.code, 0, closed.err);
    assert.doesNotMatch(closed.err, /EPIPE/);

    const bad = sluice(['consume', 'bin', '--max-messages', '0', ...B]);
    const usage = await bad.done;
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--max-messages/);
  });
});
