/**
 * Producer on librdkafka: always idempotent (enable.idempotence, acks=all, so per-partition
 * order holds across librdkafka's retries), transactional when given a transactional id
 * (initTransactions in connect() fences older instances with the same id and aborts their
 * open transaction; sendOffsets adds a GroupConsumer's offsets with its group metadata,
 * KIP-447, so a zombie whose group generation moved on cannot commit).
 *
 * send(topic, partition, records) queues each record with librdkafka's produce() (explicit
 * partition; `partitioner: murmur2_random` is set anyway so a keyed record without a
 * partition would land where Kafka's Java client puts it) and resolves once every record's
 * delivery report arrived (acks=all), rejecting with the first failure. Delivery reports are
 * served on librdkafka's background thread (setPollInBackground), not on a JS timer, so an
 * acknowledgement is seen as soon as it arrives. A full local queue (ERR__QUEUE_FULL) waits
 * for the next delivery report and retries, keeping order.
 *
 * Inside a transaction records are queued in call order after beginTransaction's native call
 * completes (it runs on a worker thread); commitTransaction flushes and commits, so callers
 * need not await each send. Errors: fenced (ERR__FENCED, PRODUCER_FENCED,
 * INVALID_PRODUCER_EPOCH, or the group generation moved on under sendOffsets) →
 * PRODUCER_FENCED; a transactional call out of order (ERR__STATE) → INVALID_TXN_STATE;
 * timeouts → TIMEOUT; transport → NETWORK (config.ts maps them). A commit that fails with an
 * abortable error leaves the transaction open: the caller aborts it.
 *
 * Concurrency: JS thread only; sends may overlap (they queue in call order). close() flushes
 * what was sent (bounded by the request timeout) and disconnects; an open transaction is left
 * to the broker (aborted by the transaction timeout or by the next instance's connect()).
 */

import type {
  DeliveryReport,
  LibrdKafkaError,
  MessageHeader,
  Producer as RdProducer,
} from '@confluentinc/kafka-javascript';
import ck from '@confluentinc/kafka-javascript';
import { SluiceError } from '../../common/index.js';
import type {
  GroupConsumer,
  OutgoingRecord,
  Producer,
  ProducerOptions,
  TopicPartitionOffset,
} from '../types.js';
import {
  call,
  clientConfig,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KafkaConnectionOptions,
  kafkaError,
  RD,
  rdCode,
} from './config.js';
import { KafkaGroupConsumer } from './group-consumer.js';

const { RdKafka } = ck;

/**
 * A zero-length Buffer whose data pointer is not NULL. The binding hands librdkafka
 * `Buffer::Data()`, which is NULL for `Buffer.alloc(0)`, and librdkafka writes a NULL pointer
 * as a null key/value: an empty key or value would come back as null.
 */
const EMPTY = Buffer.alloc(1).subarray(0, 0);
const bytes = (b: Buffer | null): Buffer | null => (b !== null && b.length === 0 ? EMPTY : b);

/** One send() call: resolves when all its records are acknowledged. */
interface Delivery {
  remaining: number;
  failure: SluiceError | undefined;
  resolve: () => void;
  reject: (e: SluiceError) => void;
}

export class KafkaProducer implements Producer {
  private readonly producer: RdProducer;
  private readonly transactional: boolean;
  private readonly timeoutMs: number;
  private state: 'new' | 'connecting' | 'ready' | 'closed' = 'new';
  private connecting: Promise<void> | undefined;
  /** Pending beginTransaction (native, on a worker): sends in the transaction queue behind it. */
  private ordered: Promise<void> = Promise.resolve();
  private queueing = 0;
  private inTransaction = false;
  private readonly outstanding = new Set<Promise<void>>();
  private drWaiters: Array<() => void> = [];

