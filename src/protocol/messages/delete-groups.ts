/**
 * DeleteGroups (API key 42), versions 0-2: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const DeleteGroupsRequest = message('DeleteGroupsRequest', 42, 'request', '2+', [
  f('groupsNames', '[]string', '0+'),
]);

export const DeleteGroupsResponse = message('DeleteGroupsResponse', 42, 'response', '2+', [
  f('throttleTimeMs', 'int32', '0+'),
  arr('results', '0+', [f('groupId', 'string', '0+'), f('errorCode', 'int16', '0+')]),
]);
