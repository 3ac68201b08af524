/**
 * WriteTxnMarkers (API key 27), versions 0-1: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const WriteTxnMarkersRequest = message('WriteTxnMarkersRequest', 27, 'request', '1+', [
  arr('markers', '0+', [
    f('producerId', 'int64', '0+'),
    f('producerEpoch', 'int16', '0+'),
    f('transactionResult', 'bool', '0+'),
    arr('topics', '0+', [f('name', 'string', '0+'), f('partitionIndexes', '[]int32', '0+')]),
    f('coordinatorEpoch', 'int32', '0+'),
  ]),
]);

export const WriteTxnMarkersResponse = message('WriteTxnMarkersResponse', 27, 'response', '1+', [
  arr('markers', '0+', [
    f('producerId', 'int64', '0+'),
    arr('topics', '0+', [
      f('name', 'string', '0+'),
      arr('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+')]),
    ]),
  ]),
]);
