/**
 * protocol/: the Kafka wire format as bytes. No sockets, no files, no timers.
 * This is the module's public face; other modules import only from here.
 */

export {
  APIS,
  type ApiDef,
  type ApiKey,
  type Apis,
  apiByKey,
  type RequestBody,
  type RequestInput,
  type ResponseBody,
  type ResponseInput,
  SUPPORTED_APIS,
} from './apis.js';
export {
  compileMessage,
  defaultValue,
  generatedSource,
  isDefault,
  type MessageCodec,
  withDefaults,
} from './codec.js';
export { type CompressionCodec, CompressionType, compressionCodec } from './compression.js';
export {
  CONSUMER_PROTOCOL_MAX_VERSION,
  type ConsumerAssignment,
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  type ConsumerSubscription,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
} from './consumer-protocol.js';
export {
  CRC32C_IMPLEMENTATIONS,
  type Crc32cFunction,
  type Crc32cImplementation,
  crc32c,
  crc32cImplementation,
  crc32cImplementations,
  crc32cJs,
} from './crc32c.js';
export {
  ErrorCode,
  KAFKA_ERRORS,
  type KafkaError,
  type KafkaErrorName,
  kafkaError,
  kafkaErrorByName,
} from './errors.js';
export {
  API_VERSIONS_KEY,
  type DecodedRequest,
  type DecodeRequestOptions,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  isFlexible,
  MAX_REQUEST_ELEMENTS,
  peekRequestHeader,
  type RequestHeader,
} from './frame.js';
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
export {
  arr,
  type BodyOf,
  type DefaultValue,
  type Field,
  type FieldOptions,
  type FieldType,
  f,
  type InputOf,
  inRange,
  type MessageDef,
  type MessageKind,
  message,
  obj,
  parseRange,
  type Range,
  type RecordsIn,
  type RecordsOut,
  type ScalarType,
} from './schema.js';
