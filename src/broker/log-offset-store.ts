/**
 * LogOffsetStore: committed group offsets kept in the compacted internal topic
 * `__consumer_offsets` (one partition: a single node), in Kafka's record layout, so they
 * survive restarts and any Kafka tool that decodes that topic reads them:
 *
 *   key   OffsetCommitKey v1    int16 1, string group, string topic, int32 partition
 *   value OffsetCommitValue v3  int16 3, int64 offset, int32 leaderEpoch, string metadata,
 *                               int64 commitTimestamp
 *   null value                  tombstone (OffsetDelete, DeleteGroups)
 *
 * Group metadata records (key v2) are not written: membership is rebuilt by clients rejoining
 * after a restart; on load they and any other key version are skipped.
 *
 * Durability: `commit` appends one batch holding every entry of the commit (all or none) and
 * resolves only when the log acknowledges it under the topic's flush.ms (created with 0: fsync'd,
 * whatever the broker-wide default for data topics).
 * The in-memory view is updated after that, so OffsetFetch never returns an offset that a
 * crash could lose. `open` replays the topic (after compaction: the latest value per key).
 * Commits from one event loop are appended in call order, so the replay order is commit order.
 */
import { SluiceError } from '../common/index.js';
import { decodeRecordBatch, encodeRecordBatch, readBatchHeader } from '../protocol/index.js';
import type { LogStore } from './log-port.js';
import type { CommittedOffset, OffsetStore, TopicPartitionOffset } from './offset-store.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

const mapKey = (topic: string, partition: number) => `${partition}\u0000${topic}`;

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function int64(v: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt(v), 0);
  return b;
}

/** OffsetCommitKey v1. */
export function encodeOffsetKey(group: string, topic: string, partition: number): Buffer {
  const v = Buffer.allocUnsafe(2);
  v.writeInt16BE(1, 0);
  const p = Buffer.allocUnsafe(4);
  p.writeInt32BE(partition, 0);
  return Buffer.concat([v, str(group), str(topic), p]);
}

/** OffsetCommitValue v3. */
export function encodeOffsetValue(c: CommittedOffset): Buffer {
  const v = Buffer.allocUnsafe(2);
  v.writeInt16BE(3, 0);
  const e = Buffer.allocUnsafe(4);
  e.writeInt32BE(c.leaderEpoch, 0);
  return Buffer.concat([v, int64(c.offset), e, str(c.metadata ?? ''), int64(c.commitTimestamp)]);
}

