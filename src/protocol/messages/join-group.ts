/**
 * JoinGroup (API key 11), versions 0-9: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const JoinGroupRequest = message('JoinGroupRequest', 11, 'request', '6+', [
  f('groupId', 'string', '0+'),
  f('sessionTimeoutMs', 'int32', '0+'),
  f('rebalanceTimeoutMs', 'int32', '1+', { default: -1, ignorable: true }),
  f('memberId', 'string', '0+'),
  f('groupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
  f('protocolType', 'string', '0+'),
  arr('protocols', '0+', [f('name', 'string', '0+'), f('metadata', 'bytes', '0+')]),
  f('reason', 'string', '8+', { nullable: '8+', default: null, ignorable: true }),
]);

export const JoinGroupResponse = message('JoinGroupResponse', 11, 'response', '6+', [
  f('throttleTimeMs', 'int32', '2+', { ignorable: true }),
  f('errorCode', 'int16', '0+'),
  f('generationId', 'int32', '0+', { default: -1 }),
  f('protocolType', 'string', '7+', { nullable: '7+', default: null, ignorable: true }),
  f('protocolName', 'string', '0+', { nullable: '7+' }),
  f('leader', 'string', '0+'),
  f('skipAssignment', 'bool', '9+', { default: false }),
  f('memberId', 'string', '0+'),
  arr('members', '0+', [
    f('memberId', 'string', '0+'),
    f('groupInstanceId', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
    f('metadata', 'bytes', '0+'),
  ]),
]);
