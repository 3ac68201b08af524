/**
 * AddOffsetsToTxn (25), versions 0-4: adds the group's `__consumer_offsets` partition to the
 * transaction (Kafka's layout: partition = hash(group) mod its partition count), so the transaction cannot end
 * without deciding the offsets TxnOffsetCommit stages. PRODUCER_FENCED becomes
 * INVALID_PRODUCER_EPOCH below v2.
 */
import type { Handler } from '../server.js';
import { fencedForVersion, type TxnHandlerContext } from './txn-context.js';

export function addOffsetsToTxnHandler(ctx: TxnHandlerContext): Handler<25> {
  return async (req) => {
    const b = req.body;
    const r = await ctx.txn.addPartitions(b.transactionalId, b.producerId, b.producerEpoch, [
      { topic: '__consumer_offsets', partition: ctx.txnOffsets.partitionFor(b.groupId) },
    ]);
    return { throttleTimeMs: 0, errorCode: fencedForVersion(r.errorCode, req.apiVersion, 2) };
  };
}
