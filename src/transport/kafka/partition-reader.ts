/**
 * PartitionReader on a librdkafka KafkaConsumer without a consumer group: `assign()` with
 * explicit offsets, no commits. librdkafka's consumer insists on a group.id: it gets a random
 * throwaway one that never joins a group (no subscribe) and never commits.
 *
 * Position: the next offset a poll would read. It is tracked per partition as
 * max(assigned offset, last returned offset + 1, the offset of the latest end-of-partition
 * event). librdkafka emits a partition EOF (enable.partition.eof) each time its fetch position
 * reaches the end of what it may read (the high watermark, or under read_committed the last
 * stable offset) and the event carries that fetch position, which is already past transaction
 * markers and aborted records. So after a poll that read to the end, position equals
 * listOffsets(latest) for the same isolation level even when the log ends in a control batch,
 * which is what restore's "caught up" test (`position >= latest`) needs.
 *
 * Out-of-range offsets (below the log start after retention or compaction) restart at the
 * earliest offset (auto.offset.reset=earliest), Kafka's behaviour for a restoring reader.
 *
 * Concurrency: one poll at a time; assign() between polls. Nothing is written locally.
 */

import { randomUUID } from 'node:crypto';
import type { EofEvent, KafkaConsumer } from '@confluentinc/kafka-javascript';
import ck from '@confluentinc/kafka-javascript';
import { SluiceError } from '../../common/index.js';
import type {
  IncomingRecord,
  PartitionReader,
  PartitionReaderOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js';
import {
  call,
  clientConfig,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KafkaConnectionOptions,
  tpKey,
} from './config.js';
import { consumeBatch, toIncoming, waitForFirstOnly } from './consume.js';
import { FETCH_WAIT_MAX_MS } from './group-consumer.js';

const { RdKafka } = ck;

export class KafkaPartitionReader implements PartitionReader {
  private readonly consumer: KafkaConsumer;
  private readonly positions = new Map<string, number>();
  private connected: Promise<void> | undefined;
  private closed = false;
  private inPoll = false;
  private readonly timeoutMs: number;

  constructor(conn: KafkaConnectionOptions, options: PartitionReaderOptions = {}) {
    this.timeoutMs = conn.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.consumer = new RdKafka.KafkaConsumer(
      clientConfig(conn, options.clientId ?? `${conn.clientId ?? 'sluice'}-reader`, {
        'isolation.level': options.isolationLevel ?? 'read_committed',
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'enable.partition.eof': true,
        'fetch.wait.max.ms': FETCH_WAIT_MAX_MS,
        'fetch.error.backoff.ms': 50,
        'fetch.queue.backoff.ms': 0,
        // No group is ever joined (assign() only, no commits); librdkafka's consumer needs an id.
        'group.id': `sluice-reader-${randomUUID()}`,
      }) as never,
      { 'auto.offset.reset': 'earliest' },
    );
    waitForFirstOnly(this.consumer);
    this.consumer.on('partition.eof', (e: EofEvent) => this.advance(e.topic, e.partition, e.offset));
  }

  private advance(topic: string, partition: number, next: number): void {
    const k = tpKey(topic, partition);
    const cur = this.positions.get(k);
    if (cur !== undefined && next > cur) this.positions.set(k, next);
  }

  private connect(): Promise<void> {
    this.connected ??= call('connect partition reader', 'consumer', (cb) =>
      this.consumer.connect({ timeout: this.timeoutMs }, cb as never),
    ).catch((err) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new SluiceError('CLOSED', `${what}: the partition reader is closed`);
  }

  async assign(positions: readonly TopicPartitionOffset[]): Promise<void> {
    this.checkOpen('assign');
    if (this.inPoll) throw new SluiceError('INVALID_ARGUMENT', 'assign: a poll is in progress');
    await this.connect();
    this.positions.clear();
    for (const p of positions) {
      if (!Number.isSafeInteger(p.offset) || p.offset < 0)
        throw new SluiceError('INVALID_ARGUMENT', `assign: offset ${p.offset} of ${p.topic}[${p.partition}]`);
      this.positions.set(tpKey(p.topic, p.partition), p.offset);
    }
    try {
      if (positions.length === 0) this.consumer.unassign();
      else
        this.consumer.assign(
          positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })),
        );
    } catch (err) {
      throw new SluiceError('IO', `assign: ${(err as Error).message}`, { cause: err });
    }
  }

  async poll(maxRecords: number, maxWaitMs: number): Promise<IncomingRecord[]> {
    this.checkOpen('poll');
    if (this.inPoll) throw new SluiceError('INVALID_ARGUMENT', 'poll: another poll is in progress');
    if (this.positions.size === 0) {
      if (maxWaitMs > 0) await new Promise((r) => setTimeout(r, Math.min(maxWaitMs, 50)));
      return [];
    }
    this.inPoll = true;
    try {
      const messages = await consumeBatch(this.consumer, maxRecords, maxWaitMs);
      const out: IncomingRecord[] = [];
      for (const m of messages) {
        const k = tpKey(m.topic, m.partition);
        if (!this.positions.has(k)) continue;
        this.advance(m.topic, m.partition, m.offset + 1);
        out.push(toIncoming(m));
      }
      return out;
    } finally {
      this.inPoll = false;
    }
  }

  position(partition: TopicPartition): number {
    const p = this.positions.get(tpKey(partition.topic, partition.partition));
    if (p === undefined)
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `position: ${partition.topic}[${partition.partition}] is not assigned to this reader`,
      );
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.connected === undefined) return;
    await this.connected.catch(() => undefined);
    await new Promise<void>((resolve) => {
      this.consumer.disconnect(() => resolve());
    });
  }
}
