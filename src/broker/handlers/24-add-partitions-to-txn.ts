/**
 * AddPartitionsToTxn (24), versions 0-5. v0-3: one transaction per request (clients); v4+:
 * batches of transactions (brokers, KIP-890), where `verifyOnly` only checks membership.
 * Unknown partitions fail the whole transaction's request with UNKNOWN_TOPIC_OR_PARTITION
 * (the others get OPERATION_NOT_ATTEMPTED), as in Kafka; otherwise every partition carries
 * the coordinator's answer. PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH below v2.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from '../server.js';
import type { TopicPartition } from '../txn/state-machine.js';
import { fencedForVersion, type TxnHandlerContext } from './txn-context.js';

type Topics = { name: string; partitions: number[] }[];

async function addOne(
  ctx: TxnHandlerContext,
  version: number,
  transactionalId: string,
  producerId: number,
  producerEpoch: number,
  topics: Topics,
  verifyOnly: boolean,
) {
  const parts: TopicPartition[] = topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p })),
  );
  const unknown = new Set(
    parts
      .filter((p) => !ctx.cluster.partitionExists(p.topic, p.partition))
      .map((p) => `${p.topic}:${p.partition}`),
  );
  let errorFor: (tp: TopicPartition) => number;
  if (unknown.size > 0) {
    errorFor = (tp) =>
      unknown.has(`${tp.topic}:${tp.partition}`)
        ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        : ErrorCode.OPERATION_NOT_ATTEMPTED;
  } else if (verifyOnly) {
    const m = ctx.txn.describe(transactionalId);
    const live = m !== undefined && m.producerId === producerId && m.producerEpoch === producerEpoch;
    errorFor = (tp) =>
      live && m.partitions.some((p) => p.topic === tp.topic && p.partition === tp.partition)
        ? ErrorCode.NONE
        : ErrorCode.INVALID_TXN_STATE;
  } else {
    const r = await ctx.txn.addPartitions(transactionalId, producerId, producerEpoch, parts);
    const code = fencedForVersion(r.errorCode, version, 2);
    errorFor = () => code;
  }
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((p) => ({
      partitionIndex: p,
      partitionErrorCode: errorFor({ topic: t.name, partition: p }),
    })),
  }));
}

export function addPartitionsToTxnHandler(ctx: TxnHandlerContext): Handler<24> {
  return async (req) => {
    const b = req.body;
    if (req.apiVersion <= 3) {
      const results = await addOne(
        ctx,
        req.apiVersion,
        b.v3AndBelowTransactionalId,
        b.v3AndBelowProducerId,
        b.v3AndBelowProducerEpoch,
        b.v3AndBelowTopics,
        false,
      );
      return { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [], resultsByTopicV3AndBelow: results };
    }
    const resultsByTransaction = [];
    for (const t of b.transactions) {
      resultsByTransaction.push({
        transactionalId: t.transactionalId,
        topicResults: await addOne(
          ctx,
          req.apiVersion,
          t.transactionalId,
          t.producerId,
          t.producerEpoch,
          t.topics,
          t.verifyOnly,
        ),
      });
    }
    return { throttleTimeMs: 0, errorCode: 0, resultsByTransaction, resultsByTopicV3AndBelow: [] };
  };
}
