/**
 * The producer core shared by `sluice produce` and `sluice datagen nexmark`: a librdkafka
 * producer (@confluentinc/kafka-javascript) bounded by --timeout, with back-pressure and
 * delivery accounting, so both commands mean the same thing by "produced".
 *
 * - `openProducer` first checks the cluster answers within --timeout (withAdmin), then
 *   connects; librdkafka would otherwise retry an unreachable broker forever.
 * - `send` hands one record to librdkafka's queue. It returns undefined when the record was
 *   queued, or a promise when the queue was full: the caller awaits it (delivery reports drain
 *   the queue) and the record is queued once it resolves — so the hot path never awaits.
 * - `finish` flushes, waits for every delivery report, and throws the first delivery failure
 *   or TIMEOUT naming how many records were not acknowledged. Exit 0 of a command therefore
 *   means the cluster acknowledged every record at the requested acks.
 * - `close` disconnects (always call it, in a finally).
 *
 * A record not delivered within max(3 × --timeout, 30 s) fails (librdkafka's
 * message.timeout.ms) instead of hanging. Concurrency: one producer per command, used from
 * the event loop only; delivery reports arrive through the 20 ms poll interval.
 */
import ck from '@confluentinc/kafka-javascript';
import { SluiceError } from '../common/index.js';
import { type ClientOptions, rdkafkaConfig, translateError, withAdmin } from './kafka-client.js';

const { RdKafka } = ck;

/** librdkafka's "local queue full" and "unknown partition" error codes. */
const ERR_QUEUE_FULL = -184;
const ERR_UNKNOWN_PARTITION = -190;

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSION_CHOICES: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface ProducerSettings {
  readonly topic: string;
  readonly acks: '0' | '1' | 'all';
  readonly compression: Compression;
  /**
   * librdkafka's partitioner for keyed records without an explicit partition. Default
   * 'murmur2_random': keys land where the Java client, Kafka Streams and Sluice's stream
   * runtime (transport's partitionFor) put them, so co-partitioning with them holds;
   * 'consistent_random' is librdkafka's own CRC32 placement.
   */
  readonly partitioner?: 'consistent_random' | 'murmur2_random';
  /** Extra librdkafka properties (tuning). */
  readonly extra?: Readonly<Record<string, string | number | boolean>>;
}

export type RecordHeaders = { [k: string]: Buffer }[];

export class CliProducer {
  /** Records handed to librdkafka. */
  sent = 0;
  /** Key + value bytes handed to librdkafka. */
  bytes = 0;
  /** Records the cluster acknowledged. */
  delivered = 0;
  private failure: SluiceError | undefined;
  readonly deliveryTimeoutMs: number;

  private constructor(
    private readonly producer: InstanceType<typeof RdKafka.Producer>,
    readonly opts: ClientOptions,
    readonly settings: ProducerSettings,
    deliveryTimeoutMs: number,
  ) {
    this.deliveryTimeoutMs = deliveryTimeoutMs;
    producer.on('delivery-report', (e) => {
      if (e) this.failure ??= translateError(e, opts, `produce to '${settings.topic}'`, settings.topic);
      else this.delivered++;
    });
  }

  /** The first delivery failure, if any (the command stops sending when it appears). */
  get failed(): SluiceError | undefined {
    return this.failure;
  }

  /** Checks the cluster answers within --timeout, then connects a producer. */
  static async open(opts: ClientOptions, settings: ProducerSettings): Promise<CliProducer> {
    await withAdmin(opts, async () => undefined);
    const deliveryTimeout = Math.max(3 * opts.timeout, 30_000);
    const producer = new RdKafka.Producer({
      ...rdkafkaConfig(opts),
      dr_cb: true,
      acks: settings.acks === 'all' ? -1 : Number(settings.acks),
      'compression.codec': settings.compression,
      'linger.ms': 5,
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 100_000,
      'message.timeout.ms': deliveryTimeout,
      // A topic the cluster neither has nor auto-creates fails within --timeout, not 30 s.
      'topic.metadata.propagation.max.ms': opts.timeout,
      partitioner: settings.partitioner ?? 'murmur2_random',
      ...settings.extra,
    } as never);
    await new Promise<void>((resolve, reject) => {
      producer.once('ready', () => resolve());
      producer.connect({ timeout: opts.timeout } as never, (e) => {
        if (e) reject(translateError(e, opts, 'connect producer', settings.topic));
      });
    });
    producer.setPollInterval(20);
    return new CliProducer(producer, opts, settings, deliveryTimeout);
  }

  /**
   * Queues one record; undefined when queued, a promise (resolving once queued) when
   * librdkafka's queue was full. Throws NOT_FOUND for a partition the topic does not have.
   */
  send(
    partition: number | null,
    value: Buffer,
    key: Buffer | null,
    timestamp: number,
    headers?: RecordHeaders,
  ): Promise<void> | undefined {
    if (this.tryProduce(partition, value, key, timestamp, headers)) return undefined;
    return (async () => {
      do await new Promise((r) => setTimeout(r, 5));
      while (!this.tryProduce(partition, value, key, timestamp, headers));
    })();
  }

  private tryProduce(
    partition: number | null,
    value: Buffer,
    key: Buffer | null,
    timestamp: number,
    headers: RecordHeaders | undefined,
  ): boolean {
    const topic = this.settings.topic;
    try {
      this.producer.produce(topic, partition, value, key, timestamp, undefined, headers);
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === ERR_QUEUE_FULL) return false;
      if (code === ERR_UNKNOWN_PARTITION)
        throw new SluiceError('NOT_FOUND', `topic '${topic}' has no partition ${partition}`);
      throw translateError(e, this.opts, `produce to '${topic}'`, topic);
    }
    this.sent++;
    this.bytes += value.length + (key?.length ?? 0);
    return true;
  }

  /** Flushes and waits for every delivery report; throws the first failure or TIMEOUT. */
  async finish(): Promise<void> {
    const topic = this.settings.topic;
    await new Promise<void>((resolve, reject) => {
      this.producer.flush(this.deliveryTimeoutMs, (e) =>
        e ? reject(translateError(e, this.opts, 'flush', topic)) : resolve(),
      );
    });
    // Delivery reports arrive on the poll interval after flush returns.
    const deadline = Date.now() + this.opts.timeout;
    while (this.delivered < this.sent && !this.failure && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    if (this.failure) throw this.failure;
    if (this.delivered < this.sent)
      throw new SluiceError(
        'TIMEOUT',
        `${this.sent - this.delivered} of ${this.sent} records were not acknowledged in time`,
      );
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
  }
}
