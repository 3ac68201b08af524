/**
 * protocol/: the Kafka wire format as bytes. No sockets, no files, no timers.
 * This is the module's public face; other modules import only from here.
 */

export { type CompressionCodec, CompressionType, compressionCodec } from './compression.js';
export { crc32c, crc32cImplementation, crc32cJs } from './crc32c.js';
export { ByteReader, ByteWriter } from './primitives.js';
export {
  BATCH_HEADER_SIZE,
  BatchOffsets,
  batchRecordsRegion,
  type ControlRecord,
  ControlRecordType,
  computeBatchCrc,
  type DecodedRecord,
  type DecodedRecordBatch,
  decodeControlRecord,
  decodeRecordBatch,
  encodeControlRecordKey,
  encodeRecordBatch,
  encodeTxnMarkerBatch,
  LOG_OVERHEAD,
  MAGIC_V2,
  type RecordBatchHeader,
  type RecordBatchInput,
  type RecordHeader,
  type RecordInput,
  readBaseOffset,
  readBatchHeader,
  readControlBatch,
  scanRecordKeys,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  TimestampType,
  validateBatch,
  validateBatches,
} from './record-batch.js';
