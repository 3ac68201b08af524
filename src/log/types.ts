/**
 * The log's public types: configuration, durability policy, append/read results.
 *
 * Nothing here touches disk; see partition-log.ts and log-manager.ts for behaviour.
 * Config keys use Kafka's topic-config names so the broker can pass DescribeConfigs /
 * AlterConfigs / CreateTopics values straight through.
 */

/** Per-topic configuration, Kafka's names and meanings. Persisted by LogManager. */
export interface LogConfig {
  /** Roll the active segment when it would exceed this many bytes. Kafka default 1 GiB. */
  'segment.bytes': number;
  /** Roll the active segment when its first batch is older than this (by wall clock). Kafka default 7 days. */
  'segment.ms': number;
  /** Delete whole segments whose newest timestamp is older than this; -1 = never. */
  'retention.ms': number;
  /** Delete the oldest whole segments while the partition is larger than this; -1 = unlimited. */
  'retention.bytes': number;
  /** 'delete', 'compact' or 'compact,delete'. */
  'cleanup.policy': 'delete' | 'compact' | 'compact,delete';
  /** How long a tombstone survives after compaction first sees it. */
  'delete.retention.ms': number;
  /** A record is not compacted until it is at least this old. */
  'min.compaction.lag.ms': number;
  /** Compact when dirty bytes / total cleanable bytes reaches this ratio. */
  'min.cleanable.dirty.ratio': number;
  /** CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock. */
  'message.timestamp.type': 'CreateTime' | 'LogAppendTime';
  /** Largest record batch accepted, in bytes (whole batch including its 61-byte header). */
  'max.message.bytes': number;
  /** Bytes of log between sparse index entries. */
  'index.interval.bytes': number;
  /**
   * Durability: 0 = fsync before acknowledging every append (appends waiting at the same time
   * share one fsync: group commit); N > 0 = fsync every N ms and acknowledge on that fsync;
   * -1 = leave it to the OS (acknowledge once written to the page cache).
   */
  'flush.ms': number;
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  'segment.bytes': 1024 * 1024 * 1024,
  'segment.ms': 7 * 24 * 3600 * 1000,
  'retention.ms': 7 * 24 * 3600 * 1000,
  'retention.bytes': -1,
  'cleanup.policy': 'delete',
  'delete.retention.ms': 24 * 3600 * 1000,
  'min.compaction.lag.ms': 0,
  'min.cleanable.dirty.ratio': 0.5,
  'message.timestamp.type': 'CreateTime',
  'max.message.bytes': 1024 * 1024 + 12,
  'index.interval.bytes': 4096,
  'flush.ms': 0,
});

/** What an append produced. Offsets are JS numbers (exact to 2^53). */
export interface AppendResult {
  /** Offset of the first record of the first batch appended. */
  baseOffset: number;
  /** Offset of the last record of the last batch appended. */
  lastOffset: number;
  /** The broker's timestamp for LogAppendTime topics; -1 for CreateTime (as Kafka's produce response). */
  logAppendTime: number;
  /** logStartOffset at the time of the append (Kafka returns it in the produce response). */
  logStartOffset: number;
  /**
   * True when the batch was an idempotent retry of one already in the log: nothing was written
   * and the offsets are those of the original append.
   */
  duplicate: boolean;
}

export interface ReadOptions {
  /** Upper bound on bytes returned, except that the first batch is always returned whole. */
  maxBytes: number;
  /** Exclusive upper offset bound (e.g. the last stable offset for read_committed). Default: log end. */
  maxOffset?: number;
}

export interface ReadResult {
  /** Whole record batches, exactly as stored, concatenated. Empty when there is nothing to read. */
  records: Buffer;
  /** Offset of the first batch in `records` (may be below the requested offset), -1 if empty. */
  firstBatchBaseOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
}

/** An aborted transaction overlapping a fetch, as the Fetch response lists them. */
export interface AbortedTransaction {
  producerId: number;
  /** Offset of the transaction's first batch. */
  firstOffset: number;
  /** Offset of the ABORT marker. */
  lastOffset: number;
}

export interface TimestampLookup {
  offset: number;
  timestamp: number;
}

/** Who is appending: clients go through sequence/epoch checks; the coordinator writes markers. */
export type AppendOrigin = 'client' | 'coordinator' | 'replication';

/**
 * One partition's log. Implemented by PartitionLog; written down here so callers (the broker)
 * depend on the contract, not the class.
 *
 * Concurrency: every method is called from one event loop. `append` assigns offsets and writes
 * synchronously, in call order, and returns a promise that settles when the append is durable
 * under the topic's `flush.ms` policy. Reads never see a partially written batch.
 */
export interface PartitionLogApi {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  /** First readable offset. */
  readonly logStartOffset: number;
  /** Offset the next appended record gets. */
  readonly logEndOffset: number;
  /** Single-replica broker: equal to logEndOffset. */
  readonly highWatermark: number;
  /** First offset of the earliest open transaction, or the high watermark if none is open. */
  readonly lastStableOffset: number;
  /** Bytes on disk across all segments. */
  readonly size: number;
  readonly config: Readonly<LogConfig>;

  /**
   * Appends one or more record batches (v2 bytes, concatenated, as in a Produce request).
   * Validates every batch (length, magic, CRC, record count, size, producer sequence/epoch)
   * before writing anything: on error nothing is appended and a SluiceError is thrown.
   */
  append(batches: Buffer, origin?: AppendOrigin): Promise<AppendResult>;
  /** Writes a COMMIT or ABORT control batch for a producer's open transaction. */
  appendTxnMarker(
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<AppendResult>;
  /** Producers with state in this partition (DescribeProducers). */
  activeProducers(): ActiveProducer[];
  /** Whole batches from the one containing `offset`; OFFSET_OUT_OF_RANGE outside [logStart, logEnd]. */
  read(offset: number, options: ReadOptions): ReadResult;
  /** Aborted transactions overlapping [fromOffset, toOffset), for read_committed fetches. */
  abortedTransactions(fromOffset: number, toOffset: number): AbortedTransaction[];
  /** First offset whose timestamp is >= ts (Kafka ListOffsets); -1 latest, -2 earliest, -3 max timestamp. Null if none. */
  offsetForTimestamp(ts: number): TimestampLookup | null;
  /** Removes every batch at or after `offset`'s batch; the log end becomes that batch's base offset. */
  truncateTo(offset: number): void;
  /** Advances the log start offset (DeleteRecords); whole segments below it are deleted. */
  deleteRecordsBefore(offset: number): number;
  /** Forces an fsync of everything written so far. */
  flush(): Promise<void>;
  /** Deletes whole segments past retention.ms / retention.bytes. Returns segments deleted. */
  enforceRetention(now?: number): number;
  /** Compacts (cleanup.policy=compact) in the background; resolves with bytes cleaned, 0 if skipped. */
  compact(now?: number): Promise<number>;
  updateConfig(config: Partial<LogConfig>): void;
  /** Flushes, writes indexes, producer snapshot and the clean-shutdown marker. */
  close(): Promise<void>;
}

/** A producer known to one partition: idempotence and open-transaction state (DescribeProducers). */
export interface ActiveProducer {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  /** First offset of its open transaction, -1 if none. */
  currentTxnStartOffset: number;
}
