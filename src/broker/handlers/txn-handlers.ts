/** The handler table for transactions (24-26, 28, 61, 65, 66); InitProducerId is in cluster-handlers. */
import type { HandlerTable } from '../server.js';
import { addPartitionsToTxnHandler } from './24-add-partitions-to-txn.js';
import { addOffsetsToTxnHandler } from './25-add-offsets-to-txn.js';
import { endTxnHandler } from './26-end-txn.js';
import { txnOffsetCommitHandler } from './28-txn-offset-commit.js';
import { describeProducersHandler } from './61-describe-producers.js';
import { describeTransactionsHandler } from './65-describe-transactions.js';
import { listTransactionsHandler } from './66-list-transactions.js';
import type { TxnHandlerContext } from './txn-context.js';

export function txnHandlers(ctx: TxnHandlerContext): HandlerTable {
  return {
    24: addPartitionsToTxnHandler(ctx),
    25: addOffsetsToTxnHandler(ctx),
    26: endTxnHandler(ctx),
    28: txnOffsetCommitHandler(ctx),
    61: describeProducersHandler(ctx),
    65: describeTransactionsHandler(ctx),
    66: listTransactionsHandler(ctx),
  };
}
