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
 * Two registries on one topic (Confluent elects a leader; here the last to write wins the
 * lock, optimistically): before every write the registry calls catchUp(), which connects a
 * writer if this storage has none (fencing the other registry) and then reads to the end,
 * returning every committed record this registry has not applied. Because connect happens
 * before the read, everything another writer committed is read before ids and versions are
 * planned; a commit of the other writer after our connect is impossible (fenced). When our
 * commit is fenced (the other registry connected in between) nothing of ours is visible:
 * append() throws PRODUCER_FENCED, drops the producer, and the registry retries (catchUp
 * reconnects and re-reads, the write is planned again). So ids and versions are never
 * handed out twice. Limits: a registry that does not write does not follow the topic, so
 * its reads can lag another registry's writes until its next write or restart; writers
 * alternating on every write pay a reconnect (InitProducerId) each time.
 *
 * Own records: every record carries headers `sluice.registry.writer` (a random id per
 * producer session) and `sluice.registry.batch` (the append's number in that session).
 * catchUp() skips records of this storage's sessions up to the last batch whose commit it
 * saw succeed (the registry applied those already) and returns the rest, so records of an
 * append that failed with an unknown outcome (commit timed out, broker killed) are applied
 * exactly when they turn out to be committed. Any append failure drops the producer; the
 * next catchUp starts a new session, whose connect settles the old transaction first.
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
import type { RegistryStorage } from './storage.js';
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
      return await this.readToEnd();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async catchUp(): Promise<RegistryRecord[]> {
    this.assertOpen();
    if (this.producer === undefined) await this.connectWriter();
    return this.readToEnd();
  }

  async append(records: readonly RegistryRecord[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    const producer = this.producer;
    if (producer === undefined || this.reader === undefined) {
      throw new SluiceError('NOT_READY', `${this.description}: no writer (call catchUp first)`);
    }
    const batch = ++this.batch;
    const headers = [
      { key: WRITER_HEADER, value: Buffer.from(this.session) },
      { key: BATCH_HEADER, value: Buffer.from(String(batch)) },
    ];
    const outgoing: OutgoingRecord[] = records.map((r) => ({
      key: encodeRecordKey(r.key),
      value: encodeRecordValue(r.value),
      headers,
    }));
    try {
      producer.beginTransaction();
      await producer.send(this.topic, 0, outgoing);
      await producer.commitTransaction();
    } catch (err) {
      // Outcome unknown (or aborted): give up this session; the next catchUp's connect settles
      // the transaction and its read returns these records if they were committed after all.
      this.dropWriter();
      if (isSluiceError(err) && err.code === 'PRODUCER_FENCED') {
        throw new SluiceError(
          'PRODUCER_FENCED',
          `${this.description}: another registry took over the topic; this write was not stored`,
          { cause: err, retriable: true },
        );
      }
      throw err;
    }
    this.applied.set(this.session, batch);
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

  /** Reads from the reader's position to the last stable offset; skips records already applied. */
  private async readToEnd(): Promise<RegistryRecord[]> {
    const reader = this.reader;
    if (reader === undefined) throw new SluiceError('NOT_READY', `${this.description} is not open`);
    const [end] = await this.transport.admin.listOffsets([this.tp], 'latest', 'read_committed');
    const target = end?.offset ?? 0;
    const out: RegistryRecord[] = [];
    const deadline = Date.now() + this.readTimeoutMs;
    while (reader.position(this.tp) < target) {
      if (Date.now() > deadline) {
        throw new SluiceError(
          'TIMEOUT',
          `${this.description}: could not read to offset ${target} within ${this.readTimeoutMs} ms (at ${reader.position(this.tp)})`,
          { retriable: true },
        );
      }
      for (const r of await reader.poll(1000, 200)) {
        if (r.key === null || this.isApplied(r)) continue;
        out.push(decodeRecord(r.key, r.value));
      }
    }
    return out;
  }

  private isApplied(r: IncomingRecord): boolean {
    let session: string | undefined;
    let batch: number | undefined;
    for (const h of r.headers) {
      if (h.key === WRITER_HEADER && h.value !== null) session = h.value.toString('utf8');
      else if (h.key === BATCH_HEADER && h.value !== null) batch = Number(h.value.toString('utf8'));
    }
    if (session === undefined || batch === undefined) return false;
    const upTo = this.applied.get(session);
    return upTo !== undefined && batch <= upTo;
  }
}
