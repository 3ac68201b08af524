/**
 * Sluice's package entry: the public API for applications that embed it.
 * Modules are re-exported here as they land.
 */
export {
  createLogger,
  ERROR_CODES,
  type ErrorCode,
  isSluiceError,
  SLUICE_VERSION,
  SluiceError,
} from './common/index.js';
export {
  CallbackChangeSink,
  type ChangeRecord,
  type ChangeSink,
  FileChangeSink,
  FileOffsetStore,
  KafkaChangeSink,
  KafkaOffsetStore,
  MemoryChangeSink,
  MemoryOffsetStore,
  type OffsetStore,
  type PostgresCdcOptions,
  PostgresCdcSource,
  readFileSinkRecords,
  type SourceOffset,
} from './connectors/index.js';
export {
  createRegistryServer,
  deserializer,
  FileStorage,
  MemoryStorage,
  RegistryClient,
  type RegistryServer,
  type RegistryStorage,
  SchemaRegistry,
  serializer,
} from './registry/index.js';