class Reader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  i16(): number {
    const v = this.b.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.b.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): number {
    const v = Number(this.b.readBigInt64BE(this.pos));
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = this.i16();
    if (n < 0) return '';
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** The offset key, or null for other record kinds (group metadata, unknown versions). */
export function decodeOffsetKey(b: Buffer): { group: string; topic: string; partition: number } | null {
  const r = new Reader(b);
  const version = r.i16();
  if (version !== 0 && version !== 1) return null;
  return { group: r.str(), topic: r.str(), partition: r.i32() };
}

/** OffsetCommitValue v0-v3. */
export function decodeOffsetValue(b: Buffer): CommittedOffset {
  const r = new Reader(b);
  const version = r.i16();
  const offset = r.i64();
  const leaderEpoch = version >= 3 ? r.i32() : -1;
  const metadata = r.str();
  const commitTimestamp = r.i64();
  return { offset, leaderEpoch, metadata, commitTimestamp };
}

export class LogOffsetStore implements OffsetStore {
  private readonly byGroup = new Map<
    string,
    Map<string, { topic: string; partition: number; value: CommittedOffset }>
  >();

  private constructor(private readonly logs: LogStore) {}

  /** Creates `__consumer_offsets` if missing and replays it. */
  static async open(logs: LogStore): Promise<LogOffsetStore> {
    if (!logs.hasTopic(OFFSETS_TOPIC)) {
      await logs.createTopic(OFFSETS_TOPIC, 1, {
        'cleanup.policy': 'compact',
        'segment.bytes': 100 * 1024 * 1024,
        // commits are acknowledged after an fsync, whatever the broker's default for data topics
        'flush.ms': 0,
      });
    }
    const store = new LogOffsetStore(logs);
    store.load();
    return store;
  }

  private load(): void {
    const log = this.logs.getLog(OFFSETS_TOPIC, 0);
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const { records } = log.read(offset, { maxBytes: 1024 * 1024 });
      if (records.length === 0) break;
      let pos = 0;
      while (pos < records.length) {
        const h = readBatchHeader(records, pos);
        const size = 12 + h.batchLength;
        if (h.baseOffset + h.lastOffsetDelta >= offset && !h.isControl) {
          for (const rec of decodeRecordBatch(records, pos, false).records) {
            if (rec.offset < offset || rec.key === null) continue;
            this.apply(rec.key, rec.value);
          }
        }
        offset = Math.max(offset, h.baseOffset + h.lastOffsetDelta + 1);
        pos += size;
      }
    }
  }

  private apply(key: Buffer, value: Buffer | null): void {
    let k: ReturnType<typeof decodeOffsetKey>;
    try {
      k = decodeOffsetKey(key);
    } catch {
      return;
    }
    if (k === null) return;
    if (value === null) {
      this.forget(k.group, k.topic, k.partition);
      return;
    }
    this.set(k.group, k.topic, k.partition, decodeOffsetValue(value));
  }

  private set(group: string, topic: string, partition: number, value: CommittedOffset): void {
    let g = this.byGroup.get(group);
    if (g === undefined) {
      g = new Map();
      this.byGroup.set(group, g);
    }
    const mk = mapKey(topic, partition);
    g.delete(mk); // re-inserted last: `committed` lists in commit order
    g.set(mk, { topic, partition, value });
  }

  private forget(group: string, topic: string, partition: number): void {
    const g = this.byGroup.get(group);
    if (g === undefined) return;
    g.delete(mapKey(topic, partition));
    if (g.size === 0) this.byGroup.delete(group);
  }

  private async append(records: { key: Buffer; value: Buffer | null }[]): Promise<void> {
    if (records.length === 0) return;
    const now = Date.now();
    const batch = encodeRecordBatch({
      baseTimestamp: now,
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: now })),
    });
    const r = await this.logs.getLog(OFFSETS_TOPIC, 0).append(batch);
    if (r.baseOffset < 0) throw new SluiceError('IO', 'offset commit was not appended');
  }

  async commit(groupId: string, entries: readonly TopicPartitionOffset[]): Promise<void> {
    await this.append(
      entries.map((e) => ({
        key: encodeOffsetKey(groupId, e.topic, e.partition),
        value: encodeOffsetValue(e.value),
      })),
    );
    // Kafka stores null metadata as "" (the value's string is not nullable).
    for (const e of entries)
      this.set(groupId, e.topic, e.partition, { ...e.value, metadata: e.value.metadata ?? '' });
  }

  fetch(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(groupId)?.get(mapKey(topic, partition))?.value;
  }

  committed(groupId: string): { topic: string; partition: number; value: CommittedOffset }[] {
    return [...(this.byGroup.get(groupId)?.values() ?? [])];
  }

  async delete(groupId: string, topic: string, partition: number): Promise<void> {
    if (this.fetch(groupId, topic, partition) === undefined) return;
    await this.append([{ key: encodeOffsetKey(groupId, topic, partition), value: null }]);
    this.forget(groupId, topic, partition);
  }

  async deleteGroup(groupId: string): Promise<void> {
    const entries = this.committed(groupId);
    await this.append(
      entries.map((e) => ({ key: encodeOffsetKey(groupId, e.topic, e.partition), value: null })),
    );
    this.byGroup.delete(groupId);
  }

  groups(): string[] {
    return [...this.byGroup.keys()];
  }
}
