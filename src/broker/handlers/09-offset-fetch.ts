/**
 * OffsetFetch (9), versions 0-9: committed offsets of one group (v0-7) or several (v8+);
 * a null topic list (v2+) means every partition the group committed. A partition without a
 * commit answers offset -1 and error NONE, as Kafka does. requireStable (v7+, KIP-447): a
 * partition with transactional offsets still pending (their transaction not yet decided)
 * answers UNSTABLE_OFFSET_COMMIT, which clients retry, instead of an offset that may change.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

interface TopicsIn {
  name: string;
  partitionIndexes: number[];
}

function fetchGroup(
  ctx: GroupHandlerContext,
  groupId: string,
  topics: TopicsIn[] | null,
  requireStable: boolean,
) {
  const wanted: TopicsIn[] =
    topics ??
    Object.values(
      ctx.offsets.committed(groupId).reduce<Record<string, TopicsIn>>((acc, c) => {
        (acc[c.topic] ??= { name: c.topic, partitionIndexes: [] }).partitionIndexes.push(c.partition);
        return acc;
      }, {}),
    );
  return wanted.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => {
      const c = ctx.offsets.fetch(groupId, t.name, partitionIndex);
      if (requireStable && ctx.offsets.hasPending?.(groupId, t.name, partitionIndex) === true)
        return {
          partitionIndex,
          committedOffset: -1,
          committedLeaderEpoch: -1,
          metadata: '',
          errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
        };
      return {
        partitionIndex,
        committedOffset: c?.offset ?? -1,
        committedLeaderEpoch: c?.leaderEpoch ?? -1,
        metadata: c?.metadata ?? '',
        errorCode: 0,
      };
    }),
  }));
}

export function offsetFetchHandler(ctx: GroupHandlerContext): Handler<9> {
  return (req) => {
    if (req.apiVersion >= 8) {
      return {
        groups: req.body.groups.map((g) => ({
          groupId: g.groupId,
          topics: fetchGroup(ctx, g.groupId, g.topics, req.body.requireStable),
          errorCode: 0,
        })),
      };
    }
    const stable = req.apiVersion >= 7 && req.body.requireStable;
    return { topics: fetchGroup(ctx, req.body.groupId, req.body.topics, stable), errorCode: 0 };
  };
}
