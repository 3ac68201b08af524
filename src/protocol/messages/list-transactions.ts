/**
 * ListTransactions (API key 66), versions 0-1: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const ListTransactionsRequest = message('ListTransactionsRequest', 66, 'request', '0+', [
  f('stateFilters', '[]string', '0+'),
  f('producerIdFilters', '[]int64', '0+'),
  f('durationFilter', 'int64', '1+', { default: -1 }),
]);

export const ListTransactionsResponse = message('ListTransactionsResponse', 66, 'response', '0+', [
  f('throttleTimeMs', 'int32', '0+'),
  f('errorCode', 'int16', '0+'),
  f('unknownStateFilters', '[]string', '0+'),
  arr('transactionStates', '0+', [
    f('transactionalId', 'string', '0+'),
    f('producerId', 'int64', '0+'),
    f('transactionState', 'string', '0+'),
  ]),
]);
