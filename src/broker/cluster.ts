/**
 * Cluster: the broker's in-process API over log/ — topics, produce, fetch with long polling,
 * offsets by time, topic administration. The TCP handlers translate Kafka requests into these
 * calls; the embedded transport will call them directly (no TCP).
 *
 * A single node: this broker leads every partition, the high watermark is the log end.
 * Topic ids are derived from the topic name (a SHA-256 prefix shaped as a UUID), so they are
 * stable across restarts without extra state; a deleted and recreated topic gets the same id
 * (Kafka would give it a new one).
 *
 * Long polling: a fetch that finds fewer than minBytes waits until an append to one of its
 * partitions or maxWaitMs, then reads once more. Waiters are woken by appends made through
 * this Cluster (the only writer).
 *
 * Concurrency: one event loop. Errors from the log keep their Kafka codes (kafkaErrorCode);
 * per-partition failures never fail a whole request.
 */
import { createHash } from 'node:crypto';
import { isSluiceError } from '../common/index.js';
import { ErrorCode } from '../protocol/index.js';
import { realScheduler, type Scheduler } from './group-coordinator.js';
import type { AbortedTransaction, LogStore, PartitionLogPort, TopicDescription } from './log-port.js';

export interface ClusterOptions {
  logs: LogStore;
  node: { nodeId: number; host: string; port: number };
  clusterId?: string;
  /** auto.create.topics.enable (default true). */
  autoCreateTopics?: boolean;
  /** num.partitions for auto-created topics and CreateTopics with -1 (default 1). */
  defaultPartitions?: number;
  scheduler?: Scheduler;
}

export interface PartitionError {
  errorCode: number;
  errorMessage: string | null;
}

export interface ProduceResult extends PartitionError {
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
}

export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchPartitionResult extends PartitionError {
  topic: string;
  partition: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: AbortedTransaction[] | null;
  records: Buffer;
}

export interface FetchOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules: 1-249 of [a-zA-Z0-9._-], not '.' or '..'. */
export function topicNameError(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name.length > 249) return 'topic name is longer than 249 characters';
  if (name === '.' || name === '..') return `topic name cannot be '${name}'`;
  if (!LEGAL_TOPIC.test(name)) return `topic name '${name}' contains characters other than [a-zA-Z0-9._-]`;
  return null;
}

/** The records of an empty read: one shared zero-length buffer (nothing can be written into it). */
const NO_RECORDS = Buffer.alloc(0);

/** A produce that appended nothing: the error, offsets -1. */
export function produceFailure(e: PartitionError): ProduceResult {
  return {
    errorCode: e.errorCode,
    errorMessage: e.errorMessage,
    baseOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
  };
}

function produceSuccess(r: {
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
}): ProduceResult {
  return {
    errorCode: 0,
    errorMessage: null,
    baseOffset: r.baseOffset,
    logAppendTime: r.logAppendTime,
    logStartOffset: r.logStartOffset,
  };
}

function produceRejected(err: unknown): ProduceResult {
  return produceFailure(errorOf(err));
}

export function errorOf(err: unknown): PartitionError {
  if (isSluiceError(err)) {
    const code =
      err.kafkaErrorCode ??
      (err.code === 'NOT_FOUND'
        ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        : err.code === 'OFFSET_OUT_OF_RANGE'
          ? ErrorCode.OFFSET_OUT_OF_RANGE
          : err.code === 'INVALID_CONFIG'
            ? ErrorCode.INVALID_CONFIG
            : ErrorCode.UNKNOWN_SERVER_ERROR);
    return { errorCode: code, errorMessage: err.message };
  }
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: String(err) };
}

export class Cluster {
  readonly node: { nodeId: number; host: string; port: number };
  readonly clusterId: string;
  private readonly logs: LogStore;
  private readonly autoCreate: boolean;
  readonly defaultPartitions: number;
  private readonly scheduler: Scheduler;
  /** Fetches waiting for data, by "topic\0partition". */
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly topicIds = new Map<string, Buffer>();
  /** Topic id (hex) to name. */
  private readonly idIndex = new Map<string, string>();
  private nextProducerId: number;

