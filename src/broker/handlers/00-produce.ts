/**
 * Produce (0), versions 3-10 (record batches v2 only). acks 0, 1 and -1; the log's append
 * promise settles under the topic's flush.ms durability policy, and both acks=1 and acks=all
 * wait for it (one replica: "all in-sync replicas" is this one). acks=0 gets no response.
 * Partitions of one request are appended concurrently; each gets its own error code.
 * Differences from Kafka: transactional batches are passed to the log as they are (the
 * transaction coordinator comes with the next issue); no per-batch record errors.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function produceHandler(cluster: Cluster): Handler<0> {
  return async (req) => {
    const { acks, topicData } = req.body;
    const validAcks = acks === 0 || acks === 1 || acks === -1;
    const responses = await Promise.all(
      topicData.map(async (t) => ({
        name: t.name,
        partitionResponses: await Promise.all(
          t.partitionData.map(async (p) => {
            const r = validAcks
              ? await cluster.produce(t.name, p.index, p.records)
              : {
                  errorCode: ErrorCode.INVALID_REQUIRED_ACKS,
                  errorMessage: `acks must be 0, 1 or -1, not ${acks}`,
                  baseOffset: -1,
                  logAppendTime: -1,
                  logStartOffset: -1,
                };
            return {
              index: p.index,
              errorCode: r.errorCode,
              baseOffset: r.baseOffset,
              logAppendTimeMs: r.logAppendTime,
              logStartOffset: r.logStartOffset,
              errorMessage: r.errorMessage,
            };
          }),
        ),
      })),
    );
    if (acks === 0) return null;
    return { responses, throttleTimeMs: 0 };
  };
}
