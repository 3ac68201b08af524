/**
 * Producer over the broker's handlers: always idempotent (InitProducerId, a sequence number
 * per partition, acks=all), transactional when given a transactional id (InitProducerId
 * fences older instances and aborts their open transaction; AddPartitionsToTxn before a
 * partition's first batch in a transaction; AddOffsetsToTxn + TxnOffsetCommit with the
 * consumer's generation, member id and instance id, KIP-447; EndTxn).
 *
 * Batching: records queue per partition; a batch leaves after lingerMs (or at once when a
 * batch's worth, 1 MiB, is queued, or on flush/commit), as one record batch (protocol/'s
 * encodeRecordBatch, compressed with the configured codec) holding every record queued for
 * that partition up to 1 MiB. At most one Produce per partition is in flight, so batches reach
 * the log in sequence order; a batch keeps its sequence across retries of retriable answers,
 * so the broker's idempotence check drops a duplicate (DUPLICATE_SEQUENCE_NUMBER counts as
 * success, as in Kafka's clients). A failed batch does not advance the sequence.
 *
 * Errors (types.ts): PRODUCER_FENCED (a newer instance has the transactional id, or the epoch
 * was bumped by a transaction timeout) is permanent: every later call fails with it.
 * A send failure inside a transaction makes commitTransaction fail with that error (the
 * caller aborts); misuse of the transaction calls is INVALID_TXN_STATE; after close(), CLOSED.
 * A send's promise rejects with its batch's error and is also marked handled, so callers that
 * do not await each send (a transaction's commit reports the failure) get no unhandled
 * rejection; flush() rejects with the first send failure since the previous flush.
 *
 * Crash: nothing is kept here; an open transaction of a crashed producer is aborted by the
 * next instance's InitProducerId or by the broker after transactionTimeoutMs.
 */
import { SluiceError } from '../../common/index.js';
import { CompressionType, ErrorCode, encodeRecordBatch, type RecordInput } from '../../protocol/index.js';
import type {
  GroupConsumer,
  OutgoingRecord,
  Producer,
  ProducerOptions,
  TopicPartitionOffset,
} from '../types.js';
import { groupByTopic } from './admin.js';
import { type InProcessConnection, kafkaFailure, withRetries } from './connection.js';
import { EmbeddedGroupConsumer } from './consumer.js';
import { tpKey } from './fetcher.js';

const MAX_BATCH_BYTES = 1_048_576;
const NO_HEADERS: readonly { key: string; value: Buffer | null }[] = [];
const REQUEST_TIMEOUT_MS = 30_000;
const TXN_CALL_TIMEOUT_MS = 60_000;

/** Answers that mean this producer instance is no longer the live one. */
const FENCING = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH]);

interface QueuedSend {
  readonly records: readonly OutgoingRecord[];
  /** Create time for records without one: when send() was called. */
  readonly timestamp: number;
  readonly bytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  queue: QueuedSend[];
  queuedBytes: number;
  inFlight: Promise<void> | null;
  linger: NodeJS.Timeout | null;
}

type State = 'new' | 'ready' | 'in-txn' | 'ending' | 'fenced' | 'closed';

/** About the record's encoded size (for the 1 MiB batch limit). */
function sizeOf(r: OutgoingRecord): number {
  let n = 16 + (r.key === null ? 0 : r.key.length) + (r.value === null ? 0 : r.value.length);
  const hs = r.headers;
  if (hs !== undefined)
    for (let i = 0; i < hs.length; i++) n += (hs[i]?.key.length ?? 0) + (hs[i]?.value?.length ?? 0) + 4;
  return n;
}

export class EmbeddedProducer implements Producer {
  private producerId = -1;
  private producerEpoch = -1;
  private readonly sequences = new Map<string, number>();
  private readonly queues = new Map<string, PartitionQueue>();
  private state: State = 'new';
  private fencedBy: SluiceError | null = null;
  /** Partitions and groups added to the open transaction (by key / group id). */
  private readonly txnPartitions = new Map<string, Promise<void>>();
  private readonly txnGroups = new Map<string, Promise<void>>();
  /** The first failure inside the open transaction: commit is impossible, abort is required. */
  private txnError: SluiceError | null = null;
  private firstSendError: SluiceError | null = null;
  private readonly transactionalId: string | null;
  private readonly compression: number;
  private readonly lingerMs: number;

  constructor(
    private readonly conn: InProcessConnection,
    private readonly options: ProducerOptions,
  ) {
    this.transactionalId = options.transactionalId ?? null;
    this.compression =
      CompressionType[
        ({ none: 'None', gzip: 'Gzip', snappy: 'Snappy', lz4: 'Lz4', zstd: 'Zstd' } as const)[
          options.compression ?? 'none'
        ]
      ];
    this.lingerMs = options.lingerMs ?? 5;
  }

