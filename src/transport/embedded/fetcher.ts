/**
 * Fetching for the embedded consumer and reader: positions per partition, Fetch requests
 * (the broker's long polling), decoding record batches as a Kafka client does.
 *
 * Positions: each partition has a fetch offset (null until resolved, e.g. while a group
 * consumer looks up its committed offset) and a buffer of decoded records not yet returned;
 * `position` is the first buffered record's offset, else the fetch offset. Seeking replaces
 * both. A Fetch response is applied only if the partition's state is the one the request was
 * built from (`epoch`): a seek, pause or removal while a fetch is in flight discards its data.
 *
 * Decoding (Kafka's Fetcher/CompletedFetch): records before the fetch offset are skipped
 * (the response may start with batches before it); control batches (transaction markers) are
 * skipped and advance the position; with read_committed, the response's aborted transactions
 * are consumed in firstOffset order as batches pass them (those before the fetch offset too),
 * a transactional batch of a producer in the aborted set is skipped, and that producer's
 * ABORT marker removes it from the set. A
 * partial batch at the end (response size limit) is left for the next fetch. Keys, values and
 * header values are views of the fetched bytes (no copy).
 *
 * OFFSET_OUT_OF_RANGE goes to the owner's `outOfRange` (the group consumer resets by
 * autoOffsetReset; the partition reader restarts at the log start). UNKNOWN_TOPIC_ID
 * refreshes the cached topic id once.
 *
 * Concurrency: one fetch at a time per Fetcher (callers serialize polls).
 */
import {
  BATCH_HEADER_SIZE,
  ControlRecordType,
  decodeRecordBatch,
  ErrorCode,
  readBatchHeader,
  readControlBatch,
} from '../../protocol/index.js';
import type { IncomingRecord, IsolationLevel, TopicPartition } from '../types.js';
import type { EmbeddedAdmin } from './admin.js';
import { type InProcessConnection, kafkaFailure, records as recordsOf } from './connection.js';

/** Kafka's consumer defaults: fetch.max.bytes and max.partition.fetch.bytes. */
const FETCH_MAX_BYTES = 52_428_800;
const PARTITION_MAX_BYTES = 1_048_576;

interface PartitionState {
  readonly tp: TopicPartition;
  /** Next offset to fetch; null = not resolved yet. */
  fetchOffset: number | null;
  /** Decoded records not yet returned: buffer[head..]. */
  buffer: IncomingRecord[];
  head: number;
  paused: boolean;
  /** Bumped by every change that invalidates a fetch in flight. */
  epoch: number;
}

export const tpKey = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
}

/**
 * The records a client returns from one partition's fetched bytes, and the next fetch offset.
 * Exported for tests.
 */
export function decodeFetched(
  tp: TopicPartition,
  buf: Buffer,
  fetchOffset: number,
  aborted: readonly AbortedTxn[] | null,
  readCommitted: boolean,
): { records: IncomingRecord[]; next: number } {
  const out: IncomingRecord[] = [];
  let next = fetchOffset;
  const abortedList =
    readCommitted && aborted !== null ? [...aborted].sort((a, b) => a.firstOffset - b.firstOffset) : [];
  let ai = 0;
  const abortedProducers = new Set<number>();
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= buf.length) {
    const h = readBatchHeader(buf, pos);
    if (h.size < BATCH_HEADER_SIZE || pos + h.size > buf.length) break; // partial batch at the end
    const at = pos;
    pos += h.size;
    // Batches before the fetch offset still pass through the aborted-transaction bookkeeping
    // (an ABORT marker there ends its producer's aborted range), as in Kafka's client.
    const after = Math.max(next, h.lastOffset + 1);
    if (readCommitted && h.producerId >= 0) {
      while (ai < abortedList.length && (abortedList[ai] as AbortedTxn).firstOffset <= h.lastOffset) {
        abortedProducers.add((abortedList[ai] as AbortedTxn).producerId);
        ai++;
      }
      if (h.isControl) {
        if (readControlBatch(buf, at).type === ControlRecordType.Abort) abortedProducers.delete(h.producerId);
      } else if (h.isTransactional && abortedProducers.has(h.producerId)) {
        next = after;
        continue;
      }
    }
    if (h.isControl || h.lastOffset < next) {
      next = after;
      continue;
    }
    for (const r of decodeRecordBatch(buf, at).records) {
      if (r.offset < next) continue;
      out.push({
        topic: tp.topic,
        partition: tp.partition,
        offset: r.offset,
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        headers: r.headers,
      });
    }
    next = after;
  }
  return { records: out, next };
}

export class Fetcher {
  private readonly parts = new Map<string, PartitionState>();
  /** Where `take` starts, rotated so no partition starves the others. */
  private rotation = 0;

  constructor(
    private readonly conn: InProcessConnection,
    private readonly admin: EmbeddedAdmin,
    private readonly isolationLevel: IsolationLevel,
    /** The new fetch offset of a partition whose offset is out of range (or throws). */
    private readonly outOfRange: (tp: TopicPartition, offset: number) => Promise<number>,
  ) {}

  partitions(): TopicPartition[] {
    return [...this.parts.values()].map((s) => s.tp);
  }

  has(tp: TopicPartition): boolean {
    return this.parts.has(tpKey(tp));
  }

