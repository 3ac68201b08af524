/**
 * AddPartitionsToTxn (API key 24), versions 0-5: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const AddPartitionsToTxnRequest = message('AddPartitionsToTxnRequest', 24, 'request', '3+', [
  arr('transactions', '4+', [
    f('transactionalId', 'string', '4+'),
    f('producerId', 'int64', '4+'),
    f('producerEpoch', 'int16', '4+'),
    f('verifyOnly', 'bool', '4+', { default: false }),
    arr('topics', '4+', [f('name', 'string', '0+'), f('partitions', '[]int32', '0+')]),
  ]),
  f('v3AndBelowTransactionalId', 'string', '0-3'),
  f('v3AndBelowProducerId', 'int64', '0-3'),
  f('v3AndBelowProducerEpoch', 'int16', '0-3'),
  arr('v3AndBelowTopics', '0-3', [f('name', 'string', '0+'), f('partitions', '[]int32', '0+')]),
]);

export const AddPartitionsToTxnResponse = message('AddPartitionsToTxnResponse', 24, 'response', '3+', [
  f('throttleTimeMs', 'int32', '0+'),
  f('errorCode', 'int16', '4+', { ignorable: true }),
  arr('resultsByTransaction', '4+', [
    f('transactionalId', 'string', '4+'),
    arr('topicResults', '4+', [
      f('name', 'string', '0+'),
      arr('resultsByPartition', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('partitionErrorCode', 'int16', '0+'),
      ]),
    ]),
  ]),
  arr('resultsByTopicV3AndBelow', '0-3', [
    f('name', 'string', '0+'),
    arr('resultsByPartition', '0+', [
      f('partitionIndex', 'int32', '0+'),
      f('partitionErrorCode', 'int16', '0+'),
    ]),
  ]),
]);