  private failIfUnusable(): void {
    if (this.state === 'closed') throw new SluiceError('CLOSED', 'producer is closed');
    if (this.state === 'fenced') throw this.fencedBy as SluiceError;
    if (this.state === 'new') throw new SluiceError('NOT_READY', 'producer: call connect() first');
  }

  private fence(err: SluiceError): SluiceError {
    if (this.state !== 'closed') this.state = 'fenced';
    this.fencedBy ??= new SluiceError('PRODUCER_FENCED', err.message, {
      cause: err,
      kafkaErrorCode: err.kafkaErrorCode,
    });
    for (const q of this.queues.values()) {
      for (const s of q.queue) s.reject(this.fencedBy);
      q.queue = [];
      q.queuedBytes = 0;
    }
    return this.fencedBy;
  }

  /** A failed answer: fences on a fencing code, returns the error to throw. */
  private failure(code: number, what: string, message?: string | null): SluiceError {
    const err = kafkaFailure(code, what, message);
    return FENCING.has(code) ? this.fence(err) : err;
  }

  async connect(): Promise<void> {
    if (this.state === 'closed') throw new SluiceError('CLOSED', 'producer is closed');
    if (this.state !== 'new') return;
    const r = await withRetries('InitProducerId', TXN_CALL_TIMEOUT_MS, () =>
      this.conn.call(22, {
        transactionalId: this.transactionalId,
        transactionTimeoutMs: this.options.transactionTimeoutMs ?? 60_000,
        producerId: -1,
        producerEpoch: -1,
      }),
    );
    if (r.errorCode !== 0) throw this.failure(r.errorCode, `InitProducerId ${this.transactionalId ?? ''}`);
    this.producerId = r.producerId;
    this.producerEpoch = r.producerEpoch;
    this.sequences.clear();
    if (this.state === 'new') this.state = 'ready';
  }

  send(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<void> {
    try {
      this.failIfUnusable();
      if (this.transactionalId !== null && this.state !== 'in-txn')
        throw new SluiceError(
          'INVALID_TXN_STATE',
          'send() outside a transaction: call beginTransaction() first',
        );
      if (!Number.isInteger(partition) || partition < 0)
        throw new SluiceError('INVALID_ARGUMENT', `partition ${partition} of ${topic}`);
    } catch (err) {
      return Promise.reject(err);
    }
    if (records.length === 0) return Promise.resolve();
    const timestamp = Date.now();
    const k = tpKey({ topic, partition });
    let q = this.queues.get(k);
    if (q === undefined) {
      q = { topic, partition, queue: [], queuedBytes: 0, inFlight: null, linger: null };
      this.queues.set(k, q);
    }
    const pq = q;
    // One call may carry more than a batch may hold (a commit interval's output, say): it is
    // queued in pieces of at most MAX_BATCH_BYTES, so no batch exceeds the broker's
    // max.message.bytes (1 MiB by default) unless a single record does.
    const pieces: Promise<void>[] = [];
    const queue = (part: readonly OutgoingRecord[], bytes: number): void => {
      pieces.push(
        new Promise<void>((resolve, reject) => {
          pq.queue.push({ records: part, timestamp, bytes, resolve, reject });
        }),
      );
      pq.queuedBytes += bytes;
    };
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      const b = sizeOf(records[i] as OutgoingRecord);
      if (bytes > 0 && bytes + b > MAX_BATCH_BYTES) {
        queue(records.slice(start, i), bytes);
        start = i;
        bytes = 0;
      }
      bytes += b;
    }
    queue(start === 0 ? records : records.slice(start), bytes);
    if (pq.queuedBytes >= MAX_BATCH_BYTES || this.lingerMs <= 0) this.drain(pq);
    else if (pq.linger === null) {
      pq.linger = setTimeout(() => this.drain(pq), this.lingerMs);
    }
    const p = pieces.length === 1 ? (pieces[0] as Promise<void>) : Promise.all(pieces).then(() => undefined);
    for (const x of pieces) x.catch(() => undefined);
    p.catch(() => undefined);
    return p;
  }

