/**
 * OffsetDelete (API key 47), versions 0-0: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const OffsetDeleteRequest = message('OffsetDeleteRequest', 47, 'request', 'none', [
  f('groupId', 'string', '0+'),
  arr('topics', '0+', [
    f('name', 'string', '0+'),
    arr('partitions', '0+', [f('partitionIndex', 'int32', '0+')]),
  ]),
]);

export const OffsetDeleteResponse = message('OffsetDeleteResponse', 47, 'response', 'none', [
  f('errorCode', 'int16', '0+'),
  f('throttleTimeMs', 'int32', '0+', { ignorable: true }),
  arr('topics', '0+', [
    f('name', 'string', '0+'),
    arr('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+')]),
  ]),
]);
