/**
 * OffsetDelete (47), version 0: deletes committed offsets of partitions the group is not
 * consuming. Difference from Kafka: a group with members is refused as a whole
 * (NON_EMPTY_GROUP) rather than per subscribed topic.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function offsetDeleteHandler(ctx: GroupHandlerContext): Handler<47> {
  return async (req) => {
    const b = req.body;
    const state = ctx.coordinator.state(b.groupId);
    if (state === undefined && ctx.offsets.committed(b.groupId).length === 0) {
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    }
    if (state !== undefined && state !== 'Empty') return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    const topics = [];
    for (const t of b.topics) {
      const partitions = [];
      for (const p of t.partitions) {
        await ctx.offsets.delete(b.groupId, t.name, p.partitionIndex);
        partitions.push({ partitionIndex: p.partitionIndex, errorCode: 0 });
      }
      topics.push({ name: t.name, partitions });
    }
    return { errorCode: 0, topics };
  };
}
