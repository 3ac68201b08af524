/**
 * transport/: how the processor, the registry and the connectors reach a Kafka log —
 * in-process (`embedded`, the broker's handlers without TCP) or any real cluster (`kafka`,
 * librdkafka). See types.ts for the contract both implementations meet.
 */
export { createEmbeddedTransport, EmbeddedTransport } from './embedded/transport.js';
export {
  createKafkaTransport,
  type KafkaConnectionOptions,
  type KafkaSasl,
  KafkaTransport,
  type KafkaTransportOptions,
  rdkafkaConnectionConfig,
  SASL_MECHANISM_CHOICES,
  type SaslMechanismChoice,
} from './kafka/index.js';
export { murmur2, partitionFor } from './partitioner.js';
export type {
  Admin,
  GroupConsumer,
  GroupConsumerOptions,
  GroupDescription,
  GroupMemberDescription,
  IncomingRecord,
  IsolationLevel,
  OutgoingRecord,
  PartitionReader,
  PartitionReaderOptions,
  Producer,
  ProducerOptions,
  RebalanceListener,
  RecordHeader,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
  Transport,
} from './types.js';
