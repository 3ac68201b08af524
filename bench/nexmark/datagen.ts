/**
 * `sluice datagen nexmark` into Sluice's broker, beside a same-run baseline: `sluice produce`
 * of the same events (the same keys and JSON values, one `key<TAB>value` line each, from a
 * file) through the same producer core. The ratio says what generating costs over reading
 * lines; both are the CLI binary as a child process, the broker runs in this process (port 0,
 * temporary data directory). The broker leaves fsync to the OS (flush.ms −1, as bench/broker.ts
 * does by default; BENCH_FLUSH_MS=0 fsyncs before every ack), so the client path is measured
 * rather than the disk. Reps are interleaved; medians reported.
 *
 *   node --import tsx bench/nexmark/datagen.ts [events=500000] [reps=3]
 *
 * Prints one JSON object: events/s per rep (from each command's own summary line) and medians.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';
import { encodeEvent, NexmarkGenerator } from '../../src/connectors/index.js';

const N = Number(process.argv[2] ?? 500_000);
const REPS = Number(process.argv[3] ?? 3);
const BASE = 1_700_000_000_000;
const ROOT = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sluice-bench-datagen-'));

/** Runs the CLI; returns the rate from its summary line on stderr (when it prints one). */
async function sluice(args: string[]): Promise<{ rate: number; seconds: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const [code] = await once(child, 'close');
  const m = / in ([\d.]+) s \(([\d,]+) (?:events|records)\/s\)/.exec(err);
  if (code !== 0 || (m === null && args[0] !== 'topics'))
    throw new Error(`sluice ${args.join(' ')} failed (${code}): ${err}`);
  return m === null
    ? { seconds: 0, rate: 0 }
    : { seconds: Number(m[1]), rate: Number(m[2].replace(/,/g, '')) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const FLUSH_MS = Number(process.env.BENCH_FLUSH_MS ?? -1);
const config = resolveBrokerConfig({
  file: {},
  flags: { host: '127.0.0.1', port: 0, dataDir: join(work, 'data') },
});
config.topicDefaults['flush.ms'] = FLUSH_MS;
const broker = await Broker.start(config);
try {
  const bootstrap = `127.0.0.1:${broker.address.port}`;
  // The baseline's input: the same events, as `key<TAB>value` lines.
  const gen = new NexmarkGenerator({ seed: 1, baseTime: BASE, firstEventRate: 10_000 });
  const lines: string[] = [];
  for (let i = 0; i < N; i++) {
    const e = encodeEvent(gen.next());
    lines.push(`${Buffer.from(e.key).toString()}\t${Buffer.from(e.value).toString()}`);
  }
  const file = join(work, 'events.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  lines.length = 0;

  const datagen: number[] = [];
  const produce: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const common = ['--bootstrap', bootstrap];
    await sluice(['topics', 'create', `p${r}`, '--partitions', '4', ...common]);
    produce.push(
      (await sluice(['produce', `p${r}`, '--file', file, '--key-separator', '\\t', ...common])).rate,
    );
    datagen.push(
      (
        await sluice([
          'datagen',
          'nexmark',
          '--topic',
          `d${r}`,
          '--partitions',
          '4',
          '--events',
          String(N),
          '--base-time',
          String(BASE),
          '--no-progress',
          ...common,
        ])
      ).rate,
    );
  }
  console.log(
    JSON.stringify({
      name: 'nexmark-datagen',
      events: N,
      brokerFlushMs: FLUSH_MS,
      datagen: { eventsPerSecond: datagen, median: median(datagen) },
      baseline: {
        what: 'sluice produce of the same keys and values from a file',
        recordsPerSecond: produce,
        median: median(produce),
      },
      ratio: Number((median(datagen) / median(produce)).toFixed(2)),
    }),
  );
} finally {
  await broker.close();
  rmSync(work, { recursive: true, force: true });
}
