/**
 * The bytes at the Kafka boundary of a stream application: how record keys and values become
 * Kafka bytes on output and back on input, which partition an output record goes to, and the
 * watermark control records of repartition topics.
 *
 * Format:
 *   - User topics. Keys: null stays null, bytes as is, a string as UTF-8, anything else JSON;
 *     read back as a UTF-8 string (null stays null). Values: the sink's serde ran already
 *     (SinkOperator), else bytes as is, a string as UTF-8, anything else JSON; read as raw
 *     bytes unless the input has a serde (InputOptions.serde: stringSerde, jsonSerde(),
 *     bytesSerde, or a registry serde — see SerdeHook).
 *   - Repartition topics (internal): key and value JSON, with bytes tagged so they round-trip.
 *     Control records (null key and value, header `sluice.wm` = the upstream task's watermark
 *     as decimal text or `idle`, `sluice.task` = its task id) carry event time across the
 *     shuffle.
 *   - Dead letters and late records go to `<app id>-dead-letters` / `<app id>-late-records`
 *     as JSON (the error as its message).
 * Partitioning: a record with a key goes to partitionFor(key bytes) (Kafka's murmur2, where the
 * Java client would put it); a record with a null key goes to the task's own partition modulo
 * the output's partition count, so it keeps its order relative to the task's input.
 *
 * Concurrency: one stream thread. Nothing here writes; OutputBuffer only holds records until
 * the commit hands them to the producer inside the open transaction.
 */

import type { IncomingRecord, OutgoingRecord, RecordHeader } from '../../transport/index.js';
import { partitionFor } from '../../transport/index.js';
import type { Sink } from './io.js';
import type { StreamRecord } from './record.js';

export const WATERMARK_HEADER = 'sluice.wm';
/** Kafka's default retention.ms (7 days), for the old-timestamp warning of TopicSink. */
const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
export const TASK_HEADER = 'sluice.task';

/**
 * Hook for serdes that need I/O before the first record (a schema-registry serde fetching or
 * registering its schema): the runtime awaits `prepare(topic)` on every input and sink serde
 * that has it, once at start, before any record flows. Synchronous serialize/deserialize stay
 * the hot path.
 */
export interface SerdeHook {
  prepare?(topic: string): Promise<void>;
}

function internalReplacer(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
    return { __bytes: Buffer.from((v as { data: number[] }).data).toString('base64') };
  }
  if (v instanceof Uint8Array) return { __bytes: Buffer.from(v).toString('base64') };
  if (typeof v === 'bigint') return { __bigint: v.toString() };
  if (v === undefined) return { __undefined: true };
  return v;
}

function internalReviver(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object') {
    const o = v as { __bytes?: string; __bigint?: string; __undefined?: boolean };
    if (typeof o.__bytes === 'string') return Buffer.from(o.__bytes, 'base64');
    if (typeof o.__bigint === 'string') return BigInt(o.__bigint);
    if (o.__undefined === true) return undefined;
  }
  return v;
}

export function encodeInternal(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v, internalReplacer) ?? 'null', 'utf8');
}

export function decodeInternal(b: Buffer | null): unknown {
  if (b === null) return null;
  return JSON.parse(b.toString('utf8'), internalReviver);
}

function errorJson(_k: string, v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message };
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** Bytes of a user-topic key or value (see the header). */
export function encodeUser(v: unknown, forDeadLetters = false): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.from(JSON.stringify(v, forDeadLetters ? errorJson : undefined) ?? 'null', 'utf8');
}

/** A polled Kafka record as the StreamRecord a source operator ingests. */
export function toStreamRecordParts(
  r: IncomingRecord,
  internal: boolean,
): { key: unknown; value: unknown; timestamp: number } {
  if (internal) return { key: decodeInternal(r.key), value: decodeInternal(r.value), timestamp: r.timestamp };
  return { key: r.key === null ? null : r.key.toString('utf8'), value: r.value, timestamp: r.timestamp };
}

/**
 * The upstream watermark a control record carries ('idle': the upstream task's inputs are all
 * idle, so it holds nobody back), or undefined for a data record.
 */
export function controlWatermark(r: IncomingRecord): { wm: number | 'idle'; task: string } | undefined {
  if (r.value !== null || r.key !== null || r.headers.length === 0) return undefined;
  let wm: number | 'idle' | undefined;
  let task = '';
  for (const h of r.headers) {
    if (h.key === WATERMARK_HEADER && h.value !== null) {
      const text = h.value.toString('utf8');
      wm = text === 'idle' ? 'idle' : Number(text);
    } else if (h.key === TASK_HEADER && h.value !== null) task = h.value.toString('utf8');
  }
  return wm === undefined ? undefined : { wm, task };
}

