/**
 * DescribeCluster (API key 60), versions 0-1: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const DescribeClusterRequest = message('DescribeClusterRequest', 60, 'request', '0+', [
  f('includeClusterAuthorizedOperations', 'bool', '0+'),
  f('endpointType', 'int8', '1+', { default: 1 }),
]);

export const DescribeClusterResponse = message('DescribeClusterResponse', 60, 'response', '0+', [
  f('throttleTimeMs', 'int32', '0+'),
  f('errorCode', 'int16', '0+'),
  f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
  f('endpointType', 'int8', '1+', { default: 1 }),
  f('clusterId', 'string', '0+'),
  f('controllerId', 'int32', '0+', { default: -1 }),
  arr('brokers', '0+', [
    f('brokerId', 'int32', '0+'),
    f('host', 'string', '0+'),
    f('port', 'int32', '0+'),
    f('rack', 'string', '0+', { nullable: '0+', default: null }),
  ]),
  f('clusterAuthorizedOperations', 'int32', '0+', { default: -2147483648 }),
]);
