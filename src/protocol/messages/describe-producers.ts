/**
 * DescribeProducers (API key 61), versions 0-0: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const DescribeProducersRequest = message('DescribeProducersRequest', 61, 'request', '0+', [
  arr('topics', '0+', [f('name', 'string', '0+'), f('partitionIndexes', '[]int32', '0+')]),
]);

export const DescribeProducersResponse = message('DescribeProducersResponse', 61, 'response', '0+', [
  f('throttleTimeMs', 'int32', '0+'),
  arr('topics', '0+', [
    f('name', 'string', '0+'),
    arr('partitions', '0+', [
      f('partitionIndex', 'int32', '0+'),
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      arr('activeProducers', '0+', [
        f('producerId', 'int64', '0+'),
        f('producerEpoch', 'int32', '0+'),
        f('lastSequence', 'int32', '0+', { default: -1 }),
        f('lastTimestamp', 'int64', '0+', { default: -1 }),
        f('coordinatorEpoch', 'int32', '0+'),
        f('currentTxnStartOffset', 'int64', '0+', { default: -1 }),
      ]),
    ]),
  ]),
]);
