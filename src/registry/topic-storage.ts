/**
 * TopicStorage: the registry's log in the compacted, single-partition `_schemas` topic of
 * whatever cluster the transport reaches (the embedded broker or a real Kafka), as
 * Confluent's KafkaStore keeps it. Record bytes are records.ts's (Confluent's layout, so
 * compaction by key bytes matches Confluent's); a null value is a tombstone.
 *
 * open(): ensure `_schemas` exists (1 partition, cleanup.policy=compact; an existing topic
 * is taken as it is, a different partition count is INVALID_CONFIG), connect the writer
 * (below), then read partition 0 read_committed from the log start to the last stable
 * offset with a PartitionReader.
 *
 * Writer: a transactional producer (idempotent, acks=all) whose transactional id is the
 * same for every registry on the topic (`sluice-registry-<topic>` by default). Each
 * append() is one transaction: begin, send to partition 0, commit; the records become
 * visible together or not at all, so a batch is atomic even across a kill -9 (an open
 * transaction is aborted by the next writer's connect, or by the coordinator's timeout).
 * Connecting bumps the producer epoch, which aborts an earlier writer's open transaction
 * and fences it: its next commit fails with PRODUCER_FENCED.
 *
 * Two registries on one topic (Confluent elects a leader; here the last to write takes the
 * lock, optimistically): before every write the registry calls catchUp(), which connects a
 * writer if this storage has none (fencing the other registry) and then reads to the end,
 * returning every committed record this registry has not applied. Because connect happens
 * before the read, everything another writer committed is read before ids and versions are
 * planned; a commit of the other writer after our connect is impossible (it is fenced). So
 * when our commit succeeds, no record of another writer precedes ours unread, and ids and
 * versions are never handed out twice. Limits: a registry that does not write does not
 * follow the topic, so its reads can lag another registry's writes until its next write or
 * restart; writers alternating on every write pay a reconnect (InitProducerId) each time.
 *
 * Failed appends settle their outcome before returning: the producer is dropped, a new one
 * connects (which completes or aborts the failed transaction: Kafka's InitProducerId
 * semantics) and the topic is read to the end. If the failed batch is there, it was
 * committed and append() resolves; if not, nothing of it is or will be visible and append()
 * throws a `notStored` error (storage.ts): the registry re-plans the write on the new state
 * and retries (a fenced commit — the other registry connected in between — ends up here).
 * If even that fails (cluster unreachable), append() throws and the outcome stays open; the
 * next catchUp connects again and returns the batch's records if they were committed.
 *
 * Own records: every record carries headers `sluice.registry.writer` (a random id per
 * producer session) and `sluice.registry.batch` (the append's number in that session).
 * Reads skip records of this storage's sessions up to the last batch known applied, and
 * return the rest in log order.
 *
 * Concurrency: the registry calls catchUp/append one at a time (its write chain).
 */
import { randomUUID } from 'node:crypto';
import { createLogger, isSluiceError, SluiceError } from '../common/index.js';
import type {
  IncomingRecord,
  OutgoingRecord,
  PartitionReader,
  Producer,
  TopicPartition,
  Transport,
} from '../transport/index.js';
import { decodeRecord, encodeRecordKey, encodeRecordValue } from './records.js';
import { notStored, type RegistryStorage } from './storage.js';
import type { RegistryRecord } from './types.js';

const log = createLogger('registry');

export const SCHEMAS_TOPIC = '_schemas';
export const WRITER_HEADER = 'sluice.registry.writer';
export const BATCH_HEADER = 'sluice.registry.batch';

export interface TopicStorageOptions {
  /** Default `_schemas`. */
  topic?: string;
  /** Shared by every registry writing the topic; default `sluice-registry-<topic>`. */
  transactionalId?: string;
  /** How long open()/catchUp() may take to read to the end before TIMEOUT. Default 60 000 ms. */
  readTimeoutMs?: number;
  /** Producer transaction timeout. Default 60 000 ms. */
  transactionTimeoutMs?: number;
}

