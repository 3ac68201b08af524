/**
 * TxnOffsetCommit (28), versions 0-4: offsets consumed inside a transaction, staged until
 * EndTxn decides them. The producer must be the live one of its transactional id, the group
 * must have been added (AddOffsetsToTxn), and from v3 the group generation and member id must
 * be current (KIP-447): a zombie from an older generation gets ILLEGAL_GENERATION /
 * UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID and its offsets are never staged.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { TopicPartitionOffset } from '../offset-store.js';
import type { Handler } from '../server.js';
import { fencedForVersion, type TxnHandlerContext } from './txn-context.js';

export function txnOffsetCommitHandler(ctx: TxnHandlerContext): Handler<28> {
  return async (req) => {
    const b = req.body;
    let errorCode: number = ErrorCode.NONE;
    const v = await ctx.txn.verify(b.transactionalId, b.producerId, b.producerEpoch);
    if (v.errorCode !== 0) errorCode = fencedForVersion(v.errorCode, req.apiVersion, 3);
    else {
      const m = ctx.txn.describe(b.transactionalId);
      const gp = ctx.txnOffsets.partitionFor(b.groupId);
      if (
        m === undefined ||
        !m.partitions.some((p) => p.topic === '__consumer_offsets' && p.partition === gp)
      )
        errorCode = ErrorCode.INVALID_TXN_STATE;
      else if (req.apiVersion >= 3 && (b.generationId >= 0 || b.memberId !== ''))
        errorCode = ctx.groups.validateMember(b.groupId, b.memberId, b.generationId, b.groupInstanceId, true);
    }
    const now = Date.now();
    const staged: TopicPartitionOffset[] = [];
    const topics = b.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let code = errorCode;
        if (code === ErrorCode.NONE && !ctx.cluster.partitionExists(t.name, p.partitionIndex))
          code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        if (code === ErrorCode.NONE)
          staged.push({
            topic: t.name,
            partition: p.partitionIndex,
            value: {
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              metadata: p.committedMetadata,
              commitTimestamp: now,
            },
          });
        return { partitionIndex: p.partitionIndex, errorCode: code };
      }),
    }));
    if (staged.length > 0) await ctx.txnOffsets.stage(b.producerId, b.producerEpoch, b.groupId, staged);
    return { throttleTimeMs: 0, topics };
  };
}
