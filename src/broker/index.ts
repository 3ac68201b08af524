/**
 * broker/: the embedded Kafka-compatible broker. Public face of the module.
 *
 * `Broker.start(config)` runs a single-node Kafka-compatible broker on log/'s LogManager: the
 * TCP server (framing, decoding, in-order dispatch to per-API handlers, bad-input handling),
 * the `Cluster` API (in-process data plane), the group coordinator and committed offsets in
 * `__consumer_offsets`.
 */

export { Broker, type BrokerDeps } from './broker.js';
export {
  Cluster,
  type ClusterOptions,
  errorOf,
  type FetchOptions,
  type FetchPartitionRequest,
  type FetchPartitionResult,
  type PartitionError,
  type ProduceResult,
  topicNameError,
} from './cluster.js';
export { type BrokerConfig, type ConfigSources, resolveBrokerConfig } from './config.js';
export { FrameSplitter } from './framing.js';
export {
  GroupCoordinator,
  type GroupCoordinatorOptions,
  type GroupDescription,
  type GroupState,
  type JoinRequest,
  type JoinResult,
  type MemberDescription,
  type Protocol,
  realScheduler,
  type Scheduler,
  type SyncRequest,
  type SyncResult,
} from './group-coordinator.js';
export {
  type ApiRange,
  apiVersionsResponse,
  unsupportedApiVersionsResponse,
} from './handlers/18-api-versions.js';
export { clusterHandlers } from './handlers/cluster-handlers.js';
export type { BrokerNode, GroupHandlerContext } from './handlers/context.js';
export { groupHandlers } from './handlers/group-handlers.js';
export type { TxnHandlerContext } from './handlers/txn-context.js';
export { txnHandlers } from './handlers/txn-handlers.js';
export {
  decodeOffsetKey,
  decodeOffsetValue,
  encodeOffsetKey,
  encodeOffsetValue,
  groupPartition,
  LogOffsetStore,
  OFFSETS_TOPIC,
} from './log-offset-store.js';
export type {
  AbortedTransaction,
  ActiveProducer,
  AppendResult,
  LogStore,
  PartitionLogPort,
  ReadResult,
  TimestampLookup,
  TopicDescription,
} from './log-port.js';
export {
  type CommittedOffset,
  MemoryOffsetStore,
  type OffsetStore,
  type TopicPartitionOffset,
} from './offset-store.js';
export { RequestTrace } from './request-trace.js';
export {
  AuthFailure,
  SASL_MECHANISMS,
  SaslAuthenticator,
  type SaslExchange,
  type SaslMechanism,
  type SaslStep,
  type SaslUser,
  scramCredential,
} from './sasl.js';
export {
  type ConnectionContext,
  type Handler,
  type HandlerTable,
  KafkaServer,
  type KafkaServerOptions,
  type RequestObserver,
  type RequestOf,
  type RequestTiming,
} from './server.js';
export {
  type CoordinatorLimits,
  decodeTxnKey,
  decodeTxnValue,
  encodeTxnKey,
  encodeTxnValue,
  logMarkerWriter,
  type MarkerWriter,
  openTxnStateLog,
  PartitionTxnStateLog,
  PendingTxnOffsets,
  step as txnStep,
  type TopicPartition,
  TransactionCoordinator,
  TXN_STATE_NAMES,
  TXN_STATE_TOPIC,
  type TxnCoordinatorOptions,
  TxnError,
  type TxnLogRecord,
  type TxnMetadata,
  type TxnOffsetSink,
  type TxnResult,
  TxnState,
  type TxnStateLog,
} from './txn/index.js';
