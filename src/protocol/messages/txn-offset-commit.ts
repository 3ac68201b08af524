/**
 * TxnOffsetCommit (API key 28), versions 0-4: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const TxnOffsetCommitRequest = message('TxnOffsetCommitRequest', 28, 'request', '3+', [
  f('transactionalId', 'string', '0+'),
  f('groupId', 'string', '0+'),
  f('producerId', 'int64', '0+'),
  f('producerEpoch', 'int16', '0+'),
  f('generationId', 'int32', '3+', { default: -1 }),
  f('memberId', 'string', '3+', { default: '' }),
  f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  arr('topics', '0+', [
    f('name', 'string', '0+'),
    arr('partitions', '0+', [
      f('partitionIndex', 'int32', '0+'),
      f('committedOffset', 'int64', '0+'),
      f('committedLeaderEpoch', 'int32', '2+', { default: -1, ignorable: true }),
      f('committedMetadata', 'string', '0+', { nullable: '0+' }),
    ]),
  ]),
]);

export const TxnOffsetCommitResponse = message('TxnOffsetCommitResponse', 28, 'response', '3+', [
  f('throttleTimeMs', 'int32', '0+'),
  arr('topics', '0+', [
    f('name', 'string', '0+'),
    arr('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+')]),
  ]),
]);
