/**
 * ChangeSink and OffsetStore on any Kafka cluster (the embedded broker or a real one),
 * through @confluentinc/kafka-javascript (librdkafka) in its KafkaJS-compatible API.
 *
 * Sink: one idempotent producer, acks=all; `send` resolves when every record of the batch
 * is acknowledged by the in-sync replicas. Idempotence keeps per-partition order across
 * librdkafka's internal retries, so per-key order holds. Topics are created on first use
 * when the cluster allows it (allow.auto.create.topics), else must exist.
 * Offsets: the compacted topic `_sluice_cdc_offsets` (1 partition), key = slot name,
 * value = the SourceOffset as JSON; `load` reads the topic to its end and keeps the last
 * value per key (a null value clears). As Kafka Connect's offsets topic.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
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
  private readonly producer: KafkaJS.Producer;
  private connected: Promise<void> | undefined;

  constructor(readonly options: KafkaSinkOptions) {
    this.producer = kafkaOf(options).producer({
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': 5,
      'compression.type': 'lz4',
    } as never);
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err) => {
      this.connected = undefined;
      throw wrap(err, `cannot connect to Kafka at ${this.options.bootstrap}`);
    });
    return this.connected;
  }

  async send(records: readonly ChangeRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    const byTopic = new Map<string, KafkaJS.Message[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (list === undefined) byTopic.set(r.topic, (list = []));
      list.push({ key: r.key, value: r.value, ...(r.headers === undefined ? {} : { headers: r.headers }) });
    }
    try {
      await this.producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      throw wrap(err, 'producing change records failed');
    }
  }

  async close(): Promise<void> {
    if (this.connected !== undefined) await this.producer.disconnect().catch(() => {});
  }
}

export class KafkaOffsetStore implements OffsetStore {
  private readonly kafka: KafkaJS.Kafka;
  private readonly topic: string;
  private readonly producer: KafkaJS.Producer;
  private ready: Promise<Map<string, SourceOffset>> | undefined;

  constructor(readonly options: KafkaSinkOptions) {
    this.kafka = kafkaOf(options);
    this.topic = options.offsetsTopic ?? DEFAULT_OFFSETS_TOPIC;
    this.producer = this.kafka.producer({ 'enable.idempotence': true, acks: -1 } as never);
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
        if (high > 0) {
          const consumer = this.kafka.consumer({
            'group.id': `sluice-cdc-offsets-reader-${process.pid}-${Date.now()}`,
            'enable.auto.commit': false,
            'auto.offset.reset': 'earliest',
          } as never);
          await consumer.connect();
          await consumer.subscribe({ topics: [this.topic] });
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new SluiceError('TIMEOUT', `reading ${this.topic} timed out`)),
              30_000,
            );
            consumer
              .run({
                eachMessage: async ({ message }) => {
                  const k = message.key?.toString();
                  if (k !== undefined) {
                    if (message.value === null) out.delete(k);
                    else out.set(k, JSON.parse(message.value.toString()) as SourceOffset);
                  }
                  if (Number(message.offset) >= high - 1) {
                    clearTimeout(timer);
                    resolve();
                  }
                },
              })
              .catch(reject);
          });
          await consumer.disconnect();
        }
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
