/**
 * LeaveGroup (API key 13), versions 0-5: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const LeaveGroupRequest = message('LeaveGroupRequest', 13, 'request', '4+', [
  f('groupId', 'string', '0+'),
  f('memberId', 'string', '0-2'),
  arr('members', '3+', [
    f('memberId', 'string', '3+'),
    f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    f('reason', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
  ]),
]);

export const LeaveGroupResponse = message('LeaveGroupResponse', 13, 'response', '4+', [
  f('throttleTimeMs', 'int32', '1+', { ignorable: true }),
  f('errorCode', 'int16', '0+'),
  arr('members', '3+', [
    f('memberId', 'string', '3+'),
    f('groupInstanceId', 'string', '3+', { nullable: '3+' }),
    f('errorCode', 'int16', '3+'),
  ]),
]);
