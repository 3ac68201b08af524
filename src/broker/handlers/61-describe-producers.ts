/**
 * DescribeProducers (61), version 0: the producers with state in each partition (id, epoch,
 * last sequence and timestamp, coordinator epoch, start offset of the open transaction).
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from '../server.js';
import type { TxnHandlerContext } from './txn-context.js';

export function describeProducersHandler(ctx: TxnHandlerContext): Handler<61> {
  return (req) => ({
    throttleTimeMs: 0,
    topics: req.body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        const log = ctx.partitionLog(t.name, p);
        if (log === undefined)
          return {
            partitionIndex: p,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
            activeProducers: [],
          };
        return {
          partitionIndex: p,
          errorCode: 0,
          errorMessage: null,
          activeProducers: (log.activeProducers?.() ?? []).map((a) => ({ ...a })),
        };
      }),
    })),
  });
}
