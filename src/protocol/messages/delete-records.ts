/**
 * DeleteRecords (API key 21), versions 0-2: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const DeleteRecordsRequest = message('DeleteRecordsRequest', 21, 'request', '2+', [
  arr('topics', '0+', [
    f('name', 'string', '0+'),
    arr('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('offset', 'int64', '0+')]),
  ]),
  f('timeoutMs', 'int32', '0+'),
]);

export const DeleteRecordsResponse = message('DeleteRecordsResponse', 21, 'response', '2+', [
  f('throttleTimeMs', 'int32', '0+'),
  arr('topics', '0+', [
    f('name', 'string', '0+'),
    arr('partitions', '0+', [
      f('partitionIndex', 'int32', '0+'),
      f('lowWatermark', 'int64', '0+'),
      f('errorCode', 'int16', '0+'),
    ]),
  ]),
]);