  /** Sends the partition's queue unless a batch of it is in flight (then after it). */
  private drain(q: PartitionQueue): void {
    if (q.linger !== null) clearTimeout(q.linger);
    q.linger = null;
    if (q.inFlight !== null || q.queue.length === 0) return;
    const batch: QueuedSend[] = [];
    let bytes = 0;
    while (
      q.queue.length > 0 &&
      (batch.length === 0 || bytes + (q.queue[0] as QueuedSend).bytes <= MAX_BATCH_BYTES)
    ) {
      const s = q.queue.shift() as QueuedSend;
      bytes += s.bytes;
      batch.push(s);
    }
    q.queuedBytes -= bytes;
    q.inFlight = this.produce(q, batch)
      .then(
        () => {
          for (const s of batch) s.resolve();
        },
        (err) => {
          const e =
            err instanceof SluiceError ? err : new SluiceError('INTERNAL', String(err), { cause: err });
          this.firstSendError ??= e;
          if (this.state === 'in-txn' || this.state === 'ending') this.txnError ??= e;
          for (const s of batch) s.reject(e);
        },
      )
      .finally(() => {
        q.inFlight = null;
        if (q.queue.length > 0) this.drain(q);
      });
  }

  private async produce(q: PartitionQueue, batch: readonly QueuedSend[]): Promise<void> {
    const k = tpKey(q);
    if (this.transactionalId !== null) await this.addPartition(q.topic, q.partition);
    if (this.state === 'fenced') throw this.fencedBy;
    const records: RecordInput[] = [];
    for (const s of batch) {
      for (const r of s.records) {
        records.push({
          key: r.key,
          value: r.value,
          timestamp: r.timestamp ?? s.timestamp,
          headers: r.headers ?? NO_HEADERS,
        });
      }
    }
    const baseSequence = this.sequences.get(k) ?? 0;
    const bytes = encodeRecordBatch({
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence,
      isTransactional: this.transactionalId !== null,
      compression: this.compression,
      records,
    });
    const r = await withRetries(`Produce to ${q.topic}-${q.partition}`, REQUEST_TIMEOUT_MS, async () => {
      const res = await this.conn.call(0, {
        transactionalId: this.transactionalId,
        acks: -1,
        timeoutMs: REQUEST_TIMEOUT_MS,
        topicData: [{ name: q.topic, partitionData: [{ index: q.partition, records: bytes }] }],
      });
      const p = res.responses[0]?.partitionResponses[0];
      return p ?? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'no partition in the answer' };
    });
    if (r.errorCode !== 0 && r.errorCode !== ErrorCode.DUPLICATE_SEQUENCE_NUMBER)
      throw this.failure(r.errorCode, `Produce to ${q.topic}-${q.partition}`, r.errorMessage);
    // Sequences wrap at 2^31, as Kafka's do.
    this.sequences.set(k, (baseSequence + records.length) % 2 ** 31);
  }

  private addPartition(topic: string, partition: number): Promise<void> {
    const k = tpKey({ topic, partition });
    let added = this.txnPartitions.get(k);
    if (added === undefined) {
      added = withRetries(`AddPartitionsToTxn ${topic}-${partition}`, TXN_CALL_TIMEOUT_MS, async () => {
        const r = await this.conn.call(24, {
          v3AndBelowTransactionalId: this.transactionalId as string,
          v3AndBelowProducerId: this.producerId,
          v3AndBelowProducerEpoch: this.producerEpoch,
          v3AndBelowTopics: [{ name: topic, partitions: [partition] }],
        });
        return {
          errorCode: r.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode ?? r.errorCode,
        };
      }).then((r) => {
        if (r.errorCode !== 0) throw this.failure(r.errorCode, `AddPartitionsToTxn ${topic}-${partition}`);
      });
      this.txnPartitions.set(k, added);
    }
    return added;
  }

  beginTransaction(): void {
    this.failIfUnusable();
    if (this.transactionalId === null)
      throw new SluiceError(
        'INVALID_TXN_STATE',
        'beginTransaction() on a producer without a transactional id',
      );
    if (this.state !== 'ready')
      throw new SluiceError('INVALID_TXN_STATE', `beginTransaction() while a transaction is ${this.state}`);
    this.state = 'in-txn';
    this.txnPartitions.clear();
    this.txnGroups.clear();
    this.txnError = null;
  }

  private inTransaction(what: string): void {
    this.failIfUnusable();
    if (this.state !== 'in-txn')
      throw new SluiceError('INVALID_TXN_STATE', `${what} without an open transaction`);
  }

  async sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.inTransaction('sendOffsets()');
    if (!(consumer instanceof EmbeddedGroupConsumer))
      throw new SluiceError('INVALID_ARGUMENT', 'sendOffsets() needs a consumer of the embedded transport');
    if (offsets.length === 0) return;
    const g = consumer.groupMetadata();
    try {
      let added = this.txnGroups.get(g.groupId);
      if (added === undefined) {
        added = withRetries(`AddOffsetsToTxn ${g.groupId}`, TXN_CALL_TIMEOUT_MS, () =>
          this.conn.call(25, {
            transactionalId: this.transactionalId as string,
            producerId: this.producerId,
            producerEpoch: this.producerEpoch,
            groupId: g.groupId,
          }),
        ).then((r) => {
          if (r.errorCode !== 0) throw this.failure(r.errorCode, `AddOffsetsToTxn ${g.groupId}`);
        });
        this.txnGroups.set(g.groupId, added);
      }
      await added;
      const byTopic = groupByTopic(offsets);
      const offsetOf = new Map(offsets.map((o) => [tpKey(o), o.offset]));
      const r = await withRetries(`TxnOffsetCommit ${g.groupId}`, TXN_CALL_TIMEOUT_MS, async () => {
        const res = await this.conn.call(28, {
          transactionalId: this.transactionalId as string,
          groupId: g.groupId,
          producerId: this.producerId,
          producerEpoch: this.producerEpoch,
          generationId: g.generationId,
          memberId: g.memberId,
          groupInstanceId: g.groupInstanceId,
          topics: [...byTopic].map(([name, partitions]) => ({
            name,
            partitions: partitions.map((partitionIndex) => ({
              partitionIndex,
              committedOffset: offsetOf.get(tpKey({ topic: name, partition: partitionIndex })) as number,
              committedLeaderEpoch: -1,
              committedMetadata: '',
            })),
          })),
        });
        const failed = res.topics.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0);
        return { errorCode: failed?.errorCode ?? 0 };
      });
      if (r.errorCode !== 0) throw this.failure(r.errorCode, `TxnOffsetCommit ${g.groupId}`);
    } catch (err) {
      if (this.state === 'in-txn' && err instanceof SluiceError) this.txnError ??= err;
      throw err;
    }
  }

  /** Sends everything queued and waits until nothing is in flight. */
  private async drainAll(): Promise<void> {
    for (;;) {
      const inFlight: Promise<void>[] = [];
      for (const q of this.queues.values()) {
        if (q.queue.length > 0) this.drain(q);
        if (q.inFlight !== null) inFlight.push(q.inFlight);
      }
      if (inFlight.length === 0) return;
      await Promise.allSettled(inFlight);
    }
  }

  private async endTxn(commit: boolean): Promise<void> {
    if (this.txnPartitions.size === 0 && this.txnGroups.size === 0) return; // nothing to end
    // Adds still in flight decide whether the coordinator knows the transaction.
    await Promise.allSettled([...this.txnPartitions.values(), ...this.txnGroups.values()]);
    if (this.state === 'fenced') throw this.fencedBy;
    const r = await withRetries(`EndTxn ${this.transactionalId}`, TXN_CALL_TIMEOUT_MS, () =>
      this.conn.call(26, {
        transactionalId: this.transactionalId as string,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        committed: commit,
      }),
    );
    if (r.errorCode !== 0)
      throw this.failure(r.errorCode, `EndTxn(${commit ? 'commit' : 'abort'}) ${this.transactionalId}`);
  }

  async commitTransaction(): Promise<void> {
    this.inTransaction('commitTransaction()');
    this.state = 'ending';
    try {
      await this.drainAll();
      if (this.fencedBy !== null) throw this.fencedBy;
      if (this.txnError !== null) throw this.txnError;
      await this.endTxn(true);
      this.state = 'ready';
      this.firstSendError = null;
    } catch (err) {
      // Still open (the caller must abort) unless fenced or closed meanwhile.
      if (this.state === 'ending') this.state = 'in-txn';
      throw err;
    }
  }

  async abortTransaction(): Promise<void> {
    this.inTransaction('abortTransaction()');
    this.state = 'ending';
    try {
      await this.drainAll();
      if (this.fencedBy !== null) throw this.fencedBy;
      await this.endTxn(false);
      this.state = 'ready';
      this.txnError = null;
      this.firstSendError = null;
    } catch (err) {
      if (this.state === 'ending') this.state = 'in-txn';
      throw err;
    }
  }

  async flush(): Promise<void> {
    if (this.state === 'closed') throw new SluiceError('CLOSED', 'producer is closed');
    await this.drainAll();
    const err = this.firstSendError;
    this.firstSendError = null;
    if (err !== null) throw err;
    if (this.state === 'fenced') throw this.fencedBy;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    try {
      await this.drainAll();
    } finally {
      this.state = 'closed';
      for (const q of this.queues.values()) if (q.linger !== null) clearTimeout(q.linger);
      this.conn.close();
    }
  }
}