export class TopicStorage implements RegistryStorage {
  readonly description: string;
  readonly topic: string;
  private readonly tp: TopicPartition;
  private readonly transactionalId: string;
  private readonly readTimeoutMs: number;
  private readonly transactionTimeoutMs: number;
  private reader: PartitionReader | undefined;
  private producer: Producer | undefined;
  private session = '';
  private batch = 0;
  /** session → last batch whose commit succeeded (the registry applied it). */
  private readonly applied = new Map<string, number>();
  /** Read from the topic, not yet returned by open()/catchUp(). */
  private pending: RegistryRecord[] = [];
  private closed = false;

  constructor(
    private readonly transport: Transport,
    options: TopicStorageOptions = {},
  ) {
    this.topic = options.topic ?? SCHEMAS_TOPIC;
    this.tp = { topic: this.topic, partition: 0 };
    this.transactionalId = options.transactionalId ?? `sluice-registry-${this.topic}`;
    this.readTimeoutMs = options.readTimeoutMs ?? 60_000;
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 60_000;
    this.description = `topic:${this.topic}@${transport.description}`;
  }

  async open(): Promise<RegistryRecord[]> {
    this.assertOpen();
    try {
      await this.transport.admin.ensureTopics([
        { topic: this.topic, partitions: 1, config: { 'cleanup.policy': 'compact' } },
      ]);
      // Connect first: it settles a crashed writer's open transaction, which would otherwise
      // hold the last stable offset (the end of our read) back until its timeout.
      await this.connectWriter();
      const [start] = await this.transport.admin.listOffsets([this.tp], 'earliest');
      this.reader = this.transport.partitionReader({
        isolationLevel: 'read_committed',
        clientId: 'sluice-registry-reader',
      });
      await this.reader.assign([{ ...this.tp, offset: start?.offset ?? 0 }]);
      await this.readToEnd();
      return this.takePending();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async catchUp(): Promise<RegistryRecord[]> {
    this.assertOpen();
    if (this.producer === undefined) await this.connectWriter();
    await this.readToEnd();
    return this.takePending();
  }

  async append(records: readonly RegistryRecord[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    const producer = this.producer;
    if (producer === undefined || this.reader === undefined) {
      throw new SluiceError('NOT_READY', `${this.description}: no writer (call catchUp first)`);
    }
    const session = this.session;
    const batch = ++this.batch;
    const headers = [
      { key: WRITER_HEADER, value: Buffer.from(session) },
      { key: BATCH_HEADER, value: Buffer.from(String(batch)) },
    ];
    const outgoing: OutgoingRecord[] = records.map((r) => ({
      key: encodeRecordKey(r.key),
      value: encodeRecordValue(r.value),
      headers,
    }));
    const from = this.reader.position(this.tp);
    try {
      producer.beginTransaction();
      await producer.send(this.topic, 0, outgoing);
      await producer.commitTransaction();
    } catch (err) {
      this.dropWriter();
      await this.settle(session, batch, err);
      return;
    }
    this.applied.set(session, batch);
    await this.skipOwn(from, outgoing.length);
  }

  /**
   * Moves the reader past our own committed batch without reading it, when that is provably
   * all that was added: the stable end is exactly `from` + our records + one commit marker.
   * Otherwise (someone else wrote too, or the markers are not written yet, as on Kafka where
   * EndTxn answers before them) the next read skips our records by their headers. Reading
   * them back costs a few fetch round trips per write over librdkafka (~300 ms measured).
   */
  private async skipOwn(from: number, count: number): Promise<void> {
    const reader = this.reader;
    if (reader === undefined) return;
    try {
      const [end] = await this.transport.admin.listOffsets([this.tp], 'latest', 'read_committed');
      if (end !== undefined && end.offset === from + count + 1 && reader.position(this.tp) === from) {
        await reader.assign([{ ...this.tp, offset: end.offset }]);
      }
    } catch (err) {
      log.debug({ err }, 'could not skip our own records; the next read will');
    }
  }

  /**
   * After a failed append: reconnect (settling the transaction) and read to the end. Resolves
   * if the batch was committed after all; throws notStored if it was not; rethrows `cause`
   * (outcome unknown) if the cluster cannot be reached to find out.
   */
  private async settle(session: string, batch: number, cause: unknown): Promise<void> {
    try {
      await this.connectWriter();
      if (await this.readToEnd({ session, batch })) {
        log.warn({ err: cause }, 'registry append reported a failure but was committed');
        return;
      }
    } catch (err) {
      this.dropWriter();
      log.warn({ err }, 'cannot settle a failed registry append; the next write will');
      throw cause;
    }
    const fenced = isSluiceError(cause) && cause.code === 'PRODUCER_FENCED';
    throw notStored(
      `${this.description}: ${fenced ? 'another registry took over the topic' : (cause as Error).message}; nothing was stored`,
      cause,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const producer = this.producer;
    const reader = this.reader;
    this.producer = undefined;
    this.reader = undefined;
    await Promise.allSettled([producer?.close(), reader?.close()]);
  }

  private assertOpen(): void {
    if (this.closed) throw new SluiceError('CLOSED', `${this.description} is closed`);
  }

  private async connectWriter(): Promise<void> {
    const producer = this.transport.producer({
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.transactionTimeoutMs,
      lingerMs: 0,
      clientId: 'sluice-registry-writer',
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw err;
    }
    this.producer = producer;
    this.session = randomUUID();
    this.batch = 0;
    log.debug({ topic: this.topic, session: this.session }, 'registry writer connected');
  }

  private dropWriter(): void {
    const producer = this.producer;
    this.producer = undefined;
    if (producer !== undefined) {
      void producer.close().catch((err: unknown) => log.debug({ err }, 'closing a dropped writer failed'));
    }
  }

  /**
   * Reads from the reader's position to the last stable offset into `pending`, skipping
   * records already applied. Records of `own` (a failed batch of ours) are not pending: if
   * any are read, they are marked applied (the registry applies them on append's return)
   * and the result is true.
   */
  private async readToEnd(own?: { session: string; batch: number }): Promise<boolean> {
    const reader = this.reader;
    if (reader === undefined) throw new SluiceError('NOT_READY', `${this.description} is not open`);
    const [end] = await this.transport.admin.listOffsets([this.tp], 'latest', 'read_committed');
    const target = end?.offset ?? 0;
    const deadline = Date.now() + this.readTimeoutMs;
    let sawOwn = false;
    while (reader.position(this.tp) < target) {
      if (Date.now() > deadline) {
        throw new SluiceError(
          'TIMEOUT',
          `${this.description}: could not read to offset ${target} within ${this.readTimeoutMs} ms (at ${reader.position(this.tp)})`,
          { retriable: true },
        );
      }
      for (const r of await reader.poll(1000, 200)) {
        if (r.key === null) continue;
        const writer = writerOf(r);
        if (own !== undefined && writer?.session === own.session && writer.batch === own.batch) {
          sawOwn = true;
          continue;
        }
        if (writer !== undefined && writer.batch <= (this.applied.get(writer.session) ?? 0)) continue;
        this.pending.push(decodeRecord(r.key, r.value));
      }
    }
    if (sawOwn && own !== undefined) this.applied.set(own.session, own.batch);
    return sawOwn;
  }

  private takePending(): RegistryRecord[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

function writerOf(r: IncomingRecord): { session: string; batch: number } | undefined {
  let session: string | undefined;
  let batch: number | undefined;
  for (const h of r.headers) {
    if (h.key === WRITER_HEADER && h.value !== null) session = h.value.toString('utf8');
    else if (h.key === BATCH_HEADER && h.value !== null) batch = Number(h.value.toString('utf8'));
  }
  return session === undefined || batch === undefined || !Number.isInteger(batch)
    ? undefined
    : { session, batch };
}
