/**
 * Metadata (3), versions 0-12: this broker, and the requested topics (null, or an empty list
 * in v0, means all). Unknown topics are created when auto-creation is on and the request
 * allows it (v4+ allowAutoTopicCreation); otherwise UNKNOWN_TOPIC_OR_PARTITION, or
 * INVALID_TOPIC_EXCEPTION for illegal names. v10+ topics may be named by id.
 * Every partition: leader = this broker, leader epoch 0, replicas = ISR = [this broker].
 */
import { ErrorCode } from '../../protocol/index.js';
import { type Cluster, topicNameError } from '../cluster.js';
import type { Handler } from '../server.js';

const ZERO_UUID = Buffer.alloc(16);

export function metadataHandler(cluster: Cluster): Handler<3> {
  return async (req) => {
    const b = req.body;
    const all = b.topics === null || (req.apiVersion === 0 && b.topics.length === 0);
    const requested: { name: string | null; topicId: Buffer }[] = all
      ? cluster.topics().map((t) => ({ name: t.name, topicId: cluster.topicId(t.name) }))
      : (b.topics ?? []).map((t) => ({
          name: t.name ?? cluster.topicById(t.topicId) ?? null,
          topicId: t.topicId,
        }));
    const allowCreate = req.apiVersion < 4 || b.allowAutoTopicCreation;
    const node = cluster.node;
    const topics = [];
    for (const t of requested) {
      if (t.name === null) {
        topics.push({
          errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          name: req.apiVersion >= 12 ? null : '',
          topicId: t.topicId,
          partitions: [],
        });
        continue;
      }
      const invalid = topicNameError(t.name);
      if (invalid !== null) {
        topics.push({
          errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
          name: t.name,
          topicId: ZERO_UUID,
          partitions: [],
        });
        continue;
      }
      const exists = cluster.hasTopic(t.name) || (allowCreate && (await cluster.ensureTopic(t.name)));
      const d = exists ? cluster.describeTopic(t.name) : undefined;
      if (d === undefined) {
        topics.push({
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          name: t.name,
          topicId: ZERO_UUID,
          partitions: [],
        });
        continue;
      }
      topics.push({
        errorCode: 0,
        name: d.name,
        topicId: cluster.topicId(d.name),
        isInternal: d.name.startsWith('__'),
        partitions: Array.from({ length: d.partitions }, (_, i) => ({
          errorCode: 0,
          partitionIndex: i,
          leaderId: node.nodeId,
          leaderEpoch: 0,
          replicaNodes: [node.nodeId],
          isrNodes: [node.nodeId],
          offlineReplicas: [],
        })),
      });
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: node.nodeId, host: node.host, port: node.port, rack: null }],
      clusterId: cluster.clusterId,
      controllerId: node.nodeId,
      topics,
    };
  };
}
