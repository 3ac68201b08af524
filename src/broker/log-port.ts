/**
 * What the broker needs from log/: the subset of `LogManager` and `PartitionLogApi` (log/'s
 * public contract, src/log/index.ts on the log branch) that the Cluster calls, written down
 * structurally because log/ is not on this branch yet. `LogManager` satisfies `LogStore` as is;
 * when the branches meet, these declarations can become `import type { … } from '../log/index.js'`
 * without touching the Cluster.
 *
 * Errors: log methods throw SluiceError with the Kafka code in `kafkaErrorCode`
 * (CORRUPT_RECORD 2, RECORD_TOO_LARGE 10, OFFSET_OUT_OF_RANGE 1, INVALID_RECORD 87,
 * OUT_OF_ORDER_SEQUENCE 45, INVALID_PRODUCER_EPOCH 47, ALREADY_EXISTS 36, NOT_FOUND 3, …).
 */

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** -1 for CreateTime topics. */
  logAppendTime: number;
  logStartOffset: number;
  /** An idempotent retry: nothing written, offsets of the original append. */
  duplicate: boolean;
}

export interface ReadResult {
  /** Whole stored batches, concatenated; empty when nothing to read. */
  records: Buffer;
  firstBatchBaseOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
}

export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

export interface TimestampLookup {
  offset: number;
  timestamp: number;
}

export interface PartitionLogPort {
  readonly topic: string;
  readonly partition: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  append(batches: Buffer): Promise<AppendResult>;
  /** OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset]. */
  read(offset: number, options: { maxBytes: number; maxOffset?: number }): ReadResult;
  abortedTransactions(fromOffset: number, toOffset: number): AbortedTransaction[];
  /** -1 latest, -2 earliest; null when no record has a timestamp >= ts. */
  offsetForTimestamp(ts: number): TimestampLookup | null;
  /** Advances the log start offset; returns the new one. */
  deleteRecordsBefore(offset: number): number;
  /** Appends a COMMIT/ABORT control batch (transaction coordinator only). */
  appendTxnMarker?(
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<AppendResult>;
  /** Idempotent/transactional producers known to this partition (DescribeProducers). */
  activeProducers?(): ActiveProducer[];
}

export interface ActiveProducer {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  /** First offset of its open transaction, -1 if none. */
  currentTxnStartOffset: number;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  /** Only the per-topic overrides (Kafka topic-config names). */
  overrides: object;
  /** Effective configuration (Kafka topic-config names). */
  config: object;
}

export interface LogStore {
  createTopic(name: string, partitions: number, overrides?: Record<string, unknown>): Promise<void>;
  createPartitions(name: string, newCount: number): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  alterTopicConfig(name: string, overrides: Record<string, unknown>): void;
  describeTopic(name: string): TopicDescription;
  topics(): TopicDescription[];
  hasTopic(name: string): boolean;
  getLog(topic: string, partition: number): PartitionLogPort;
}
