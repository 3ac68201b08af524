/**
 * CreateTopics (19), versions 0-7. numPartitions -1 takes the broker default; replication
 * factor must be -1 or 1 (one broker); manual assignments may only name this broker. Configs
 * are topic-config overrides (the log validates them: unknown keys and bad values are
 * INVALID_CONFIG). v5+ responses describe the created topic.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function createTopicsHandler(cluster: Cluster): Handler<19> {
  return async (req) => {
    const topics = [];
    for (const t of req.body.topics) {
      let partitions = t.numPartitions;
      let error: { errorCode: number; errorMessage: string | null } = { errorCode: 0, errorMessage: null };
      if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
        error = {
          errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
          errorMessage: `replication factor ${t.replicationFactor} on a single broker`,
        };
      } else if (t.assignments.length > 0) {
        if (t.numPartitions !== -1) {
          error = {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: 'both numPartitions and assignments given',
          };
        } else if (t.assignments.some((a) => a.brokerIds.some((id) => id !== cluster.node.nodeId))) {
          error = {
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            errorMessage: `only broker ${cluster.node.nodeId} exists`,
          };
        }
        partitions = t.assignments.length;
      }
      if (error.errorCode === 0) {
        const overrides: Record<string, unknown> = {};
        for (const c of t.configs) overrides[c.name] = c.value;
        error = await cluster.createTopic(t.name, partitions, overrides, req.body.validateOnly);
      }
      const d = error.errorCode === 0 ? cluster.describeTopic(t.name) : undefined;
      topics.push({
        name: t.name,
        topicId: d === undefined ? Buffer.alloc(16) : cluster.topicId(t.name),
        errorCode: error.errorCode,
        errorMessage: error.errorMessage,
        numPartitions: d?.partitions ?? (error.errorCode === 0 ? partitions : -1),
        replicationFactor: error.errorCode === 0 ? 1 : -1,
        configs:
          d === undefined
            ? []
            : Object.entries(d.config).map(([name, value]) => ({
                name,
                value: String(value),
                readOnly: false,
                configSource: name in d.overrides ? 1 : 5,
                isSensitive: false,
              })),
      });
    }
    return { throttleTimeMs: 0, topics };
  };
}
