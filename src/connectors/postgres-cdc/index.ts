/**
 * Change data capture from Postgres, Debezium-compatible: the public face of
 * connectors/postgres-cdc. See connector.ts for the no-loss invariant and crash behaviour.
 */
export { type PostgresCdcOptions, PostgresCdcSource, type SnapshotProgress } from './connector.js';
export {
  AvroEncoder,
  connectToAvro,
  type Format,
  JsonEncoder,
  type Op,
  TableModel,
  toJson,
} from './envelope.js';
export { FileChangeSink, FileOffsetStore, readFileSinkRecords } from './file-sink.js';
export { KafkaChangeSink, KafkaOffsetStore, type KafkaSinkOptions } from './kafka-sink.js';
export { formatLsn, parseLsn } from './lsn.js';
export {
  CallbackChangeSink,
  type ChangeRecord,
  type ChangeSink,
  MemoryChangeSink,
  MemoryOffsetStore,
  type OffsetStore,
  type SourceOffset,
} from './sink.js';
export { bytesToBigint, type ConnectSchema, type DecimalMode, UNAVAILABLE_VALUE } from './types.js';
