/**
 * Fetch (API key 1), versions 4-16: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message, obj } from '../schema.js';

export const FetchRequest = message('FetchRequest', 1, 'request', '12+', [
  f('clusterId', 'string', '12+', { nullable: '12+', tagged: '12+', tag: 0, default: null, ignorable: true }),
  f('replicaId', 'int32', '0-14', { default: -1 }),
  obj(
    'replicaState',
    '15+',
    [f('replicaId', 'int32', '15+', { default: -1 }), f('replicaEpoch', 'int64', '15+', { default: -1 })],
    { tagged: '15+', tag: 1 },
  ),
  f('maxWaitMs', 'int32', '0+'),
  f('minBytes', 'int32', '0+'),
  f('maxBytes', 'int32', '3+', { default: 2147483647, ignorable: true }),
  f('isolationLevel', 'int8', '4+', { default: 0, ignorable: true }),
  f('sessionId', 'int32', '7+', { default: 0, ignorable: true }),
  f('sessionEpoch', 'int32', '7+', { default: -1, ignorable: true }),
  arr('topics', '0+', [
    f('topic', 'string', '0-12', { ignorable: true }),
    f('topicId', 'uuid', '13+', { ignorable: true }),
    arr('partitions', '0+', [
      f('partition', 'int32', '0+'),
      f('currentLeaderEpoch', 'int32', '9+', { default: -1, ignorable: true }),
      f('fetchOffset', 'int64', '0+'),
      f('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
      f('logStartOffset', 'int64', '5+', { default: -1, ignorable: true }),
      f('partitionMaxBytes', 'int32', '0+'),
    ]),
  ]),
  arr('forgottenTopicsData', '7+', [
    f('topic', 'string', '7-12', { ignorable: true }),
    f('topicId', 'uuid', '13+', { ignorable: true }),
    f('partitions', '[]int32', '7+'),
  ]),
  f('rackId', 'string', '11+', { default: '', ignorable: true }),
]);

export const FetchResponse = message('FetchResponse', 1, 'response', '12+', [
  f('throttleTimeMs', 'int32', '1+', { ignorable: true }),
  f('errorCode', 'int16', '7+', { ignorable: true }),
  f('sessionId', 'int32', '7+', { default: 0 }),
  arr('responses', '0+', [
    f('topic', 'string', '0-12', { ignorable: true }),
    f('topicId', 'uuid', '13+', { ignorable: true }),
    arr('partitions', '0+', [
      f('partitionIndex', 'int32', '0+'),
      f('errorCode', 'int16', '0+'),
      f('highWatermark', 'int64', '0+'),
      f('lastStableOffset', 'int64', '4+', { default: -1, ignorable: true }),
      f('logStartOffset', 'int64', '5+', { default: -1, ignorable: true }),
      obj(
        'divergingEpoch',
        '12+',
        [f('epoch', 'int32', '12+', { default: -1 }), f('endOffset', 'int64', '12+', { default: -1 })],
        { tagged: '12+', tag: 0 },
      ),
      obj(
        'currentLeader',
        '12+',
        [f('leaderId', 'int32', '12+', { default: -1 }), f('leaderEpoch', 'int32', '12+', { default: -1 })],
        { tagged: '12+', tag: 1 },
      ),
      obj(
        'snapshotId',
        '12+',
        [f('endOffset', 'int64', '0+', { default: -1 }), f('epoch', 'int32', '0+', { default: -1 })],
        { tagged: '12+', tag: 2 },
      ),
      arr('abortedTransactions', '4+', [f('producerId', 'int64', '4+'), f('firstOffset', 'int64', '4+')], {
        nullable: '4+',
        ignorable: true,
      }),
      f('preferredReadReplica', 'int32', '11+', { default: -1 }),
      f('records', 'records', '0+', { nullable: '0+' }),
    ]),
  ]),
  arr(
    'nodeEndpoints',
    '16+',
    [
      f('nodeId', 'int32', '16+'),
      f('host', 'string', '16+'),
      f('port', 'int32', '16+'),
      f('rack', 'string', '16+', { nullable: '16+', default: null }),
    ],
    { tagged: '16+', tag: 0 },
  ),
]);
