/** CreatePartitions (37), versions 0-3: grows a topic's partition count (never shrinks). */
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function createPartitionsHandler(cluster: Cluster): Handler<37> {
  return async (req) => {
    const results = [];
    for (const t of req.body.topics) {
      const r = await cluster.createPartitions(t.name, t.count, req.body.validateOnly);
      results.push({ name: t.name, errorCode: r.errorCode, errorMessage: r.errorMessage });
    }
    return { throttleTimeMs: 0, results };
  };
}
