/**
 * log/: Sluice's storage engine. Public face of the module; other modules import only this.
 *
 * - `LogManager` owns a data directory of `<topic>-<partition>` partition logs, with per-topic
 *   configuration persisted, and runs retention, compaction and interval flushes.
 * - `PartitionLog` (contract: `PartitionLogApi`) stores Kafka record batches v2 exactly as
 *   received: append assigns offsets in place, read returns whole stored batches.
 *
 * Typical broker use:
 *   const logs = await LogManager.open({ dataDir });
 *   await logs.createTopic('orders', 3, { 'cleanup.policy': 'compact' });
 *   const log = logs.getLog('orders', 0);
 *   const { baseOffset } = await log.append(recordsFromProduceRequest);
 *   const { records } = log.read(fetchOffset, { maxBytes: partitionMaxBytes });
 *   await logs.close(); // clean shutdown: the next open skips recovery
 *
 * Contract notes for callers:
 * - `append(bytes)` takes ownership of `bytes`: baseOffset, partitionLeaderEpoch (and for
 *   LogAppendTime topics the timestamp fields and CRC) are patched in place. Offsets are
 *   assigned synchronously in call order; the promise settles when durable under flush.ms.
 * - read_committed fetch: `read(offset, { maxBytes, maxOffset: log.lastStableOffset })` plus
 *   `log.abortedTransactions(offset, lastOffsetReturned + 1)` for the response.
 * - Transaction markers: the coordinator calls `appendTxnMarker(pid, epoch, commit, coordEpoch)`
 *   (origin 'coordinator'); clients may not write control batches.
 * - `LogManager.start()` runs retention + compaction every maintenanceIntervalMs (unref'd
 *   timer); `runMaintenance()` does one pass on demand.
 * - ListOffsets: `offsetForTimestamp(ts)`, also -1 latest, -2 earliest, -3 max timestamp.
 *
 * Errors are SluiceErrors carrying the Kafka error code in `kafkaErrorCode`:
 *   CORRUPT_RECORD (2, or 43 for a wrong magic)  bad length / magic / CRC: nothing appended
 *   RECORD_TOO_LARGE (10)  batch above max.message.bytes
 *   INVALID_RECORD (87)    client control batch, empty batch, keyless record on a compacted topic
 *   OUT_OF_ORDER_SEQUENCE (45), INVALID_PRODUCER_EPOCH (47), INVALID_TXN_STATE (48)
 *   OFFSET_OUT_OF_RANGE (1)  read/deleteRecords outside [logStartOffset, logEndOffset]
 *   NOT_FOUND (3)          unknown topic or partition;  ALREADY_EXISTS (36);  INVALID_CONFIG (40)
 *   IO                     a write or fsync failed: the log refuses further appends
 * Idempotent retries are not errors: `append` resolves with `duplicate: true` and the offsets
 * of the original batch.
 */

export { resolveConfig } from './config.js';
export { LogManager, type LogManagerOptions, type TopicDescription } from './log-manager.js';
export { type OpenReport, PartitionLog, type PartitionLogOptions } from './partition-log.js';
export {
  type AbortedTransaction,
  type ActiveProducer,
  type AppendOrigin,
  type AppendResult,
  DEFAULT_LOG_CONFIG,
  type LogConfig,
  type PartitionLogApi,
  type ReadOptions,
  type ReadResult,
  type TimestampLookup,
} from './types.js';
