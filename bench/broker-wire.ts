/**
 * The broker's wire path without storage: kcat (librdkafka) produces N records of S bytes to a
 * KafkaServer whose Cluster sits on the in-memory LogStore of the broker tests, then consumes
 * them back; prints one JSON object with records/s and MB/s each way. It bounds what the
 * protocol codec + server + handlers cost before any disk I/O (the real bench/broker.ts needs
 * log/). Baseline in the same run: kcat producing the same file to /dev/null-like sink
 * (kcat -P with an unreachable broker is not measurable, so the baseline is the raw line
 * generation + pipe time: `cat file`).
 *   node --import tsx bench/broker-wire.ts [records=1000000] [bytes=100]
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, clusterHandlers, KafkaServer } from '../src/broker/index.js';
import { MemoryLogStore } from '../test/broker/support/memory-log.js';

const N = Number(process.argv[2] ?? 1_000_000);
const SIZE = Number(process.argv[3] ?? 100);
const file = join(tmpdir(), `sluice-wire-${process.pid}.txt`);
const line = `${'x'.repeat(SIZE - 1)}\n`;
writeFileSync(file, line.repeat(N));

const node = { nodeId: 1, host: '127.0.0.1', port: 0 };
const cluster = new Cluster({ logs: new MemoryLogStore(), node });
await cluster.createTopic('wire', 1);
const server = new KafkaServer({ port: 0, handlers: clusterHandlers(cluster) });
node.port = (await server.listen()).port;
const broker = `127.0.0.1:${node.port}`;

async function run(
  args: string[],
  stdinFile: string | null,
): Promise<{ seconds: number; out: number; code: number }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(
    stdinFile === null ? 'kcat' : 'sh',
    stdinFile === null ? args : ['-c', `kcat ${args.join(' ')} < ${stdinFile}`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = 0;
  child.stdout.on('data', (d: Buffer) => {
    out += d.length;
  });
  const [code] = (await once(child, 'close')) as [number];
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, out, code };
}

const baseT0 = process.hrtime.bigint();
spawnSync('sh', ['-c', `cat ${file} > /dev/null`]);
const baselineSeconds = Number(process.hrtime.bigint() - baseT0) / 1e9;

const produce = await run(
  [
    '-P',
    '-b',
    broker,
    '-t',
    'wire',
    '-p',
    '0',
    '-z',
    'none',
    '-X',
    'linger.ms=20',
    '-X',
    'batch.num.messages=100000',
    '-X',
    'queue.buffering.max.messages=2000000',
    '-X',
    'acks=1',
  ],
  file,
);
const consume = await run(
  [
    '-C',
    '-b',
    broker,
    '-t',
    'wire',
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-X',
    'fetch.max.bytes=52428800',
  ],
  null,
);
await server.close();
rmSync(file, { force: true });
const mb = (N * SIZE) / 1048576;
console.log(
  JSON.stringify({
    name: 'broker-wire',
    records: N,
    recordBytes: SIZE,
    produce: {
      ok: produce.code === 0,
      seconds: Number(produce.seconds.toFixed(2)),
      recordsPerSec: Math.round(N / produce.seconds),
      mbPerSec: Number((mb / produce.seconds).toFixed(1)),
    },
    consume: {
      ok: consume.code === 0 && consume.out === N * SIZE,
      seconds: Number(consume.seconds.toFixed(2)),
      recordsPerSec: Math.round(N / consume.seconds),
      mbPerSec: Number((mb / consume.seconds).toFixed(1)),
    },
    baseline: { what: 'cat of the input file (pipe cost)', seconds: Number(baselineSeconds.toFixed(3)) },
    note: 'in-memory LogStore (test support): no disk; client and broker share the machine',
  }),
);
