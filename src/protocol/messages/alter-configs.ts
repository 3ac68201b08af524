/**
 * AlterConfigs (API key 33), versions 0-2: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const AlterConfigsRequest = message('AlterConfigsRequest', 33, 'request', '2+', [
  arr('resources', '0+', [
    f('resourceType', 'int8', '0+'),
    f('resourceName', 'string', '0+'),
    arr('configs', '0+', [f('name', 'string', '0+'), f('value', 'string', '0+', { nullable: '0+' })]),
  ]),
  f('validateOnly', 'bool', '0+'),
]);

export const AlterConfigsResponse = message('AlterConfigsResponse', 33, 'response', '2+', [
  f('throttleTimeMs', 'int32', '0+'),
  arr('responses', '0+', [
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+' }),
    f('resourceType', 'int8', '0+'),
    f('resourceName', 'string', '0+'),
  ]),
]);
