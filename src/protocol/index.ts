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
export { compileMessage, defaultValue, generatedSource, isDefault, type MessageCodec } from './codec.js';
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
