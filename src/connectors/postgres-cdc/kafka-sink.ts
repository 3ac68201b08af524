/**
 * ChangeSink and OffsetStore on any Kafka cluster (the embedded broker or a real one),
 * through @confluentinc/kafka-javascript (librdkafka).
 *
 * Sink: one idempotent producer, acks=all; `send` resolves when every record of the batch
 * is acknowledged by the in-sync replicas. Idempotence keeps per-partition order across
 * librdkafka's internal retries, so per-key order holds. Topics are created on first use
 * when the cluster allows it (allow.auto.create.topics), else must exist.
 * The sink uses librdkafka's own producer API, not the KafkaJS-compatible layer: that layer
 * makes a promise and a delivery-report object per record, about 2/3 of the connector's
 * CPU per record (bench/cdc.ts). Here delivery reports come only for failed records
 * (`delivery.report.only.error`), and `send` ends with `flush`, which returns once librdkafka's
 * queue is empty, i.e. every record was acknowledged or failed; a failure's report is
 * dispatched before the flush's completion is seen (both are libuv async events queued in
 * that order; `send` also waits one turn of the event loop), so a failed record fails its
 * `send`. One `send` at a time (the connector's rule): a flush waits for everything queued.
 * Offsets: the compacted topic `_sluice_cdc_offsets` (1 partition), key = slot name,
 * value = the SourceOffset as JSON; `load` reads the topic to its end and keeps the last
 * value per key (a null value clears). As Kafka Connect's offsets topic, it is read by
 * assigning the partition, without joining a consumer group (a group join waits for the
 * broker's initial rebalance delay, 3 s by default, at every connector start).
 */
import rdkafka, {
  KafkaJS,
  type LibrdKafkaError,
  type Message,
  type MessageHeader,
} from '@confluentinc/kafka-javascript';

// CommonJS: the native client classes are reachable only through the default export.
const { KafkaConsumer, Producer } = rdkafka;
type Producer = InstanceType<typeof Producer>;

import { SluiceError } from '../../common/index.js';
import type { ChangeRecord, ChangeSink, OffsetStore, SourceOffset } from './sink.js';

export interface KafkaSinkOptions {
  /** host:port[,host:port…] */
  bootstrap: string;
  clientId?: string;
  /** Offsets topic (default `_sluice_cdc_offsets`). */
  offsetsTopic?: string;
  /** Extra librdkafka properties. */
  config?: Record<string, string | number | boolean>;
}

export const DEFAULT_OFFSETS_TOPIC = '_sluice_cdc_offsets';

function kafkaOf(o: KafkaSinkOptions): KafkaJS.Kafka {
  return new KafkaJS.Kafka({
    'bootstrap.servers': o.bootstrap,
    'client.id': o.clientId ?? 'sluice-cdc',
    log_level: 3,
    ...(o.config ?? {}),
  } as never);
}

function wrap(err: unknown, what: string): SluiceError {
  if (err instanceof SluiceError) return err;
  return new SluiceError('NETWORK', `${what}: ${(err as Error).message ?? String(err)}`, {
    cause: err,
    retriable: true,
  });
}

export class KafkaChangeSink implements ChangeSink {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  /** First delivery failure since the last `send` began (reports come only for failures). */
  private failure: LibrdKafkaError | undefined;
  /** A fatal client error (e.g. the idempotent producer lost its sequence): every later send fails. */
  private fatal: LibrdKafkaError | undefined;

  constructor(readonly options: KafkaSinkOptions) {
    this.producer = new Producer({
      'bootstrap.servers': options.bootstrap,
      'client.id': options.clientId ?? 'sluice-cdc',
      log_level: 3,
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': 5,
      'compression.type': 'lz4',
      dr_cb: true,
      'delivery.report.only.error': true,
      ...(options.config ?? {}),
    } as never);
    this.producer.on('delivery-report', (err) => {
      if (err) this.failure ??= err;
    });
    this.producer.on('event.error', (err) => {
      if ((err as { isFatal?: boolean }).isFatal === true) this.fatal ??= err;
    });
  }

  private connect(): Promise<void> {
    this.connected ??= new Promise<void>((resolve, reject) => {
      this.producer.connect({}, (err) => (err ? reject(err) : resolve()));
    }).then(
      () => {
        // Serves failure reports and client errors between flushes.
        this.producer.setPollInterval(100);
      },
      (err) => {
        this.connected = undefined;
        throw wrap(err, `cannot connect to Kafka at ${this.options.bootstrap}`);
      },
    );
    return this.connected;
  }

