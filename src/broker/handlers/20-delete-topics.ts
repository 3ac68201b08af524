/** DeleteTopics (20), versions 0-6: by name, or (v6) by name or topic id. */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function deleteTopicsHandler(cluster: Cluster): Handler<20> {
  return async (req) => {
    const wanted =
      req.apiVersion >= 6
        ? req.body.topics.map((t) => ({
            name: t.name ?? cluster.topicById(t.topicId) ?? null,
            topicId: t.topicId,
          }))
        : req.body.topicNames.map((name) => ({ name, topicId: cluster.topicId(name) }));
    const responses = [];
    for (const t of wanted) {
      if (t.name === null) {
        responses.push({
          name: null,
          topicId: t.topicId,
          errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          errorMessage: 'unknown topic id',
        });
        continue;
      }
      const id = cluster.topicId(t.name);
      const r = await cluster.deleteTopic(t.name);
      responses.push({ name: t.name, topicId: id, errorCode: r.errorCode, errorMessage: r.errorMessage });
    }
    return { throttleTimeMs: 0, responses };
  };
}