  constructor(options: ClusterOptions) {
    this.logs = options.logs;
    this.node = options.node;
    this.clusterId = options.clusterId ?? 'sluice-cluster';
    this.autoCreate = options.autoCreateTopics ?? true;
    this.defaultPartitions = options.defaultPartitions ?? 1;
    this.scheduler = options.scheduler ?? realScheduler;
    // Producer ids must not repeat across restarts: start from the clock (µs), count up.
    this.nextProducerId = Date.now() * 1000;
  }

  // ---- topics ----

  topicId(name: string): Buffer {
    let id = this.topicIds.get(name);
    if (id === undefined) {
      id = createHash('sha256').update(`sluice-topic:${name}`).digest().subarray(0, 16);
      id[6] = ((id[6] as number) & 0x0f) | 0x40; // shaped as a version-4 UUID
      id[8] = ((id[8] as number) & 0x3f) | 0x80;
      this.topicIds.set(name, id);
    }
    return id;
  }

  /** The topic with this id; the index is rebuilt on a miss (topics may be created elsewhere). */
  topicById(id: Uint8Array): string | undefined {
    const key = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
    let name = this.idIndex.get(key);
    if (name === undefined) {
      this.idIndex.clear();
      for (const t of this.logs.topics()) this.idIndex.set(this.topicId(t.name).toString('hex'), t.name);
      name = this.idIndex.get(key);
    }
    return name !== undefined && this.logs.hasTopic(name) ? name : undefined;
  }

  topics(): TopicDescription[] {
    return this.logs.topics();
  }

  hasTopic(name: string): boolean {
    return this.logs.hasTopic(name);
  }

  describeTopic(name: string): TopicDescription | undefined {
    return this.logs.hasTopic(name) ? this.logs.describeTopic(name) : undefined;
  }

  /** Cheap: a map lookup in the log store (describeTopic resolves the whole config). */
  partitionExists(topic: string, partition: number): boolean {
    if (!Number.isInteger(partition) || partition < 0) return false;
    try {
      this.logs.getLog(topic, partition);
      return true;
    } catch {
      return false;
    }
  }

  get autoCreateTopics(): boolean {
    return this.autoCreate;
  }