export function controlRecord(wm: number | 'idle', taskId: string): OutgoingRecord {
  const headers: RecordHeader[] = [
    { key: WATERMARK_HEADER, value: Buffer.from(String(wm)) },
    { key: TASK_HEADER, value: Buffer.from(taskId) },
  ];
  return { key: null, value: null, timestamp: Date.now(), headers };
}

/**
 * Watermark of a repartition partition: the minimum over the upstream tasks' latest
 * watermarks, −∞ until every one of the `upstreamTasks` has reported. An upstream task whose
 * inputs are idle (InputOptions.idleness) is left out of the minimum until it reports a
 * watermark again, as an idle partition is inside a task; when all are idle, the largest
 * watermark any of them reported (as Flink's StatusWatermarkValve flushes).
 */
export class UpstreamWatermarks {
  private readonly byTask = new Map<string, number>();
  private readonly idle = new Set<string>();
  /**
   * `persist` (the runtime passes a changelogged keyed state) keeps what was reported across a
   * restore: control records before the committed offset are never read again, and upstream
   * tasks only report when their watermark changes.
   */
  constructor(
    readonly upstreamTasks: number,
    private readonly persist?: {
      get(task: string): { wm: number | null; idle: boolean } | undefined;
      put(task: string, v: { wm: number | null; idle: boolean }): void;
    },
    taskIds: readonly string[] = [],
  ) {
    for (const t of taskIds) {
      const saved = persist?.get(t);
      if (saved === undefined) continue;
      this.byTask.set(t, saved.wm ?? Number.NEGATIVE_INFINITY);
      if (saved.idle) this.idle.add(t);
    }
  }
  update(task: string, wm: number | 'idle'): number {
    if (wm === 'idle') {
      this.idle.add(task);
      if (!this.byTask.has(task)) this.byTask.set(task, Number.NEGATIVE_INFINITY);
    } else {
      this.idle.delete(task);
      const prev = this.byTask.get(task);
      if (prev === undefined || wm > prev) this.byTask.set(task, wm);
    }
    const v = this.byTask.get(task) as number;
    this.persist?.put(task, { wm: Number.isFinite(v) ? v : null, idle: this.idle.has(task) });
    return this.current();
  }
  current(): number {
    if (this.byTask.size < this.upstreamTasks) return Number.NEGATIVE_INFINITY;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const [task, v] of this.byTask) {
      if (v > max) max = v;
      if (!this.idle.has(task) && v < min) min = v;
    }
    // All idle: the largest watermark any of them reached (Flink's StatusWatermarkValve).
    return min === Number.POSITIVE_INFINITY ? max : min;
  }
}

/** Per (topic, partition), the records a task wrote since its last commit. */
export interface PendingOutput {
  readonly topic: string;
  readonly partition: number;
  readonly records: OutgoingRecord[];
  /** Event timestamps, for the end-to-end latency metric. */
  readonly eventTimes: number[];
}

/**
 * A task's sink for one topic: encodes and partitions on write, holds the records until the
 * commit drains them into the producer (inside the transaction with exactly_once).
 */
export class TopicSink implements Sink {
  readonly pending = new Map<number, PendingOutput>();
  written = 0;
  private checkedAge = false;
  constructor(
    readonly name: string,
    readonly topic: string,
    private readonly partitions: number,
    private readonly taskPartition: number,
    private readonly kind: 'user' | 'internal' | 'dead-letters',
    /**
     * Called once per sink with the first user-topic record whose timestamp is older than
     * Kafka's default retention (7 days): such records vanish from a topic with default time
     * retention at its next retention pass (see docs/stream-on-kafka.md).
     */
    private readonly onOldTimestamp?: (topic: string, timestamp: number) => void,
  ) {}

  write(records: readonly StreamRecord[]): void {
    if (!this.checkedAge && this.kind === 'user' && records.length > 0) {
      this.checkedAge = true;
      const ts = records[0].timestamp;
      if (Date.now() - ts > DEFAULT_RETENTION_MS) this.onOldTimestamp?.(this.topic, ts);
    }
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      let key: Buffer | null;
      let value: Buffer | null;
      if (this.kind === 'internal') {
        key = encodeInternal(r.key);
        value = encodeInternal(r.value);
      } else {
        key = encodeUser(r.key, this.kind === 'dead-letters');
        value = encodeUser(r.value, this.kind === 'dead-letters');
      }
      const p = key === null ? this.taskPartition % this.partitions : partitionFor(key, this.partitions);
      let out = this.pending.get(p);
      if (out === undefined) {
        out = { topic: this.topic, partition: p, records: [], eventTimes: [] };
        this.pending.set(p, out);
      }
      out.records.push({ key, value, timestamp: r.timestamp });
      out.eventTimes.push(r.timestamp);
    }
    this.written += records.length;
  }

  /** Hands the buffered records to the caller and forgets them. */
  drain(): PendingOutput[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  abort(): void {
    this.pending.clear();
  }
}
