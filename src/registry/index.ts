/**
 * The schema registry's public face: the Confluent-compatible REST server, the registry
 * service behind it, its storage interface (memory, file, and the `_schemas` topic over
 * transport/), and the wire-format serdes with their caching client.
 */
export { compatibilityMessages } from './compatibility.js';
export { httpStatusOf, RegistryErrorCodes, registryError, registryErrorCodeOf } from './errors.js';
export type { CompatibilityIssue } from './formats/provider.js';
export { decodeRecord, encodeRecordKey, encodeRecordValue } from './records.js';
export {
  providerFor,
  type RegisterRequest,
  type SchemaById,
  SchemaRegistry,
  type SubjectVersion,
} from './registry.js';
export {
  type DeserializerOptions,
  decodeMessageIndexes,
  decodeWire,
  deserializer,
  encodeMessageIndexes,
  encodeWire,
  MAGIC_BYTE,
  RegistryClient,
  type RegistryClientOptions,
  type SerializerOptions,
  serializer,
} from './serdes.js';
export {
  buildRegistryApp,
  createRegistryServer,
  DEFAULT_BODY_LIMIT,
  REGISTRY_CONTENT_TYPES,
  type RegistryServer,
  type RegistryServerOptions,
} from './server.js';
export { FileStorage, MemoryStorage, type RegistryStorage, SCHEMAS_LOG_FILE } from './storage.js';
export {
  BATCH_HEADER,
  SCHEMAS_TOPIC,
  TopicStorage,
  type TopicStorageOptions,
  WRITER_HEADER,
} from './topic-storage.js';
export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  DEFAULT_COMPATIBILITY,
  MODES,
  type Mode,
  type RegistryKey,
  type RegistryRecord,
  type RegistryValue,
  SCHEMA_TYPES,
  type SchemaInput,
  type SchemaReference,
  type SchemaType,
  type SchemaValue,
} from './types.js';
