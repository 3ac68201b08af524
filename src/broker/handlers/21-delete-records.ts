/** DeleteRecords (21), versions 0-2: advances log start offsets (offset -1 = high watermark). */
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function deleteRecordsHandler(cluster: Cluster): Handler<21> {
  return (req) => ({
    throttleTimeMs: 0,
    topics: req.body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const r = cluster.deleteRecords(t.name, p.partitionIndex, p.offset);
        return { partitionIndex: p.partitionIndex, lowWatermark: r.lowWatermark, errorCode: r.errorCode };
      }),
    })),
  });
}
