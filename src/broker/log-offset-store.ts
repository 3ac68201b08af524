/**
 * Group offsets in the compacted internal topic `__consumer_offsets`, Kafka's layout, replayed
 * on start; with transactional offsets (TxnOffsetCommit) as Kafka stores them.
 *
 * Records: key OffsetCommitKey v1 (int16 1, group string, topic string, partition int32),
 * value OffsetCommitValue v3 (int16 3, offset int64, leader epoch int32, metadata nullable
 * string, commit timestamp int64); a null value deletes. A group lives in partition
 * hash(group) mod partitions (Java's String.hashCode, as Kafka).
 *
 * Transactional offsets are appended as a transactional batch with the producer's id and
 * epoch (no sequence), so the partition's last stable offset covers them; they stay pending
 * in memory until the transaction's marker lands in the same partition: COMMIT applies them,
 * ABORT drops them. The coordinator writes that marker like any other (the group's partition
 * is in the transaction through AddOffsetsToTxn) and reports it with `onMarker`. Replay does
 * the same from the log, so after a crash the offsets of a committed transaction are there
 * and those of an open one stay pending until the coordinator's recovery decides it.
 *
 * Durability: every commit resolves when its append is durable under the topic's policy
 * (flush.ms 0: fsync, group commit). Concurrency: single event loop; appends are ordered.
 */
import {
  ByteReader,
  ByteWriter,
  ControlRecordType,
  decodeRecordBatch,
  encodeRecordBatch,
  readBatchHeader,
  readControlBatch,
} from '../protocol/index.js';
import type { LogStore, PartitionLogPort } from './log-port.js';
import type { CommittedOffset, OffsetStore, TopicPartitionOffset } from './offset-store.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode of the group id, mod the partition count (Kafka's partitionFor). */
export function groupPartition(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  return (h & 0x7fffffff) % partitions;
}

export function encodeOffsetKey(group: string, topic: string, partition: number): Buffer {
  return new ByteWriter(16 + group.length + topic.length)
    .int16(1)
    .string(group)
    .string(topic)
    .int32(partition)
    .toBuffer();
}

export function decodeOffsetKey(b: Buffer): { group: string; topic: string; partition: number } | null {
  const r = new ByteReader(b);
  const v = r.int16();
  if (v !== 0 && v !== 1) return null; // group metadata records (version 2) are not offsets
  const group = r.string() ?? '';
  const topic = r.string() ?? '';
  return { group, topic, partition: r.int32() };
}

export function encodeOffsetValue(v: CommittedOffset): Buffer {
  return new ByteWriter(32)
    .int16(3)
    .int64n(v.offset)
    .int32(v.leaderEpoch)
    .string(v.metadata)
    .int64n(v.commitTimestamp)
    .toBuffer();
}

export function decodeOffsetValue(b: Buffer): CommittedOffset {
  const r = new ByteReader(b);
  const v = r.int16();
  const offset = r.int64n();
  const leaderEpoch = v >= 3 ? r.int32() : -1;
  const metadata = r.string();
  const commitTimestamp = r.int64n();
  return { offset, leaderEpoch, metadata, commitTimestamp };
}

type Entry = { topic: string; partition: number; value: CommittedOffset };
const keyOf = (topic: string, partition: number) => `${partition}\u0000${topic}`;

export class LogOffsetStore implements OffsetStore {
  /** TxnOffsetSink: durable transactional offsets, decided by the marker. */
  readonly txnSink = {
    partitionFor: (groupId: string) => this.partitionFor(groupId),
    stage: (pid: number, epoch: number, groupId: string, entries: readonly TopicPartitionOffset[]) =>
      this.commitTransactional(pid, epoch, groupId, entries),
  };

  private readonly byGroup = new Map<string, Map<string, Entry>>();
  /** Transactional offsets by producer id, until their marker. */
  private readonly pending = new Map<number, { group: string; entry: Entry | null; key: string }[]>();

  private constructor(
    private readonly logs: LogStore,
    readonly partitions: number,
  ) {}

