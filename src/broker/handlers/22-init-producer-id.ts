/**
 * InitProducerId (22), versions 0-5. Without a transactional id: a fresh producer id, epoch 0
 * (idempotent producers). With one: the transaction coordinator bumps the epoch (fencing the
 * older producer), aborts an unfinished transaction first (answering CONCURRENT_TRANSACTIONS,
 * which clients retry), and from v3 checks the presented producer id/epoch (KIP-360).
 * PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH below v4, as Kafka does.
 */
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';
import type { TransactionCoordinator } from '../txn/coordinator.js';
import { fencedForVersion } from './txn-context.js';

export function initProducerIdHandler(cluster: Cluster, txn?: TransactionCoordinator): Handler<22> {
  return async (req) => {
    const b = req.body;
    if (b.transactionalId === null || b.transactionalId === '') {
      return { throttleTimeMs: 0, errorCode: 0, ...cluster.allocateProducerId() };
    }
    if (txn === undefined) return { throttleTimeMs: 0, errorCode: 53, producerId: -1, producerEpoch: -1 };
    const r = await txn.initProducerId(
      b.transactionalId,
      b.transactionTimeoutMs,
      b.producerId,
      b.producerEpoch,
    );
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(r.errorCode, req.apiVersion, 4),
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
    };
  };
}
