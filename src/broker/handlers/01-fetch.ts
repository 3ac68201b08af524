/**
 * Fetch (1), versions 4-16: long polling (maxWaitMs / minBytes), response and partition byte
 * limits, read_committed (up to the last stable offset, with the aborted transactions).
 * Record batches go out exactly as stored, as chunks (no copy into the response).
 * Fetch sessions (KIP-227): not created — every response carries session id 0, which tells
 * clients to send full fetch requests; that is a valid broker choice and all clients handle it.
 * Differences from Kafka: no preferred read replica (-1), no leader epoch validation.
 * v13+ names topics by id (UNKNOWN_TOPIC_ID for ids no topic has); v16's node endpoints are
 * not sent (the leader is always this broker, which the client knows).
 * Compatibility: @platformatic/kafka 1.x sends the topic id as a UUID string in the topic-name
 * field when it has to use Fetch v12 or older; such a name is resolved as a topic id.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function resolveTopic(cluster: Cluster, name: string): string {
  if (cluster.hasTopic(name) || !UUID_TEXT.test(name)) return name;
  return cluster.topicById(Buffer.from(name.replace(/-/g, ''), 'hex')) ?? name;
}

export function fetchHandler(cluster: Cluster): Handler<1> {
  return async (req) => {
    const b = req.body;
    const byId = req.apiVersion >= 13;
    // '' names no topic: partitions of an unknown topic id read as UNKNOWN_TOPIC_OR_PARTITION,
    // reported as UNKNOWN_TOPIC_ID below.
    const names = b.topics.map((t) =>
      byId ? (cluster.topicById(t.topicId) ?? '') : resolveTopic(cluster, t.topic),
    );
    const parts = b.topics.flatMap((t, ti) =>
      t.partitions.map((p) => ({
        topic: names[ti] as string,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
      })),
    );
    const results = await cluster.fetch(parts, {
      maxWaitMs: b.maxWaitMs,
      minBytes: b.minBytes,
      maxBytes: b.maxBytes,
      isolationLevel: b.isolationLevel,
    });
    let i = 0;
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: b.topics.map((t, ti) => ({
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map(() => {
          const r = results[i++] as (typeof results)[number];
          return {
            partitionIndex: r.partition,
            errorCode: byId && names[ti] === '' ? ErrorCode.UNKNOWN_TOPIC_ID : r.errorCode,
            highWatermark: r.highWatermark,
            lastStableOffset: r.lastStableOffset,
            logStartOffset: r.logStartOffset,
            abortedTransactions:
              r.abortedTransactions?.map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset })) ??
              null,
            records: r.records,
          };
        }),
      })),
    };
  };
}
