/**
 * OffsetCommit (8), versions 0-9. A member of the group commits for the current generation;
 * anyone may commit for a group without members (generation -1, empty member id: "simple"
 * consumers and admin tools). Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION, oversized
 * metadata (> 4096 bytes, Kafka's offset.metadata.max.bytes) OFFSET_METADATA_TOO_LARGE; the rest
 * are stored together. Retention time (v2-4) is ignored: offsets live until deleted.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { TopicPartitionOffset } from '../offset-store.js';
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

const MAX_METADATA_BYTES = 4096;

export function offsetCommitHandler(ctx: GroupHandlerContext): Handler<8> {
  return async (req) => {
    const b = req.body;
    const generation = req.apiVersion === 0 ? -1 : b.generationIdOrMemberEpoch;
    const groupError = ctx.coordinator.validateMember(b.groupId, b.memberId, generation, b.groupInstanceId);
    const now = Date.now();
    const accepted: TopicPartitionOffset[] = [];
    const topics = b.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode: number = groupError;
        if (errorCode === ErrorCode.NONE && !ctx.partitionExists(t.name, p.partitionIndex)) {
          errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (
          errorCode === ErrorCode.NONE &&
          p.committedMetadata !== null &&
          Buffer.byteLength(p.committedMetadata) > MAX_METADATA_BYTES
        ) {
          errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        }
        if (errorCode === ErrorCode.NONE) {
          accepted.push({
            topic: t.name,
            partition: p.partitionIndex,
            value: {
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              metadata: p.committedMetadata,
              commitTimestamp: p.commitTimestamp >= 0 ? p.commitTimestamp : now,
            },
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    }));
    if (accepted.length > 0) await ctx.offsets.commit(b.groupId, accepted);
    return { throttleTimeMs: 0, topics };
  };
}
