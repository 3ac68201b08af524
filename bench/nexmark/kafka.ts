/**
 * Nexmark queries as stream applications on a topic (issue #10's Kafka-sourced variant), beside
 * two same-run baselines. A Broker runs in this process (temporary directory, port 0); the
 * generator writes BENCH_EVENTS events (default 1 000 000) into `nexmark` (BENCH_PARTITIONS,
 * default 2) through the codec; then per query (BENCH_QUERIES, default q0,q1,q2,q5,q7) the query
 * runs as a StreamApp on StreamRuntime over the embedded transport (exactly_once, one stream
 * thread; BENCH_GUARANTEE=at_least_once to change) until its committed offsets reach the end of
 * the input and its output stops growing (bench/nexmark/kafka-sourced.ts).
 *
 * BENCH_REPS (default 3) interleaved repetitions per query (raw read, Kafka run, in-process
 * run), each Kafka run with its own application id; medians reported. BENCH_RATE = the
 * generator's firstEventRate (default 10 000 000, as bench/nexmark/run.ts; 10 000 lets the
 * windows of q5/q7 fire throughout the run).
 * Prints one JSON object per query: events, seconds, events/s, output records; `inProcess` =
 * the same query by runNexmark (bench/nexmark/run.ts's runner: generator as the source, one
 * thread, no broker) on the same events in this run; `rawConsume` = one read of the whole
 * topic with a PartitionReader (read_committed) in this run. Ratios are Kafka / baseline.
 * Windowed queries (q5, q7): the topic has no end-of-input, so the windows after the last
 * watermark stay open and the Kafka output has fewer records than the in-process one.
 *
 *   BENCH_EVENTS=1000000 node --import tsx bench/nexmark/kafka.ts
 */
import { runNexmark } from '../../src/connectors/index.js';
import { INPUT, produceNexmark, readTopic, runKafkaQuery, startNexmarkBroker } from './kafka-sourced.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 2);
const QUERY_LIST = (process.env.BENCH_QUERIES ?? 'q0,q1,q2,q5,q7').split(',').filter((q) => q !== '');
const GUARANTEE = process.env.BENCH_GUARANTEE === 'at_least_once' ? 'at_least_once' : 'exactly_once';
const REPS = Number(process.env.BENCH_REPS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 10_000_000);
const config = { seed: 1, firstEventRate: RATE };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const nb = await startNexmarkBroker();
try {
  const produceSeconds = await produceNexmark(nb.transport, EVENTS, PARTITIONS, config);
  console.log(
    JSON.stringify({
      produce: { events: EVENTS, partitions: PARTITIONS, seconds: Number(produceSeconds.toFixed(3)) },
    }),
  );
  for (const query of QUERY_LIST) {
    const kafka: Awaited<ReturnType<typeof runKafkaQuery>>[] = [];
    const local: Awaited<ReturnType<typeof runNexmark>>[] = [];
    const raw: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      (globalThis as { gc?: () => void }).gc?.();
      const r = await readTopic(nb.transport, INPUT, PARTITIONS);
      raw.push(Math.round(r.records / r.seconds));
      kafka.push(
        await runKafkaQuery(nb.transport, query, {
          events: EVENTS,
          partitions: PARTITIONS,
          config,
          guarantee: GUARANTEE,
          applicationId: `nexmark-kafka-${query}-r${rep}`,
        }),
      );
      local.push(await runNexmark(query, { events: EVENTS, config }));
    }
    const k = median(kafka.map((r) => r.eventsPerSecond));
    const l = median(local.map((r) => r.eventsPerSecondPerCore));
    const rc = median(raw);
    console.log(
      JSON.stringify({
        query,
        source: 'kafka (embedded transport, 1 stream thread)',
        guarantee: GUARANTEE,
        events: EVENTS,
        firstEventRate: RATE,
        partitions: PARTITIONS,
        reps: REPS,
        seconds: kafka.map((r) => r.seconds),
        eventsPerSecond: k,
        outputs: kafka.map((r) => r.outputs),
        inProcess: {
          eventsPerSecond: l,
          perRep: local.map((r) => r.eventsPerSecondPerCore),
          outputs: local[0]?.outputs,
        },
        rawConsume: { recordsPerSecond: rc, perRep: raw },
        ratioToInProcess: Number((k / l).toFixed(3)),
        ratioToRawConsume: Number((k / rc).toFixed(3)),
      }),
    );
  }
} finally {
  await nb.close();
}
