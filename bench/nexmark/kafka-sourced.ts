/**
 * Nexmark queries as stream applications on a topic (issue #10's Kafka-sourced variant): the
 * helpers bench/nexmark/kafka.ts and test/bench/nexmark/kafka-sourced.test.ts share.
 *
 *   - startNexmarkBroker: a Broker in this process (port 0, a temporary data directory, initial
 *     rebalance delay 0, max.message.bytes 64 MiB and retention.ms −1: see below) and the embedded transport on it
 *     (`sluice run --embedded`'s setup).
 *   - produceNexmark: the generator into a topic through the connectors' codec (encodeEvent:
 *     key = auction/id as text, JSON value, timestamp = event time), partitioned with Kafka's
 *     murmur2 on the key (partitionFor), as `sluice datagen nexmark` writes it. The topic gets
 *     retention.ms −1: the generator's event times are in the past.
 *   - consumeRaw: one read of the topic with a PartitionReader (the raw consume baseline).
 *   - runKafkaQuery: the query built on a StreamApp with the codec as the input's serde, run by
 *     StreamRuntime (one stream thread) until the group's committed offsets reach the input's
 *     end, then the output (`out`) read read_committed from where it ended before this query.
 *     With exactly_once the output is committed with the offsets of the sub-topology writing
 *     it; the run is over when the offsets on the repartition topics (if any) and the output's
 *     end offsets have not moved for 500 ms (the end time is the last move seen).
 *
 * Windowed queries: a topic has no end-of-input, so windows after the last watermark stay open
 * (the in-process runner flushes them at the end); their outputs are the windows that closed.
 * Crash behaviour: everything lives in the temporary directory, removed by close().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';
import {
  encodeEvent,
  type NexmarkConfig,
  NexmarkGenerator,
  nexmarkSerde,
  nexmarkWatermark,
  QUERIES,
} from '../../src/connectors/index.js';
import { StreamApp, StreamRuntime } from '../../src/stream/index.js';
import {
  createEmbeddedTransport,
  type IncomingRecord,
  type OutgoingRecord,
  partitionFor,
  type TopicPartition,
  type TopicPartitionOffset,
  type Transport,
} from '../../src/transport/index.js';

export const INPUT = 'nexmark';
export const OUTPUT = 'out';

export interface NexmarkBroker {
  readonly broker: Broker;
  readonly transport: Transport;
  close(): Promise<void>;
}

export async function startNexmarkBroker(): Promise<NexmarkBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nexmark-kafka-'));
  let broker: Broker;
  try {
    const config = resolveBrokerConfig({
      flags: { host: '127.0.0.1', port: 0, dataDir: dir, groupInitialRebalanceDelayMs: 0 },
    });
    // The stream runtime hands a commit interval's repartition records to the producer as one
    // batch per partition, which for q5 at full speed exceeds the 1 MiB default (MESSAGE_TOO_LARGE,
    // and the thread rebuilds its tasks forever): allow 64 MiB batches on this bench's topics.
    config.topicDefaults['max.message.bytes'] = 64 * 1024 * 1024;
    // Records carry the generator's event times (2023 by default): 7-day time retention would
    // delete the output (created by the runtime) while the bench reads it.
    config.topicDefaults['retention.ms'] = -1;
    broker = await Broker.start(config);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const transport = createEmbeddedTransport(broker);
  return {
    broker,
    transport,
    close: async () => {
      try {
        await transport.close();
        await broker.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

const partitionsOf = (topic: string, n: number): TopicPartition[] =>
  Array.from({ length: n }, (_, partition) => ({ topic, partition }));

/** Writes `events` generated events into `topic` (created with `partitions`); returns seconds. */
export async function produceNexmark(
  transport: Transport,
  events: number,
  partitions: number,
  config: NexmarkConfig,
  topic = INPUT,
): Promise<number> {
  await transport.admin.ensureTopics([{ topic, partitions, config: { 'retention.ms': '-1' } }]);
  const producer = transport.producer({ lingerMs: 5 });
  await producer.connect();
  const t0 = performance.now();
  try {
    const gen = new NexmarkGenerator(config);
    const CHUNK = 2048; // a batch per partition stays under max.message.bytes (1 MiB)
    for (let done = 0; done < events; ) {
      const n = Math.min(CHUNK, events - done);
      const byPartition: OutgoingRecord[][] = Array.from({ length: partitions }, () => []);
      for (let i = 0; i < n; i++) {
        const { key, value, timestamp } = encodeEvent(gen.next());
        const k = key as Buffer;
        byPartition[partitionFor(k, partitions)]?.push({ key: k, value: value as Buffer, timestamp });
      }
      await Promise.all(byPartition.map((records, p) => producer.send(topic, p, records)));
      done += n;
    }
    await producer.flush();
  } finally {
    await producer.close();
  }
  return (performance.now() - t0) / 1000;
}

async function endOffsets(transport: Transport, topic: string, partitions: number) {
  return transport.admin.listOffsets(partitionsOf(topic, partitions), 'latest', 'read_committed');
}

