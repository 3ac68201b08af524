/**
 * InitProducerId (22), versions 0-5, for idempotent producers: a fresh producer id, epoch 0.
 * Transactional ids come with the next issue: until then they are refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients report at once instead of retrying.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function initProducerIdHandler(cluster: Cluster): Handler<22> {
  return (req) => {
    if (req.body.transactionalId !== null) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    return { throttleTimeMs: 0, errorCode: 0, ...cluster.allocateProducerId() };
  };
}
