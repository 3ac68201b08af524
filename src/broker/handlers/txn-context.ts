/**
 * What the transaction handlers need: the transaction coordinator, the group coordinator (to
 * fence zombies by generation, KIP-447), the pending transactional offsets, and partition
 * lookups. Also the version rule for PRODUCER_FENCED: clients older than the API version that
 * introduced it get INVALID_PRODUCER_EPOCH, as Kafka answers them.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { GroupCoordinator } from '../group-coordinator.js';
import type { PartitionLogPort } from '../log-port.js';
import type { TransactionCoordinator } from '../txn/coordinator.js';
import type { TxnOffsetSink } from '../txn/txn-offsets.js';

export interface TxnHandlerContext {
  txn: TransactionCoordinator;
  groups: GroupCoordinator;
  txnOffsets: TxnOffsetSink;
  cluster: Cluster;
  /** The partition's log, or undefined when it does not exist. */
  partitionLog(topic: string, partition: number): PartitionLogPort | undefined;
}

/** PRODUCER_FENCED for versions >= `since`, INVALID_PRODUCER_EPOCH before. */
export function fencedForVersion(errorCode: number, version: number, since: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < since
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : errorCode;
}
