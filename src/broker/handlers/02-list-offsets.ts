/**
 * ListOffsets (2), versions 0-8: earliest (-2), latest (-1; the last stable offset for
 * read_committed) and the first offset at or after a timestamp. v0 answers in
 * oldStyleOffsets. Max-timestamp (-3, v7) and the tiered-storage specials are answered with
 * UNSUPPORTED_VERSION for that partition.
 */
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function listOffsetsHandler(cluster: Cluster): Handler<2> {
  return (req) => ({
    throttleTimeMs: 0,
    topics: req.body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const r = cluster.listOffset(t.name, p.partitionIndex, p.timestamp, req.body.isolationLevel);
        if (req.apiVersion === 0) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: r.errorCode,
            oldStyleOffsets: r.offset >= 0 ? [r.offset] : [],
          };
        }
        const v = {
          partitionIndex: p.partitionIndex,
          errorCode: r.errorCode,
          timestamp: r.timestamp,
          offset: r.offset,
        };
        return req.apiVersion >= 4 ? { ...v, leaderEpoch: 0 } : v;
      }),
    })),
  });
}