  static async open(logs: LogStore, partitions = 1): Promise<LogOffsetStore> {
    if (!logs.hasTopic(OFFSETS_TOPIC))
      await logs.createTopic(OFFSETS_TOPIC, partitions, { 'cleanup.policy': 'compact', 'flush.ms': 0 });
    const actual = logs.describeTopic(OFFSETS_TOPIC).partitions;
    const s = new LogOffsetStore(logs, actual);
    for (let p = 0; p < actual; p++) s.replay(logs.getLog(OFFSETS_TOPIC, p));
    return s;
  }

  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.partitions);
  }

  private replay(log: PartitionLogPort): void {
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const { records } = log.read(offset, { maxBytes: 1 << 20 });
      if (records.length === 0) break;
      let pos = 0;
      let next = offset;
      while (pos < records.length) {
        const h = readBatchHeader(records, pos);
        if (h.isControl) {
          const c = readControlBatch(records, pos);
          this.onMarker(h.producerId, c.type === ControlRecordType.Commit);
        } else {
          for (const r of decodeRecordBatch(records, pos).records) {
            if (r.key === null || r.offset < offset) continue;
            const k = decodeOffsetKey(r.key);
            if (k === null) continue;
            const entry =
              r.value === null
                ? null
                : { topic: k.topic, partition: k.partition, value: decodeOffsetValue(r.value) };
            if (h.isTransactional)
              this.stagePending(h.producerId, k.group, keyOf(k.topic, k.partition), entry);
            else this.apply(k.group, keyOf(k.topic, k.partition), entry);
          }
        }
        next = h.baseOffset + h.lastOffsetDelta + 1;
        pos += h.size;
      }
      if (next <= offset) break;
      offset = next;
    }
  }

  private stagePending(pid: number, group: string, key: string, entry: Entry | null): void {
    let l = this.pending.get(pid);
    if (l === undefined) {
      l = [];
      this.pending.set(pid, l);
    }
    l.push({ group, key, entry });
  }

  private apply(group: string, key: string, entry: Entry | null): void {
    let g = this.byGroup.get(group);
    if (entry === null) {
      g?.delete(key);
      return;
    }
    if (g === undefined) {
      g = new Map();
      this.byGroup.set(group, g);
    }
    g.set(key, entry);
  }

  /** A transaction marker for `producerId` landed in `__consumer_offsets`. */
  onMarker(producerId: number, commit: boolean): void {
    const l = this.pending.get(producerId);
    if (l === undefined) return;
    this.pending.delete(producerId);
    if (commit) for (const p of l) this.apply(p.group, p.key, p.entry);
  }

  private async append(
    groupId: string,
    records: { key: Buffer; value: Buffer | null }[],
    txn?: { producerId: number; producerEpoch: number },
  ): Promise<void> {
    if (records.length === 0) return;
    const log = this.logs.getLog(OFFSETS_TOPIC, this.partitionFor(groupId));
    const batch = encodeRecordBatch({
      records,
      ...(txn === undefined
        ? {}
        : {
            isTransactional: true,
            producerId: txn.producerId,
            producerEpoch: txn.producerEpoch,
            baseSequence: -1,
          }),
    });
    await log.append(batch);
  }

  async commit(groupId: string, entries: readonly TopicPartitionOffset[]): Promise<void> {
    await this.append(
      groupId,
      entries.map((e) => ({
        key: encodeOffsetKey(groupId, e.topic, e.partition),
        value: encodeOffsetValue(e.value),
      })),
    );
    for (const e of entries)
      this.apply(groupId, keyOf(e.topic, e.partition), {
        topic: e.topic,
        partition: e.partition,
        value: { ...e.value },
      });
  }

  /** TxnOffsetCommit: durable now, visible when the transaction commits. */
  async commitTransactional(
    producerId: number,
    producerEpoch: number,
    groupId: string,
    entries: readonly TopicPartitionOffset[],
  ): Promise<void> {
    await this.append(
      groupId,
      entries.map((e) => ({
        key: encodeOffsetKey(groupId, e.topic, e.partition),
        value: encodeOffsetValue(e.value),
      })),
      { producerId, producerEpoch },
    );
    for (const e of entries)
      this.stagePending(producerId, groupId, keyOf(e.topic, e.partition), {
        topic: e.topic,
        partition: e.partition,
        value: { ...e.value },
      });
  }

  /** Whether a transaction has offsets pending for this group partition (OffsetFetch require_stable). */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    const k = keyOf(topic, partition);
    for (const l of this.pending.values()) if (l.some((p) => p.group === groupId && p.key === k)) return true;
    return false;
  }

  fetch(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(groupId)?.get(keyOf(topic, partition))?.value;
  }

  committed(groupId: string): Entry[] {
    return [...(this.byGroup.get(groupId)?.values() ?? [])];
  }

  async delete(groupId: string, topic: string, partition: number): Promise<void> {
    await this.append(groupId, [{ key: encodeOffsetKey(groupId, topic, partition), value: null }]);
    this.apply(groupId, keyOf(topic, partition), null);
  }

  async deleteGroup(groupId: string): Promise<void> {
    const entries = this.committed(groupId);
    await this.append(
      groupId,
      entries.map((e) => ({ key: encodeOffsetKey(groupId, e.topic, e.partition), value: null })),
    );
    this.byGroup.delete(groupId);
  }

  groups(): string[] {
    return [...this.byGroup.keys()].filter((g) => (this.byGroup.get(g)?.size ?? 0) > 0);
  }
}
