/**
 * `sluice bench nexmark --query q5 --events 10000000`: runs Nexmark queries in process on one
 * thread (the generator as source, results counted) and prints one JSON line per query with
 * events/s and Flink 1.13's published per-core figure. `--query all` runs every implemented
 * query. The measurement itself is runNexmark (connectors/datagen/nexmark), shared with
 * bench/nexmark/run.ts.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { QUERIES, runNexmark } from '../../connectors/index.js';
import { parsePositiveInt } from '../program.js';

function parseQuery(value: string, previous: string[] = []): string[] {
  if (value !== 'all' && QUERIES[value] === undefined) {
    throw new InvalidArgumentError(
      `unknown query '${value}' (known: ${Object.keys(QUERIES).join(', ')}, all)`,
    );
  }
  return [...previous, value];
}

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('run built-in benchmarks');
  bench
    .command('nexmark')
    .description('Nexmark queries on the in-process generator; one JSON line per query')
    .requiredOption(
      '--query <qN|all>',
      'query to run (repeatable; "all" for every implemented one)',
      parseQuery,
    )
    .option('--events <n>', 'events to generate per query', parsePositiveInt, 10_000_000)
    .option('--rate <n>', 'event-time pacing: events per second of event time', parsePositiveInt, 10_000_000)
    .option('--seed <n>', 'generator seed', (v) => Number.parseInt(v, 10), 1)
    .action(async (opts: { query: string[]; events: number; rate: number; seed: number }, cmd: Command) => {
      const write = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      const queries = opts.query.includes('all') ? Object.keys(QUERIES) : opts.query;
      for (const q of queries) {
        const r = await runNexmark(q, {
          events: opts.events,
          config: { seed: opts.seed, firstEventRate: opts.rate },
        });
        write(`${JSON.stringify(r)}\n`);
      }
    });
}
