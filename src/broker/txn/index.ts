/**
 * broker/txn: the transaction coordinator (pure state machine + I/O edge), the
 * `__transaction_state` record codec, its log-backed ports and transactional offsets.
 */
export {
  type MarkerWriter,
  TransactionCoordinator,
  type TxnCoordinatorOptions,
  type TxnLogRecord,
  type TxnResult,
  type TxnStateLog,
} from './coordinator.js';
export { logMarkerWriter, openTxnStateLog, PartitionTxnStateLog } from './log-edge.js';
export {
  type CoordinatorLimits,
  DEFAULT_LIMITS,
  step,
  type TopicPartition,
  TXN_STATE_NAMES,
  TxnError,
  type TxnMetadata,
  TxnState,
} from './state-machine.js';
export {
  decodeTxnKey,
  decodeTxnValue,
  encodeTxnKey,
  encodeTxnValue,
  TXN_STATE_TOPIC,
} from './txn-log-codec.js';
export { PendingTxnOffsets, type TxnOffsetSink } from './txn-offsets.js';
