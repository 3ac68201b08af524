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
 */
export {
  type AbortedTransaction,
  type AppendOrigin,
  type AppendResult,
  DEFAULT_LOG_CONFIG,
  type LogConfig,
  type PartitionLogApi,
  type ReadOptions,
  type ReadResult,
  type TimestampLookup,
} from './types.js';
