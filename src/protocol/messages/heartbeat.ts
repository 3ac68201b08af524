/**
 * Heartbeat (API key 12), versions 0-4: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { f, message } from '../schema.js';

export const HeartbeatRequest = message('HeartbeatRequest', 12, 'request', '4+', [
  f('groupId', 'string', '0+'),
  f('generationId', 'int32', '0+'),
  f('memberId', 'string', '0+'),
  f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
]);

export const HeartbeatResponse = message('HeartbeatResponse', 12, 'response', '4+', [
  f('throttleTimeMs', 'int32', '1+', { ignorable: true }),
  f('errorCode', 'int16', '0+'),
]);
