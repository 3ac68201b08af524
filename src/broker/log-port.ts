/**
 * What the broker needs from log/: the subset of `LogManager` and `PartitionLogApi` (log/'s
 * public contract, src/log/index.ts) that the Cluster and the offset store call. `LogManager`
 * is the production `LogStore`; the types come from log/ so the two cannot drift apart.
 *
 * Errors: log methods throw SluiceError with the Kafka code in `kafkaErrorCode`
 * (CORRUPT_RECORD 2, RECORD_TOO_LARGE 10, OFFSET_OUT_OF_RANGE 1, INVALID_RECORD 87,
 * OUT_OF_ORDER_SEQUENCE 45, INVALID_PRODUCER_EPOCH 47, ALREADY_EXISTS 36, NOT_FOUND 3, …).
 */
import type { LogManager, PartitionLogApi } from '../log/index.js';

export type {
  AbortedTransaction,
  ActiveProducer,
  AppendResult,
  ReadResult,
  TimestampLookup,
  TopicDescription,
} from '../log/index.js';

/** One partition's log as the broker uses it. */
export type PartitionLogPort = PartitionLogApi;

/** The partition logs of one broker: log/'s LogManager. */
export type LogStore = Pick<
  LogManager,
  | 'createTopic'
  | 'createPartitions'
  | 'deleteTopic'
  | 'alterTopicConfig'
  | 'describeTopic'
  | 'topics'
  | 'hasTopic'
  | 'getLog'
>;
