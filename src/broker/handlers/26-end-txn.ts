/**
 * EndTxn (26), versions 0-5: commit or abort. Answered once PrepareCommit/PrepareAbort is
 * durable in `__transaction_state`; the markers follow in the background and the next
 * transaction of the same id waits for them (CONCURRENT_TRANSACTIONS, retried by clients).
 * PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH below v2. v5 echoes the producer id/epoch.
 */
import type { Handler } from '../server.js';
import { fencedForVersion, type TxnHandlerContext } from './txn-context.js';

export function endTxnHandler(ctx: TxnHandlerContext): Handler<26> {
  return async (req) => {
    const b = req.body;
    const r = await ctx.txn.endTxn(b.transactionalId, b.producerId, b.producerEpoch, b.committed);
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(r.errorCode, req.apiVersion, 2),
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
    };
  };
}
