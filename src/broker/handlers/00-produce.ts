/**
 * Produce (0), versions 3-10 (record batches v2 only). acks 0, 1 and -1; the log's append
 * promise settles under the topic's flush.ms durability policy, and both acks=1 and acks=all
 * wait for it (one replica: "all in-sync replicas" is this one). acks=0 gets no response.
 * Partitions of one request are appended in request order, synchronously (each append is
 * visible to readers when it returns); the response waits for all of them to be durable, and
 * each partition gets its own error code.
 * Differences from Kafka: no per-batch record errors.
 * This is the broker's hottest path: plain loops and one promise per partition (no async
 * closures per topic and partition), since every object here is garbage a few microseconds
 * later and the scavenges that collect it pause the whole broker.
 */
import { ErrorCode } from '../../protocol/index.js';
import { type Cluster, type ProduceResult, produceFailure } from '../cluster.js';
import type { Handler, RequestOf } from '../server.js';

type ProduceRequestBody = RequestOf<0>['body'];

function response(body: ProduceRequestBody, results: readonly ProduceResult[]) {
  let i = 0;
  const responses = [];
  for (const t of body.topicData) {
    const partitionResponses = [];
    for (const p of t.partitionData) {
      const r = results[i++] as ProduceResult;
      partitionResponses.push({
        index: p.index,
        errorCode: r.errorCode,
        baseOffset: r.baseOffset,
        logAppendTimeMs: r.logAppendTime,
        logStartOffset: r.logStartOffset,
        errorMessage: r.errorMessage,
      });
    }
    responses.push({ name: t.name, partitionResponses });
  }
  return { responses, throttleTimeMs: 0 };
}

export function produceHandler(cluster: Cluster): Handler<0> {
  return (req) => {
    const body = req.body;
    const acks = body.acks;
    const results: Array<ProduceResult | Promise<ProduceResult>> = [];
    let waiting = 0;
    for (const t of body.topicData) {
      for (const p of t.partitionData) {
        const r =
          acks === 0 || acks === 1 || acks === -1
            ? cluster.produce(t.name, p.index, p.records)
            : produceFailure({
                errorCode: ErrorCode.INVALID_REQUIRED_ACKS,
                errorMessage: `acks must be 0, 1 or -1, not ${acks}`,
              });
        if (r instanceof Promise) waiting++;
        results.push(r);
      }
    }
    const answer = (settled: readonly ProduceResult[]) => (acks === 0 ? null : response(body, settled));
    if (waiting === 0) return answer(results as ProduceResult[]);
    if (results.length === 1) return (results[0] as Promise<ProduceResult>).then((r) => answer([r]));
    return Promise.all(results).then(answer);
  };
}