/**
 * Reads `topic` from `from` (per partition; default the start) to its end, read_committed.
 * Hands each batch to `onRecords`; returns the record count and seconds.
 */
export async function readTopic(
  transport: Transport,
  topic: string,
  partitions: number,
  from?: readonly TopicPartitionOffset[],
  onRecords?: (records: readonly IncomingRecord[]) => void,
): Promise<{ records: number; seconds: number }> {
  const end = await endOffsets(transport, topic, partitions);
  const reader = transport.partitionReader({ isolationLevel: 'read_committed' });
  const t0 = performance.now();
  let count = 0;
  try {
    await reader.assign(from ?? partitionsOf(topic, partitions).map((tp) => ({ ...tp, offset: 0 })));
    const caughtUp = () => end.every((e) => reader.position(e) >= e.offset);
    while (!caughtUp()) {
      const batch = await reader.poll(8192, 100);
      count += batch.length;
      onRecords?.(batch);
    }
  } finally {
    await reader.close();
  }
  return { records: count, seconds: (performance.now() - t0) / 1000 };
}

export interface KafkaQueryResult {
  query: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  outputs: number;
  /** Output values (JSON-decoded), when asked for. */
  values?: unknown[];
}

/**
 * Runs `query` over the `events` already in the input topic as a StreamApp on `transport`.
 * Seconds: from runtime start until the committed offsets reach the input's end.
 */
export async function runKafkaQuery(
  transport: Transport,
  query: string,
  options: {
    events: number;
    partitions: number;
    config: NexmarkConfig;
    guarantee?: 'exactly_once' | 'at_least_once';
    collect?: boolean;
    /** Default `nexmark-kafka-<query>`; a repeat needs a fresh one (the group's offsets). */
    applicationId?: string;
  },
): Promise<KafkaQueryResult> {
  const build = QUERIES[query];
  if (build === undefined) throw new RangeError(`unknown query '${query}'`);
  const app = new StreamApp(options.applicationId ?? `nexmark-kafka-${query}`, {
    maxFutureMs: Number.MAX_SAFE_INTEGER,
  });
  build(app, { watermark: nexmarkWatermark(new NexmarkGenerator(options.config)), serde: nexmarkSerde });
  const admin = transport.admin;
  // Output partitions: the topic exists after an earlier query, else the runtime creates it.
  const outBefore = (await admin.describeTopics([OUTPUT])).get(OUTPUT);
  const outStart = outBefore === undefined ? undefined : await endOffsets(transport, OUTPUT, outBefore);
  const inEnd = await endOffsets(transport, INPUT, options.partitions);
  const runtime = new StreamRuntime(app, {
    transport,
    threads: 1,
    guarantee: options.guarantee ?? 'exactly_once',
    commitIntervalMs: 100,
    announce: false,
  });
  const t0 = performance.now();
  let seconds: number;
  try {
    await runtime.start();
    for (;;) {
      const committed = await admin.committedOffsets(runtime.applicationId, inEnd);
      const done = inEnd.every((e, i) => (committed[i]?.offset ?? -1) >= e.offset);
      if (done) break;
      await sleep(20);
    }
    seconds = (performance.now() - t0) / 1000;
    // Downstream sub-topologies (behind repartition topics) may still be working, and the
    // output is committed with their offsets: wait until the group's offsets on the
    // repartition topics and the output's end offsets stay put for 500 ms; a change after the
    // input was done moves the end time to when it was seen.
    const prefix = `${runtime.applicationId}-`;
    const internal = ((await admin.listTopics?.()) ?? []).filter(
      (t) => t.startsWith(prefix) && t.endsWith('-repartition'),
    );
    const counts = await admin.describeTopics([...internal, OUTPUT]);
    const internalPartitions = internal.flatMap((t) => partitionsOf(t, counts.get(t) ?? 0));
    const snapshot = async () =>
      JSON.stringify([
        await admin.committedOffsets(runtime.applicationId, internalPartitions),
        await endOffsets(transport, OUTPUT, counts.get(OUTPUT) ?? 0),
      ]);
    let last = await snapshot();
    let stableSince = performance.now();
    while (performance.now() - stableSince < 500) {
      await sleep(50);
      const now = await snapshot();
      if (now !== last) {
        last = now;
        stableSince = performance.now();
        seconds = (stableSince - t0) / 1000;
      }
    }
  } finally {
    await runtime.close();
  }
  const outPartitions = (await admin.describeTopics([OUTPUT])).get(OUTPUT) ?? 0;
  const values: unknown[] = [];
  const read = await readTopic(
    transport,
    OUTPUT,
    outPartitions,
    outStart ?? partitionsOf(OUTPUT, outPartitions).map((tp) => ({ ...tp, offset: 0 })),
    options.collect
      ? (records) => {
          for (const r of records) values.push(r.value === null ? null : JSON.parse(r.value.toString()));
        }
      : undefined,
  );
  return {
    query,
    events: options.events,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(options.events / seconds),
    outputs: read.records,
    ...(options.collect ? { values } : {}),
  };
}