  constructor(conn: KafkaConnectionOptions, options: ProducerOptions = {}) {
    this.transactional = options.transactionalId !== undefined;
    this.timeoutMs = conn.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const own: Record<string, string | number | boolean> = {
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': options.lingerMs ?? 5,
      'compression.codec': options.compression ?? 'none',
      partitioner: 'murmur2_random',
      dr_cb: true,
    };
    if (options.transactionalId !== undefined) {
      own['transactional.id'] = options.transactionalId;
      own['transaction.timeout.ms'] = options.transactionTimeoutMs ?? 60_000;
    }
    this.producer = new RdKafka.Producer(
      clientConfig(conn, options.clientId ?? `${conn.clientId ?? 'sluice'}-producer`, own) as never,
      {},
    );
    this.producer.on('delivery-report', (err: LibrdKafkaError, report: DeliveryReport) =>
      this.onDelivery(err, report),
    );
  }

  private onDelivery(err: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    const d = report.opaque as Delivery | undefined;
    if (d !== undefined) {
      if (err) d.failure ??= kafkaError(err, `produce to ${report.topic}[${report.partition}]`, 'producer');
      if (--d.remaining === 0) {
        if (d.failure === undefined) d.resolve();
        else d.reject(d.failure);
      }
    }
    if (this.drWaiters.length > 0) for (const w of this.drWaiters.splice(0)) w();
  }

  async connect(): Promise<void> {
    if (this.state === 'closed') throw new SluiceError('CLOSED', 'connect: the producer is closed');
    this.connecting ??= (async () => {
      this.state = 'connecting';
      await call('connect producer', 'producer', (cb) =>
        this.producer.connect({ timeout: this.timeoutMs }, cb as never),
      );
      this.producer.setPollInBackground(true);
      if (this.transactional)
        await call('init transactions', 'producer', (cb) =>
          this.producer.initTransactions(this.timeoutMs, cb),
        );
      this.state = 'ready';
    })().catch((err) => {
      this.connecting = undefined;
      this.state = 'new';
      throw err;
    });
    return this.connecting;
  }

  private checkReady(what: string): void {
    if (this.state === 'closed') throw new SluiceError('CLOSED', `${what}: the producer is closed`);
    if (this.state !== 'ready')
      throw new SluiceError('INVALID_ARGUMENT', `${what}: connect() the producer first`);
  }

  send(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<void> {
    try {
      this.checkReady('send');
      if (this.transactional && !this.inTransaction)
        throw new SluiceError(
          'INVALID_TXN_STATE',
          'send: a transactional producer sends inside beginTransaction()',
        );
    } catch (err) {
      return Promise.reject(err);
    }
    if (records.length === 0) return Promise.resolve();
    let d!: Delivery;
    const acked = new Promise<void>((resolve, reject) => {
      d = { remaining: records.length, failure: undefined, resolve, reject };
    });
    const track = acked.catch(() => undefined);
    this.outstanding.add(track);
    void track.then(() => this.outstanding.delete(track));
    let start = 0;
    if (this.queueing === 0) {
      start = this.produceAll(topic, partition, records, d, 0);
      if (start === records.length) return acked;
    }
    // Behind a pending beginTransaction or a full queue: keep call order.
    this.queueing++;
    const queued = this.ordered.then(async () => {
      let i = start;
      while (i < records.length) {
        i = this.produceAll(topic, partition, records, d, i);
        if (i < records.length) await new Promise<void>((r) => this.drWaiters.push(r));
      }
    });
    this.ordered = queued
      .catch((err: unknown) => {
        d.failure ??= kafkaError(err, `produce to ${topic}[${partition}]`, 'producer');
        d.remaining = 0;
        d.reject(d.failure);
      })
      .finally(() => {
        this.queueing--;
      });
    return acked;
  }

  /**
   * Produces records[from…] until done or the local queue is full; returns the index reached.
   * Any other produce() error fails the whole send (records already queued still report).
   */
  private produceAll(
    topic: string,
    partition: number,
    records: readonly OutgoingRecord[],
    d: Delivery,
    from: number,
  ): number {
    for (let i = from; i < records.length; i++) {
      const r = records[i] as OutgoingRecord;
      const headers: MessageHeader[] | undefined =
        r.headers === undefined || r.headers.length === 0
          ? undefined
          : // A NULL data pointer is a null header value on the wire: Buffer.alloc(0) has one.
            r.headers.map((h) => ({
              [h.key]: h.value === null ? Buffer.alloc(0) : (bytes(h.value) as Buffer),
            }));
      try {
        this.producer.produce(
          topic,
          partition,
          bytes(r.value),
          bytes(r.key),
          r.timestamp ?? Date.now(),
          d,
          headers,
        );
      } catch (err) {
        if (rdCode(err) === RD.ERR__QUEUE_FULL) return i;
        const failure = kafkaError(err, `produce to ${topic}[${partition}]`, 'producer');
        d.failure ??= failure;
        // Records i… never enter librdkafka: no report will come for them.
        d.remaining -= records.length - i;
        if (d.remaining === 0) d.reject(d.failure);
        return records.length;
      }
    }
    return records.length;
  }

  beginTransaction(): void {
    this.checkReady('beginTransaction');
    if (!this.transactional)
      throw new SluiceError('INVALID_TXN_STATE', 'beginTransaction: the producer has no transactional id');
    if (this.inTransaction)
      throw new SluiceError('INVALID_TXN_STATE', 'beginTransaction: a transaction is already open');
    this.inTransaction = true;
    this.queueing++;
    const begun = this.ordered.then(() =>
      call('begin transaction', 'producer', (cb) => this.producer.beginTransaction(cb)),
    );
    this.ordered = begun
      .catch(() => undefined)
      .finally(() => {
        this.queueing--;
      });
    this.begun = begun;
    begun.catch(() => undefined);
  }

  private begun: Promise<void> | undefined;

  /** Waits for beginTransaction's native call, failing as it did. */
  private async transactionOpen(what: string): Promise<void> {
    this.checkReady(what);
    if (!this.transactional)
      throw new SluiceError('INVALID_TXN_STATE', `${what}: the producer has no transactional id`);
    if (!this.inTransaction) throw new SluiceError('INVALID_TXN_STATE', `${what}: no transaction is open`);
    await this.begun;
  }

  async sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    await this.transactionOpen('sendOffsets');
    if (!(consumer instanceof KafkaGroupConsumer))
      throw new SluiceError(
        'INVALID_ARGUMENT',
        'sendOffsets: the consumer must come from the same Kafka transport',
      );
    if (offsets.length === 0) return;
    await this.ordered;
    const tpos = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    await call('send offsets to transaction', 'producer', (cb) =>
      this.producer.sendOffsetsToTransaction(tpos, consumer.consumer, this.timeoutMs, cb),
    );
  }