  async createTopic(
    name: string,
    partitions: number,
    overrides: Record<string, unknown> = {},
    validateOnly = false,
  ): Promise<PartitionError> {
    const bad = topicNameError(name);
    if (bad !== null) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: bad };
    if (this.logs.hasTopic(name)) {
      return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `topic '${name}' already exists` };
    }
    const count = partitions === -1 ? this.defaultPartitions : partitions;
    if (!Number.isInteger(count) || count < 1) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `invalid partition count ${partitions}`,
      };
    }
    if (validateOnly) return { errorCode: 0, errorMessage: null };
    try {
      await this.logs.createTopic(name, count, overrides);
      return { errorCode: 0, errorMessage: null };
    } catch (err) {
      return errorOf(err);
    }
  }

  async deleteTopic(name: string): Promise<PartitionError> {
    if (!this.logs.hasTopic(name)) {
      return {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `topic '${name}' does not exist`,
      };
    }
    try {
      await this.logs.deleteTopic(name);
      this.topicIds.delete(name);
      return { errorCode: 0, errorMessage: null };
    } catch (err) {
      return errorOf(err);
    }
  }

  async createPartitions(name: string, count: number, validateOnly = false): Promise<PartitionError> {
    const d = this.describeTopic(name);
    if (d === undefined)
      return {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `topic '${name}' does not exist`,
      };
    if (count <= d.partitions) {
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `topic '${name}' already has ${d.partitions} partitions`,
      };
    }
    if (validateOnly) return { errorCode: 0, errorMessage: null };
    try {
      await this.logs.createPartitions(name, count);
      return { errorCode: 0, errorMessage: null };
    } catch (err) {
      return errorOf(err);
    }
  }

  alterTopicConfig(name: string, overrides: Record<string, unknown>, validateOnly = false): PartitionError {
    if (!this.logs.hasTopic(name)) {
      return {
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `topic '${name}' does not exist`,
      };
    }
    if (validateOnly) return { errorCode: 0, errorMessage: null };
    try {
      this.logs.alterTopicConfig(name, overrides);
      return { errorCode: 0, errorMessage: null };
    } catch (err) {
      return errorOf(err);
    }
  }

  /** For Metadata: creates a missing topic when auto-creation is on. */
  async ensureTopic(name: string): Promise<boolean> {
    if (this.logs.hasTopic(name)) return true;
    if (!this.autoCreate || topicNameError(name) !== null) return false;
    const r = await this.createTopic(name, this.defaultPartitions);
    return r.errorCode === 0 || r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS;
  }

  /** The partition's log; the store throws NOT_FOUND (Kafka code 3) for unknown ones. */
  private log(topic: string, partition: number): PartitionLogPort {
    return this.logs.getLog(topic, partition);
  }

  // ---- produce ----

  /**
   * Appends record batches to one partition; never throws (errors are in the result, at once
   * when the append is refused, else once the append is durable). Not an async function: one
   * promise per append on the broker's hottest path, not three.
   */
  produce(topic: string, partition: number, records: Buffer | null): ProduceResult | Promise<ProduceResult> {
    if (records === null || records.length === 0) {
      return produceFailure({ errorCode: ErrorCode.INVALID_RECORD, errorMessage: 'no record batch' });
    }
    let pending: ReturnType<PartitionLogPort['append']>;
    try {
      pending = this.log(topic, partition).append(records);
    } catch (err) {
      return produceFailure(errorOf(err));
    }
    // The batches are in the log (visible to reads) as soon as append returns: wake fetches now.
    this.wakeFetches(topic, partition);
    return pending.then(produceSuccess, produceRejected);
  }

  // ---- fetch ----

  private key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /**
   * Wakes the fetches waiting on a partition. Appends through this Cluster call it; so does
   * the broker when a transaction marker moves the last stable offset (markers are appended
   * by the transaction coordinator, not through produce).
   */
  wakeFetches(topic: string, partition: number): void {
    const set = this.waiters.get(this.key(topic, partition));
    if (set === undefined) return;
    this.waiters.delete(this.key(topic, partition));
    for (const wake of set) wake();
  }

  private readOnce(
    parts: readonly FetchPartitionRequest[],
    opts: FetchOptions,
  ): { results: FetchPartitionResult[]; bytes: number } {
    let budget = opts.maxBytes;
    let bytes = 0;
    const committed = opts.isolationLevel === 1;
    const results: FetchPartitionResult[] = [];
    for (const p of parts) {
      try {
        const log = this.log(p.topic, p.partition);
        // The first partition always gets at least one whole batch (the log guarantees it),
        // later ones only what is left of the response budget.
        const maxBytes = Math.max(
          0,
          Math.min(p.partitionMaxBytes, bytes === 0 ? Math.max(budget, 1) : budget),
        );
        const r =
          maxBytes === 0 && bytes > 0
            ? {
                records: NO_RECORDS,
                highWatermark: log.highWatermark,
                lastStableOffset: log.lastStableOffset,
                logStartOffset: log.logStartOffset,
              }
            : log.read(p.fetchOffset, { maxBytes, maxOffset: committed ? log.lastStableOffset : undefined });
        bytes += r.records.length;
        budget -= r.records.length;
        results.push({
          topic: p.topic,
          partition: p.partition,
          errorCode: 0,
          errorMessage: null,
          highWatermark: r.highWatermark,
          lastStableOffset: r.lastStableOffset,
          logStartOffset: r.logStartOffset,
          abortedTransactions: committed ? log.abortedTransactions(p.fetchOffset, r.lastStableOffset) : null,
          records: r.records,
        });
      } catch (err) {
        const e = errorOf(err);
        results.push({
          topic: p.topic,
          partition: p.partition,
          errorCode: e.errorCode,
          errorMessage: e.errorMessage,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          abortedTransactions: null,
          records: NO_RECORDS,
        });
      }
    }
    return { results, bytes };
  }

  /**
   * Whether a read now returns records or an error for some partition: its fetch offset is
   * below the readable end (high watermark, or last stable offset for read_committed), outside
   * the log, or the partition does not exist. Allocation-free, so a consumer that is caught up
   * (most fetches of a latency-sensitive one) goes to its long poll without a wasted read.
   */
  private readable(parts: readonly FetchPartitionRequest[], committed: boolean): boolean {
    for (const p of parts) {
      let log: PartitionLogPort;
      try {
        log = this.log(p.topic, p.partition);
      } catch {
        return true;
      }
      if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.logEndOffset) return true;
      if (p.fetchOffset < (committed ? log.lastStableOffset : log.highWatermark)) return true;
    }
    return false;
  }

  /** Reads the partitions; waits up to maxWaitMs for minBytes if there is less. */
  async fetch(parts: readonly FetchPartitionRequest[], opts: FetchOptions): Promise<FetchPartitionResult[]> {
    const mayWait = opts.maxWaitMs > 0 && parts.length > 0;
    if (!mayWait || opts.minBytes > 1 || this.readable(parts, opts.isolationLevel === 1)) {
      const first = this.readOnce(parts, opts);
      if (
        !mayWait ||
        first.bytes >= Math.max(1, opts.minBytes) ||
        first.results.some((r) => r.errorCode !== 0)
      ) {
        return first.results;
      }
    }
    await new Promise<void>((resolve) => {
      let done = false;
      const keys = parts.map((p) => this.key(p.topic, p.partition));
      const finish = () => {
        if (done) return;
        done = true;
        cancel();
        for (const k of keys) this.waiters.get(k)?.delete(finish);
        resolve();
      };
      const cancel = this.scheduler.schedule(opts.maxWaitMs, finish);
      for (const k of keys) {
        let set = this.waiters.get(k);
        if (set === undefined) {
          set = new Set();
          this.waiters.set(k, set);
        }
        set.add(finish);
      }
    });
    return this.readOnce(parts, opts).results;
  }

  // ---- offsets ----

  /** ListOffsets: -1 latest (or last stable for read_committed), -2 earliest, else by time. */
  listOffset(
    topic: string,
    partition: number,
    timestamp: number,
    isolationLevel: number,
  ): PartitionError & { offset: number; timestamp: number } {
    try {
      const log = this.log(topic, partition);
      if (timestamp === -1) {
        return {
          errorCode: 0,
          errorMessage: null,
          offset: isolationLevel === 1 ? log.lastStableOffset : log.highWatermark,
          timestamp: -1,
        };
      }
      if (timestamp === -2)
        return { errorCode: 0, errorMessage: null, offset: log.logStartOffset, timestamp: -1 };
      if (timestamp < 0) {
        return {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          errorMessage: `timestamp ${timestamp} is not supported`,
          offset: -1,
          timestamp: -1,
        };
      }
      const found = log.offsetForTimestamp(timestamp);
      return found === null
        ? { errorCode: 0, errorMessage: null, offset: -1, timestamp: -1 }
        : { errorCode: 0, errorMessage: null, offset: found.offset, timestamp: found.timestamp };
    } catch (err) {
      return { ...errorOf(err), offset: -1, timestamp: -1 };
    }
  }

  deleteRecords(topic: string, partition: number, offset: number): PartitionError & { lowWatermark: number } {
    try {
      const log = this.log(topic, partition);
      // As Kafka: a compact-only topic's records go by key, never by offset.
      if (!log.config['cleanup.policy'].includes('delete')) {
        return {
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: `records of '${topic}' can be deleted only if its cleanup.policy includes 'delete'`,
          lowWatermark: -1,
        };
      }
      const target = offset === -1 ? log.highWatermark : offset;
      // As Kafka (UnifiedLog.maybeIncrementLogStartOffset): below the log start is a no-op
      // answering the current start; only a negative offset or one past the high watermark fails.
      if (target < 0 || target > log.highWatermark) {
        return {
          errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
          errorMessage: `offset ${offset} outside the log`,
          lowWatermark: -1,
        };
      }
      return { errorCode: 0, errorMessage: null, lowWatermark: log.deleteRecordsBefore(target) };
    } catch (err) {
      return { ...errorOf(err), lowWatermark: -1 };
    }
  }

  /** InitProducerId for idempotent producers: a fresh id, epoch 0. */
  allocateProducerId(): { producerId: number; producerEpoch: number } {
    return { producerId: this.nextProducerId++, producerEpoch: 0 };
  }
}
