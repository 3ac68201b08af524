/**
 * The stream chaos tests' and bench/stream-kafka.ts's Kafka side, with a real client
 * (@confluentinc/kafka-javascript, librdkafka) that is not the one under test: the input
 * producer, the read_committed output reader, and the group/offset probes that tell when an
 * application has caught up.
 *
 * - `produceRecords`: an idempotent producer (acks=all, retries until delivered), explicit
 *   partitions, optionally paced to a rate; resolves when every record is acknowledged and
 *   throws if any delivery failed. Records are pulled from the iterable when they are sent,
 *   so a value built by the iterable can carry its own send time.
 * - `OutputReader`: assigns every partition of a topic from offset 0 with isolation
 *   read_committed and hands batches to a callback with their receive time. `readToEnd`
 *   returns once every partition reported EOF (its position reached the last stable offset):
 *   call it when the producers are done, and it returns exactly the committed output.
 * - `ClusterProbe`: an admin client for topic creation, end offsets (read_committed = LSO) and
 *   a group's committed offsets. kafkajs (pure JS), not librdkafka: the probe stays connected
 *   while an embedded deployment is SIGKILLed under it, and librdkafka's admin client has been
 *   seen to abort the whole process then (rd_kafka_enq_once_del_source_return assertion).
 *   Its calls throw while the cluster is down; callers that poll through chaos catch and retry.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import ck from '@confluentinc/kafka-javascript';

const { RdKafka } = ck;
const require = createRequire(import.meta.url);
const { Kafka: KafkaJs, logLevel: kafkaJsLogLevel } = require('kafkajs') as typeof import('kafkajs');
type KafkaJsAdmin = ReturnType<InstanceType<typeof KafkaJs>['admin']>;

export interface ProducedRecord {
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer;
  readonly timestamp: number;
}

export interface ProduceOptions {
  /** Records per second (default: as fast as the client goes). */
  readonly ratePerSec?: number;
  /** Default 5 ms. */
  readonly lingerMs?: number;
  /**
   * After `sent` records, wait for `until` before producing the rest (the pacing resumes from
   * there): a chaos run holds back the input's tail until its kills are done, so the group
   * cannot finish the input before the last kill however slowly the kills come.
   */
  readonly pauseAt?: { readonly sent: number; readonly until: Promise<unknown> };
}

async function connect(client: { connect(opts: object, cb: (err: unknown) => void): unknown }) {
  await new Promise<void>((resolve, reject) =>
    client.connect({}, (err: unknown) => (err ? reject(err) : resolve())),
  );
}

/** Produces every record (idempotent, acks=all); resolves with the count once all are acknowledged. */
export async function produceRecords(
  bootstrap: string,
  topic: string,
  records: Iterable<ProducedRecord>,
  options: ProduceOptions = {},
): Promise<number> {
  const p = new RdKafka.Producer({
    'bootstrap.servers': bootstrap,
    'enable.idempotence': true,
    acks: -1,
    'linger.ms': options.lingerMs ?? 5,
    'batch.num.messages': 10_000,
    'queue.buffering.max.messages': 200_000,
    'message.timeout.ms': 300_000,
    dr_cb: true,
    log_level: 0,
  });
  let delivered = 0;
  let failed: unknown = null;
  p.on('delivery-report', (err) => {
    if (err) failed ??= err;
    else delivered++;
  });
  await connect(p);
  p.setPollInterval(10);
  let sent = 0;
  let t0 = performance.now();
  const rate = options.ratePerSec ?? Number.POSITIVE_INFINITY;
  const pauseAt = options.pauseAt;
  let paused = false;
  const it = records[Symbol.iterator]();
  let next = it.next();
  try {
    while (!next.done) {
      if (pauseAt !== undefined && !paused && sent >= pauseAt.sent) {
        paused = true;
        const p0 = performance.now();
        await pauseAt.until;
        t0 += performance.now() - p0;
      }
      let due = Number.isFinite(rate) ? Math.floor(((performance.now() - t0) / 1000) * rate) : sent + 10_000;
      if (pauseAt !== undefined && !paused) due = Math.min(due, pauseAt.sent);
      while (sent < due && !next.done) {
        const r = next.value;
        try {
          p.produce(topic, r.partition, r.value, r.key, r.timestamp);
        } catch {
          break; // local queue full: let librdkafka deliver, then go on with this record
        }
        sent++;
        next = it.next();
      }
      if (failed !== null) throw failed;
      await sleep(sent < due ? 5 : 1);
    }
    await new Promise<void>((resolve, reject) => p.flush(300_000, (err) => (err ? reject(err) : resolve())));
    while (delivered < sent && failed === null) await sleep(10);
    if (failed !== null) throw failed;
    return sent;
  } finally {
    await new Promise<void>((resolve) => p.disconnect(() => resolve()));
  }
}

export interface ReceivedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer;
  /** performance.timeOrigin + performance.now() when the batch was handed over (ms, fractional). */
  readonly receivedAt: number;
}