  async commitTransaction(): Promise<void> {
    await this.transactionOpen('commitTransaction');
    await this.ordered;
    await call('commit transaction', 'producer', (cb) => this.producer.commitTransaction(this.timeoutMs, cb));
    this.inTransaction = false;
    this.begun = undefined;
  }

  async abortTransaction(): Promise<void> {
    this.checkReady('abortTransaction');
    if (!this.transactional)
      throw new SluiceError('INVALID_TXN_STATE', 'abortTransaction: the producer has no transactional id');
    if (!this.inTransaction)
      throw new SluiceError('INVALID_TXN_STATE', 'abortTransaction: no transaction is open');
    await this.begun?.catch(() => undefined);
    await this.ordered;
    // librdkafka's abort purges records still in its queue (ERR__PURGE_QUEUE); flushing first
    // puts them in the log as aborted records, as Kafka's Java client mostly does, so what a
    // read_uncommitted reader sees does not depend on linger timing. A failed flush (fenced)
    // still goes on to the abort, which reports the real state.
    await call('flush before abort', 'producer', (cb) => this.producer.flush(this.timeoutMs, cb)).catch(
      () => undefined,
    );
    await call('abort transaction', 'producer', (cb) => this.producer.abortTransaction(this.timeoutMs, cb));
    this.inTransaction = false;
    this.begun = undefined;
  }

  async flush(): Promise<void> {
    this.checkReady('flush');
    await this.ordered;
    await call('flush', 'producer', (cb) => this.producer.flush(this.timeoutMs, cb));
    await Promise.all(this.outstanding);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasConnected = this.connecting !== undefined;
    await this.connecting?.catch(() => undefined);
    this.state = 'closed';
    if (!wasConnected || !this.producer.isConnected()) return;
    await this.ordered;
    await new Promise<void>((resolve) => {
      (this.producer as RdProducer & { disconnect(timeout: number, cb: () => void): void }).disconnect(
        this.timeoutMs,
        () => resolve(),
      );
    });
  }
}