  async send(records: readonly ChangeRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    if (this.fatal !== undefined) throw wrap(this.fatal, 'the Kafka producer failed for good');
    this.failure = undefined;
    try {
      for (let i = 0; i < records.length; i++) {
        const r = records[i];
        this.producer.produce(r.topic, null, r.value, r.key, 0, undefined, headersOf(r.headers));
      }
    } catch (err) {
      // Queue full or a closed client: what was queued is flushed below, the batch fails.
      this.failure ??= err as LibrdKafkaError;
    }
    // librdkafka's flush re-checks its queue only every 10 ms when no delivery report wakes it
    // (and successes make none here): short 1 ms flushes back to back first, so a small batch
    // is acknowledged within about a millisecond of the broker's answer; then long waits.
    // 1 ms, not 0: librdkafka skips linger.ms only while a flush call is waiting, so
    // zero-timeout flushes 1 ms apart left a streamed change waiting for most of the linger
    // (bench/cdc.ts, alternated runs: commit-to-ack p50 9-10 → 2 ms, p99 16-24 → 7-8 ms, the
    // snapshot's CPU per row unchanged, as the linger still batches while a chunk is produced).
    for (let attempt = 0; ; attempt++) {
      const wait = attempt < 50 ? 1 : 30_000;
      const err = await new Promise<LibrdKafkaError | undefined>((resolve) =>
        this.producer.flush(wait, (e) => resolve(e ?? undefined)),
      );
      if (err === undefined) break;
      // Still in flight (broker slow or away): keep waiting unless the client is broken.
      if ((err as { code?: number }).code !== -185 /* ERR__TIMED_OUT */) {
        this.failure ??= err;
        break;
      }
    }
    await new Promise((r) => setImmediate(r));
    const failed = this.failure ?? this.fatal;
    if (failed !== undefined) throw wrap(failed, 'producing change records failed');
  }

  async close(): Promise<void> {
    if (this.connected === undefined) return;
    await this.connected.catch(() => {});
    await new Promise<void>((resolve) => this.producer.disconnect(5000, () => resolve()));
  }
}

function headersOf(h: ChangeRecord['headers']): MessageHeader[] | undefined {
  if (h === undefined) return undefined;
  return Object.entries(h).map(([k, v]) => ({ [k]: v }));
}

export class KafkaOffsetStore implements OffsetStore {
  private readonly kafka: KafkaJS.Kafka;
  private readonly topic: string;
  private readonly producer: KafkaJS.Producer;
  private ready: Promise<Map<string, SourceOffset>> | undefined;

  constructor(readonly options: KafkaSinkOptions) {
    this.kafka = kafkaOf(options);
    this.topic = options.offsetsTopic ?? DEFAULT_OFFSETS_TOPIC;
    // linger 0: an offset is one record, saved when the connector needs it durable (waiting
    // librdkafka's default 5 ms linger would only add to every snapshot chunk and commit).
    this.producer = this.kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 0 } as never);
  }

  private init(): Promise<Map<string, SourceOffset>> {
    this.ready ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const topics = await admin.listTopics();
        if (!topics.includes(this.topic)) {
          await admin.createTopics({
            topics: [
              {
                topic: this.topic,
                numPartitions: 1,
                configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
              },
            ],
          });
        }
        const ends = await admin.fetchTopicOffsets(this.topic);
        const high = Number(ends[0]?.high ?? 0);
        const out = new Map<string, SourceOffset>();
        if (high > 0) await this.readTo(high, out);
        await this.producer.connect();
        return out;
      } finally {
        await admin.disconnect().catch(() => {});
      }
    })().catch((err) => {
      this.ready = undefined;
      throw wrap(err, `cannot read CDC offsets from ${this.topic}`);
    });
    return this.ready;
  }

  /** Reads partition 0 of the offsets topic from its start up to `high` into `out`. */
  private async readTo(high: number, out: Map<string, SourceOffset>): Promise<void> {
    const consumer = new KafkaConsumer(
      {
        'bootstrap.servers': this.options.bootstrap,
        'client.id': this.options.clientId ?? 'sluice-cdc',
        // Required by librdkafka; never joined (assign, no subscribe) and nothing committed.
        'group.id': `sluice-cdc-offsets-reader-${process.pid}`,
        'enable.auto.commit': false,
        log_level: 3,
        ...(this.options.config ?? {}),
      } as never,
      { 'auto.offset.reset': 'earliest' },
    );
    await new Promise<void>((resolve, reject) =>
      consumer.connect({}, (err) => (err ? reject(err) : resolve())),
    );
    try {
      consumer.assign([{ topic: this.topic, partition: 0, offset: 0 }]);
      const deadline = Date.now() + 30_000;
      let next = 0;
      while (next < high) {
        if (Date.now() > deadline)
          throw new SluiceError('TIMEOUT', `reading ${this.topic} timed out at offset ${next} of ${high}`);
        const batch = await new Promise<Message[]>((resolve, reject) =>
          consumer.consume(1000, (err, messages) => (err ? reject(err) : resolve(messages))),
        );
        for (const m of batch) {
          const k = m.key?.toString();
          if (k !== undefined) {
            if (m.value === null) out.delete(k);
            else out.set(k, JSON.parse(m.value.toString()) as SourceOffset);
          }
          next = Math.max(next, Number(m.offset) + 1);
        }
      }
    } finally {
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
  }

  async load(slot: string): Promise<SourceOffset | undefined> {
    return (await this.init()).get(slot);
  }

  async save(offset: SourceOffset): Promise<void> {
    const map = await this.init();
    try {
      await this.producer.send({
        topic: this.topic,
        messages: [{ key: offset.slot, value: JSON.stringify(offset) }],
      });
    } catch (err) {
      throw wrap(err, `cannot store the CDC offset in ${this.topic}`);
    }
    map.set(offset.slot, offset);
  }

  async clear(slot: string): Promise<void> {
    const map = await this.init();
    await this.producer.send({ topic: this.topic, messages: [{ key: slot, value: null }] });
    map.delete(slot);
  }

  async close(): Promise<void> {
    if (this.ready !== undefined) await this.producer.disconnect().catch(() => {});
  }
}