export class OutputReader {
  private readonly consumer: InstanceType<typeof RdKafka.KafkaConsumer>;
  private readonly eof = new Set<number>();
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    bootstrap: string,
    private readonly topic: string,
    private readonly partitions: number,
  ) {
    this.consumer = new RdKafka.KafkaConsumer(
      {
        'bootstrap.servers': bootstrap,
        'group.id': `sluice-output-reader-${process.pid}-${Date.now()}`,
        'enable.auto.commit': false,
        'isolation.level': 'read_committed',
        'enable.partition.eof': true,
        'fetch.wait.max.ms': 20,
        log_level: 0,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('partition.eof', (e) => {
      this.eof.add(e.partition);
    });
  }

  /** Starts reading from offset 0 of every partition; `each` gets every batch as it arrives. */
  async start(each: (records: ReceivedRecord[]) => void): Promise<void> {
    await connect(this.consumer);
    this.consumer.assign(
      Array.from({ length: this.partitions }, (_, partition) => ({
        topic: this.topic,
        partition,
        offset: 0,
      })),
    );
    this.consumer.setDefaultConsumeTimeout(20);
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const msgs = await new Promise<ck.RdKafka.Message[]>((resolve, reject) =>
          this.consumer.consume(10_000, (err, m) => (err ? reject(err) : resolve(m))),
        );
        if (msgs.length === 0) continue;
        const receivedAt = performance.timeOrigin + performance.now();
        each(
          msgs.map((m) => ({
            partition: m.partition,
            offset: m.offset,
            key: (m.key as Buffer | null | undefined) ?? null,
            value: m.value as Buffer,
            receivedAt,
          })),
        );
      }
    })();
  }

  /** Every partition has reported EOF since start (or since the last resetEof). */
  atEnd(): boolean {
    return this.eof.size >= this.partitions;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }

  /** Reads a topic whose producers are done: everything committed, in offset order per partition. */
  static async readToEnd(
    bootstrap: string,
    topic: string,
    partitions: number,
    timeoutMs = 120_000,
  ): Promise<ReceivedRecord[]> {
    const out: ReceivedRecord[] = [];
    const reader = new OutputReader(bootstrap, topic, partitions);
    await reader.start((rs) => {
      for (const r of rs) out.push(r);
    });
    try {
      const deadline = Date.now() + timeoutMs;
      while (!reader.atEnd()) {
        if (Date.now() > deadline)
          throw new Error(`reading ${topic}: no EOF on every partition within ${timeoutMs} ms`);
        await sleep(20);
      }
    } finally {
      await reader.stop();
    }
    return out;
  }
}

export class ClusterProbe {
  private admin: KafkaJsAdmin | null = null;

  constructor(private readonly bootstrap: string) {}

  private async client(): Promise<KafkaJsAdmin> {
    if (this.admin !== null) return this.admin;
    const admin = new KafkaJs({
      clientId: `sluice-chaos-probe-${process.pid}`,
      brokers: [this.bootstrap],
      logLevel: kafkaJsLogLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 10_000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
    }).admin();
    await admin.connect();
    this.admin = admin;
    return admin;
  }

  /** After an error (the cluster restarted), the next call connects afresh. */
  private async call<T>(fn: (a: KafkaJsAdmin) => Promise<T>): Promise<T> {
    const a = await this.client();
    try {
      return await fn(a);
    } catch (err) {
      this.admin = null;
      await a.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Time retention off: the workload's records carry event times of 2020 (window-workload.ts
   * T0), so with the default retention.ms (7 days) a segment is deleted as soon as it is rolled
   * — and the first transaction marker (wall-clock timestamp) after such records rolls it, as in
   * Kafka. The output's first-fired windows then vanish at the next retention pass.
   */
  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.call((a) =>
      a.createTopics({
        topics: [
          { topic, numPartitions: partitions, configEntries: [{ name: 'retention.ms', value: '-1' }] },
        ],
        waitForLeaders: true,
      }),
    );
  }

  async listTopics(): Promise<string[]> {
    return this.call((a) => a.listTopics());
  }

  /** End offset per partition: ListOffsets with read_committed, i.e. the last stable offset. */
  async endOffsets(topic: string): Promise<Map<number, number>> {
    const rows = await this.call((a) => a.fetchTopicOffsets(topic));
    return new Map(rows.map((r) => [r.partition, Number(r.offset)]));
  }

  /** Log start offset per partition (moved by retention and DeleteRecords). */
  async startOffsets(topic: string): Promise<Map<number, number>> {
    const rows = await this.call((a) => a.fetchTopicOffsets(topic));
    return new Map(rows.map((r) => [r.partition, Number(r.low)]));
  }

  /** A group's committed offsets per topic and partition (absent: none committed). */
  async committed(groupId: string, topics: string[]): Promise<Map<string, Map<number, number>>> {
    const rows = await this.call((a) => a.fetchOffsets({ groupId, topics }));
    const out = new Map<string, Map<number, number>>();
    for (const t of rows) {
      const m = new Map<number, number>();
      for (const p of t.partitions) if (Number(p.offset) >= 0) m.set(p.partition, Number(p.offset));
      out.set(t.topic, m);
    }
    return out;
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    await a?.disconnect().catch(() => undefined);
  }
}
