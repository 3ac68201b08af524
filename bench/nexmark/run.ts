/**
 * Nexmark on Sluice, in process, one thread. Prints one JSON object per query (see
 * runNexmark in src/connectors/datagen/nexmark/bench.ts for what is measured).
 *
 *   node --import tsx bench/nexmark/run.ts --all [--events N]
 *   node --import tsx bench/nexmark/run.ts --query q5 --events 10000000 [--rate R] [--seed S]
 *
 * --all runs every implemented query with --events (default 10 000 000) each; queries run one
 * after another in this process, with a GC between them when --expose-gc is given.
 */
import { parseArgs } from 'node:util';
import { QUERIES, runNexmark } from '../../src/connectors/index.js';

const { values } = parseArgs({
  options: {
    all: { type: 'boolean', default: false },
    query: { type: 'string', multiple: true },
    events: { type: 'string', default: '10000000' },
    rate: { type: 'string' },
    seed: { type: 'string' },
  },
});
const queries = values.all ? Object.keys(QUERIES) : (values.query ?? []);
if (queries.length === 0) {
  console.error('usage: run.ts --all | --query qN [--query qM …] [--events N] [--rate R] [--seed S]');
  process.exit(2);
}
const events = Number(values.events);
for (const q of queries) {
  (globalThis as { gc?: () => void }).gc?.();
  const result = await runNexmark(q, {
    events,
    config: {
      ...(values.rate === undefined ? {} : { firstEventRate: Number(values.rate) }),
      ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    },
  });
  console.log(JSON.stringify(result));
}
