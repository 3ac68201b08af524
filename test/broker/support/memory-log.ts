/**
 * An in-memory stand-in for log/'s LogManager (the `LogStore` port), for broker tests on a
 * branch without log/. It keeps record batches as received, assigns offsets by patching each
 * batch's base offset (outside the CRC, as the real log does), returns whole batches on read,
 * and finds offsets by batch max timestamp. No durability, compaction, retention or producer
 * state: those belong to log/ and its own tests.
 */

import type {
  AppendResult,
  LogStore,
  PartitionLogPort,
  ReadResult,
  TopicDescription,
} from '../../../src/broker/index.js';
import { SluiceError } from '../../../src/common/index.js';

const DEFAULTS: Record<string, unknown> = {
  'cleanup.policy': 'delete',
  'retention.ms': 604800000,
  'max.message.bytes': 1048588,
  'segment.bytes': 1073741824,
  'flush.ms': 0,
};

interface Batch {
  base: number;
  last: number;
  maxTimestamp: number;
  bytes: Buffer;
}

export class MemoryPartitionLog implements PartitionLogPort {
  private batches: Batch[] = [];
  logStartOffset = 0;
  logEndOffset = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get highWatermark(): number {
    return this.logEndOffset;
  }

  get lastStableOffset(): number {
    return this.logEndOffset;
  }

  async append(buf: Buffer): Promise<AppendResult> {
    const parsed: Buffer[] = [];
    for (let pos = 0; pos < buf.length; ) {
      if (pos + 61 > buf.length)
        throw new SluiceError('CORRUPT_RECORD', 'truncated batch header', { kafkaErrorCode: 2 });
      const size = 12 + buf.readInt32BE(pos + 8);
      if (buf[pos + 16] !== 2 || pos + size > buf.length)
        throw new SluiceError('CORRUPT_RECORD', 'bad batch', { kafkaErrorCode: 2 });
      parsed.push(Buffer.from(buf.subarray(pos, pos + size)));
      pos += size;
    }
    const base = this.logEndOffset;
    for (const b of parsed) {
      b.writeBigInt64BE(BigInt(this.logEndOffset), 0);
      const last = this.logEndOffset + b.readInt32BE(23);
      this.batches.push({
        base: this.logEndOffset,
        last,
        maxTimestamp: Number(b.readBigInt64BE(35)),
        bytes: b,
      });
      this.logEndOffset = last + 1;
    }
    return {
      baseOffset: base,
      lastOffset: this.logEndOffset - 1,
      logAppendTime: -1,
      logStartOffset: this.logStartOffset,
      duplicate: false,
    };
  }

  read(offset: number, options: { maxBytes: number; maxOffset?: number }): ReadResult {
    if (offset < this.logStartOffset || offset > this.logEndOffset) {
      throw new SluiceError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} outside [${this.logStartOffset}, ${this.logEndOffset}]`,
        {
          kafkaErrorCode: 1,
        },
      );
    }
    const limit = options.maxOffset ?? this.logEndOffset;
    const out: Buffer[] = [];
    let total = 0;
    for (const b of this.batches) {
      if (b.last < offset || b.base >= limit) continue;
      if (out.length > 0 && total + b.bytes.length > options.maxBytes) break;
      out.push(b.bytes);
      total += b.bytes.length;
    }
    return {
      records: Buffer.concat(out),
      firstBatchBaseOffset: this.batches.find((b) => b.last >= offset)?.base ?? -1,
      highWatermark: this.highWatermark,
      lastStableOffset: this.lastStableOffset,
      logStartOffset: this.logStartOffset,
    };
  }

  abortedTransactions(): [] {
    return [];
  }

  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    if (ts === -1) return { offset: this.logEndOffset, timestamp: -1 };
    if (ts === -2) return { offset: this.logStartOffset, timestamp: -1 };
    const b = this.batches.find((x) => x.last >= this.logStartOffset && x.maxTimestamp >= ts);
    return b === undefined
      ? null
      : { offset: Math.max(b.base, this.logStartOffset), timestamp: b.maxTimestamp };
  }

  deleteRecordsBefore(offset: number): number {
    this.logStartOffset = Math.max(this.logStartOffset, offset);
    this.batches = this.batches.filter((b) => b.last >= this.logStartOffset);
    return this.logStartOffset;
  }
}

export class MemoryLogStore implements LogStore {
  private readonly topicMap = new Map<
    string,
    { logs: MemoryPartitionLog[]; overrides: Record<string, unknown> }
  >();

  async createTopic(
    name: string,
    partitions: number,
    overrides: Record<string, unknown> = {},
  ): Promise<void> {
    if (this.topicMap.has(name))
      throw new SluiceError('ALREADY_EXISTS', `topic ${name} exists`, { kafkaErrorCode: 36 });
    for (const k of Object.keys(overrides)) {
      if (!(k in DEFAULTS))
        throw new SluiceError('INVALID_CONFIG', `unknown config ${k}`, { kafkaErrorCode: 40 });
    }
    this.topicMap.set(name, {
      logs: Array.from({ length: partitions }, (_, i) => new MemoryPartitionLog(name, i)),
      overrides: { ...overrides },
    });
  }

  async createPartitions(name: string, newCount: number): Promise<void> {
    const t = this.require(name);
    for (let i = t.logs.length; i < newCount; i++) t.logs.push(new MemoryPartitionLog(name, i));
  }

  async deleteTopic(name: string): Promise<void> {
    this.require(name);
    this.topicMap.delete(name);
  }

  alterTopicConfig(name: string, overrides: Record<string, unknown>): void {
    const t = this.require(name);
    for (const [k, v] of Object.entries(overrides)) {
      if (!(k in DEFAULTS))
        throw new SluiceError('INVALID_CONFIG', `unknown config ${k}`, { kafkaErrorCode: 40 });
      if (v === null) delete t.overrides[k];
      else t.overrides[k] = v;
    }
  }

  describeTopic(name: string): TopicDescription {
    const t = this.require(name);
    return {
      name,
      partitions: t.logs.length,
      overrides: { ...t.overrides },
      config: { ...DEFAULTS, ...t.overrides },
    };
  }

  topics(): TopicDescription[] {
    return [...this.topicMap.keys()].map((n) => this.describeTopic(n));
  }

  hasTopic(name: string): boolean {
    return this.topicMap.has(name);
  }

  getLog(topic: string, partition: number): MemoryPartitionLog {
    const log = this.require(topic).logs[partition];
    if (log === undefined)
      throw new SluiceError('NOT_FOUND', `no partition ${topic}-${partition}`, { kafkaErrorCode: 3 });
    return log;
  }

  private require(name: string) {
    const t = this.topicMap.get(name);
    if (t === undefined) throw new SluiceError('NOT_FOUND', `unknown topic '${name}'`, { kafkaErrorCode: 3 });
    return t;
  }
}
