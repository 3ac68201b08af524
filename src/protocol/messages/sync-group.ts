/**
 * SyncGroup (API key 14), versions 0-5: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const SyncGroupRequest = message('SyncGroupRequest', 14, 'request', '4+', [
  f('groupId', 'string', '0+'),
  f('generationId', 'int32', '0+'),
  f('memberId', 'string', '0+'),
  f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  f('protocolType', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
  f('protocolName', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
  arr('assignments', '0+', [f('memberId', 'string', '0+'), f('assignment', 'bytes', '0+')]),
]);

export const SyncGroupResponse = message('SyncGroupResponse', 14, 'response', '4+', [
  f('throttleTimeMs', 'int32', '1+', { ignorable: true }),
  f('errorCode', 'int16', '0+'),
  f('protocolType', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
  f('protocolName', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
  f('assignment', 'bytes', '0+'),
]);
