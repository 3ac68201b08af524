/**
 * DescribeTransactions (65), version 0: state, timeout, start time, producer id/epoch and
 * partitions of each transactional id; TRANSACTIONAL_ID_NOT_FOUND for unknown ones.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from '../server.js';
import { TXN_STATE_NAMES } from '../txn/state-machine.js';
import type { TxnHandlerContext } from './txn-context.js';

export function describeTransactionsHandler(ctx: TxnHandlerContext): Handler<65> {
  return (req) => ({
    throttleTimeMs: 0,
    transactionStates: req.body.transactionalIds.map((id) => {
      const m = ctx.txn.describe(id);
      if (m === undefined)
        return {
          errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
          transactionalId: id,
          transactionState: '',
          transactionTimeoutMs: 0,
          transactionStartTimeMs: -1,
          producerId: -1,
          producerEpoch: -1,
          topics: [],
        };
      const byTopic = new Map<string, number[]>();
      for (const p of m.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      return {
        errorCode: 0,
        transactionalId: id,
        transactionState: TXN_STATE_NAMES[m.state],
        transactionTimeoutMs: m.timeoutMs,
        transactionStartTimeMs: m.txnStartTimestamp,
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      };
    }),
  });
}
