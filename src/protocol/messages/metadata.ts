/**
 * Metadata (API key 3), versions 0-12: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const MetadataRequest = message('MetadataRequest', 3, 'request', '9+', [
  arr(
    'topics',
    '0+',
    [f('topicId', 'uuid', '10+', { ignorable: true }), f('name', 'string', '0+', { nullable: '10+' })],
    { nullable: '1+' },
  ),
  f('allowAutoTopicCreation', 'bool', '4+', { default: true }),
  f('includeClusterAuthorizedOperations', 'bool', '8-10'),
  f('includeTopicAuthorizedOperations', 'bool', '8+'),
]);

export const MetadataResponse = message('MetadataResponse', 3, 'response', '9+', [
  f('throttleTimeMs', 'int32', '3+', { ignorable: true }),
  arr('brokers', '0+', [
    f('nodeId', 'int32', '0+'),
    f('host', 'string', '0+'),
    f('port', 'int32', '0+'),
    f('rack', 'string', '1+', { nullable: '1+', default: null, ignorable: true }),
  ]),
  f('clusterId', 'string', '2+', { nullable: '2+', default: null, ignorable: true }),
  f('controllerId', 'int32', '1+', { default: -1, ignorable: true }),
  arr('topics', '0+', [
    f('errorCode', 'int16', '0+'),
    f('name', 'string', '0+', { nullable: '12+' }),
    f('topicId', 'uuid', '10+', { ignorable: true }),
    f('isInternal', 'bool', '1+', { default: false, ignorable: true }),
    arr('partitions', '0+', [
      f('errorCode', 'int16', '0+'),
      f('partitionIndex', 'int32', '0+'),
      f('leaderId', 'int32', '0+'),
      f('leaderEpoch', 'int32', '7+', { default: -1, ignorable: true }),
      f('replicaNodes', '[]int32', '0+'),
      f('isrNodes', '[]int32', '0+'),
      f('offlineReplicas', '[]int32', '5+', { ignorable: true }),
    ]),
    f('topicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
  ]),
  f('clusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
]);