  add(tp: TopicPartition, offset: number | null): void {
    const prev = this.parts.get(tpKey(tp));
    this.parts.set(tpKey(tp), {
      tp: { topic: tp.topic, partition: tp.partition },
      fetchOffset: offset,
      buffer: [],
      head: 0,
      paused: prev?.paused ?? false,
      epoch: (prev?.epoch ?? 0) + 1,
    });
  }

  remove(tp: TopicPartition): void {
    const s = this.parts.get(tpKey(tp));
    if (s !== undefined) s.epoch++;
    this.parts.delete(tpKey(tp));
  }

  clear(): void {
    for (const s of this.parts.values()) s.epoch++;
    this.parts.clear();
  }

  /** Sets the next offset to read (drops buffered records). False if the partition is not here. */
  seek(tp: TopicPartition, offset: number): boolean {
    const s = this.parts.get(tpKey(tp));
    if (s === undefined) return false;
    s.fetchOffset = offset;
    s.buffer = [];
    s.head = 0;
    s.epoch++;
    return true;
  }

  /** The next offset a poll would return from this partition; null when unresolved or absent. */
  position(tp: TopicPartition): number | null {
    const s = this.parts.get(tpKey(tp));
    if (s === undefined) return null;
    return s.head < s.buffer.length ? (s.buffer[s.head] as IncomingRecord).offset : s.fetchOffset;
  }

  unresolved(): TopicPartition[] {
    return [...this.parts.values()].filter((s) => s.fetchOffset === null).map((s) => s.tp);
  }

  setPaused(tp: TopicPartition, paused: boolean): void {
    const s = this.parts.get(tpKey(tp));
    if (s === undefined || s.paused === paused) return;
    s.paused = paused;
    s.epoch++;
  }

  /** Whether a poll could return records without fetching. */
  hasBuffered(): boolean {
    for (const s of this.parts.values()) if (!s.paused && s.head < s.buffer.length) return true;
    return false;
  }

  /** Up to max buffered records of unpaused partitions (each partition in offset order). */
  take(max: number): IncomingRecord[] {
    const states = [...this.parts.values()];
    const out: IncomingRecord[] = [];
    const n = states.length;
    for (let i = 0; i < n && out.length < max; i++) {
      const s = states[(this.rotation + i) % n] as PartitionState;
      if (s.paused || s.head >= s.buffer.length) continue;
      const end = Math.min(s.buffer.length, s.head + (max - out.length));
      for (let j = s.head; j < end; j++) out.push(s.buffer[j] as IncomingRecord);
      s.head = end;
      if (s.head === s.buffer.length) {
        s.buffer = [];
        s.head = 0;
      }
    }
    this.rotation = n === 0 ? 0 : (this.rotation + 1) % n;
    return out;
  }

  /**
   * One Fetch for every unpaused, resolved partition with nothing buffered, waiting up to
   * maxWaitMs for data. Resolves when the response is applied (true), or at once with false
   * when there is nothing to fetch.
   */
  async fetchOnce(maxWaitMs: number): Promise<boolean> {
    const wanted = [...this.parts.values()].filter(
      (s) => !s.paused && s.fetchOffset !== null && s.head >= s.buffer.length,
    );
    if (wanted.length === 0) return false;
    const snapshot = wanted.map((s) => ({ s, epoch: s.epoch, offset: s.fetchOffset as number }));
    const topics = [...new Set(wanted.map((s) => s.tp.topic))];
    const ids = await this.admin.topicIds(topics);
    const r = await this.conn.call(1, {
      replicaId: -1,
      maxWaitMs: Math.max(0, Math.floor(maxWaitMs)),
      minBytes: 1,
      maxBytes: FETCH_MAX_BYTES,
      isolationLevel: this.isolationLevel === 'read_committed' ? 1 : 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: topics.map((topic) => ({
        topicId: ids.get(topic) as Buffer,
        partitions: snapshot
          .filter((x) => x.s.tp.topic === topic)
          .map((x) => ({
            partition: x.s.tp.partition,
            fetchOffset: x.offset,
            partitionMaxBytes: PARTITION_MAX_BYTES,
          })),
      })),
    });
    if (r.errorCode !== 0) throw kafkaFailure(r.errorCode, 'Fetch');
    const readCommitted = this.isolationLevel === 'read_committed';
    for (const [ti, t] of r.responses.entries()) {
      const topic = topics[ti] as string;
      for (const p of t.partitions) {
        const x = snapshot.find((y) => y.s.tp.topic === topic && y.s.tp.partition === p.partitionIndex);
        if (x === undefined || x.s.epoch !== x.epoch || this.parts.get(tpKey(x.s.tp)) !== x.s) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          const offset = await this.outOfRange(x.s.tp, x.offset);
          if (x.s.epoch === x.epoch) {
            x.s.fetchOffset = offset;
            x.s.epoch++;
          }
          continue;
        }
        if (p.errorCode === ErrorCode.UNKNOWN_TOPIC_ID) {
          this.admin.forgetTopicId(topic);
          continue;
        }
        if (p.errorCode !== 0) throw kafkaFailure(p.errorCode, `Fetch ${topic}-${p.partitionIndex}`);
        const d = decodeFetched(x.s.tp, recordsOf(p.records), x.offset, p.abortedTransactions, readCommitted);
        x.s.buffer = d.records;
        x.s.head = 0;
        x.s.fetchOffset = d.next;
      }
    }
    return true;
  }
}
