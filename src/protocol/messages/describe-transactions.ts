/**
 * DescribeTransactions (API key 65), versions 0-0: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const DescribeTransactionsRequest = message('DescribeTransactionsRequest', 65, 'request', '0+', [
  f('transactionalIds', '[]string', '0+'),
]);

export const DescribeTransactionsResponse = message('DescribeTransactionsResponse', 65, 'response', '0+', [
  f('throttleTimeMs', 'int32', '0+'),
  arr('transactionStates', '0+', [
    f('errorCode', 'int16', '0+'),
    f('transactionalId', 'string', '0+'),
    f('transactionState', 'string', '0+'),
    f('transactionTimeoutMs', 'int32', '0+'),
    f('transactionStartTimeMs', 'int64', '0+'),
    f('producerId', 'int64', '0+'),
    f('producerEpoch', 'int16', '0+'),
    arr('topics', '0+', [f('topic', 'string', '0+'), f('partitions', '[]int32', '0+')]),
  ]),
]);
