/**
 * DeleteTopics (API key 20), versions 0-6: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const DeleteTopicsRequest = message('DeleteTopicsRequest', 20, 'request', '4+', [
  arr('topics', '6+', [
    f('name', 'string', '6+', { nullable: '6+', default: null }),
    f('topicId', 'uuid', '6+'),
  ]),
  f('topicNames', '[]string', '0-5', { ignorable: true }),
  f('timeoutMs', 'int32', '0+'),
]);

export const DeleteTopicsResponse = message('DeleteTopicsResponse', 20, 'response', '4+', [
  f('throttleTimeMs', 'int32', '1+', { ignorable: true }),
  arr('responses', '0+', [
    f('name', 'string', '0+', { nullable: '6+' }),
    f('topicId', 'uuid', '6+', { ignorable: true }),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
  ]),
]);
