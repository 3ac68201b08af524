/**
 * ListGroups (API key 16), versions 0-5: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const ListGroupsRequest = message('ListGroupsRequest', 16, 'request', '3+', [
  f('statesFilter', '[]string', '4+'),
  f('typesFilter', '[]string', '5+'),
]);

export const ListGroupsResponse = message('ListGroupsResponse', 16, 'response', '3+', [
  f('throttleTimeMs', 'int32', '1+', { ignorable: true }),
  f('errorCode', 'int16', '0+'),
  arr('groups', '0+', [
    f('groupId', 'string', '0+'),
    f('protocolType', 'string', '0+'),
    f('groupState', 'string', '4+', { ignorable: true }),
    f('groupType', 'string', '5+', { ignorable: true }),
  ]),
]);
